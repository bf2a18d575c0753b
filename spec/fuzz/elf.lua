--- ELF fuzzer, the child process (issue 13): mutates the ELF structure of
-- real objects, a libbpf one (spec/bpf/{events,typed}.bpf.o) and the
-- iproute2/bpf_map_def ones (spec/bpf/legacy/*.o): ELF header fields (class,
-- endianness, machine, e_shoff/e_shnum/e_shentsize/e_shstrndx), section
-- header fields (sh_name/type/offset/size/link/info/entsize), symbols
-- (st_name/info/shndx/value/size), relocations (r_offset, symbol index,
-- type), code section sizes, the legacy `maps` records (struct bpf_elf_map
-- fields), truncation at section and table boundaries and bit flips. Each
-- mutant goes through bpf.open_buffer or bpf.open (file), and when that
-- succeeds through the map/program accessors, obj:sections(), and for some
-- of them obj:load() and a lookup in each map. Each step is logged (and
-- flushed) before it is made.
--
--     lua5.4 spec/fuzz/elf.lua SEED FIRST COUNT LOGFILE TMPDIR PINDIR
--
-- Mutants FIRST..FIRST+COUNT-1 of SEED; ends by printing "FUZZ DONE <n>".
local bpf = require "libbpf"

local SEED = assert(tonumber(arg[1]))
local FIRST = assert(tonumber(arg[2]))
local COUNT = assert(tonumber(arg[3]))
local steps = require "fuzz.steps"
local log, step, LOG = steps.open_log(assert(arg[4]))
local readfile, writefile = steps.readfile, steps.writefile
local TMP = assert(arg[5])
local PINS = assert(arg[6])

bpf.set_print(function() end, "debug")   -- all of libbpf: any line on stderr is a call outside a print frame

local SOURCES = {"spec/bpf/events.bpf.o", "spec/bpf/typed.bpf.o",
                 "spec/bpf/legacy/iproute2_counters.o", "spec/bpf/legacy/iproute2_queue.o",
                 "spec/bpf/legacy/iproute2_attach.o", "spec/bpf/legacy/mapdef_socket.o",
                 "spec/bpf/legacy/mapinmap_key8.o"}
-- what one map of a mutant may ask the kernel for (see spec/fuzz/btf.lua)
local KERNEL_BYTES_CAP = 64 * 1024 * 1024


---------------------------------------------------------------------------
-- ELF64 little-endian layout of the sources
---------------------------------------------------------------------------
-- section header fields: name, byte offset in the header, width
local SH_FIELDS = {
  {"sh_name", 0, 4}, {"sh_type", 4, 4}, {"sh_flags", 8, 8}, {"sh_offset", 24, 8},
  {"sh_size", 32, 8}, {"sh_link", 40, 4}, {"sh_info", 44, 4}, {"sh_entsize", 56, 8},
}
local SYM_FIELDS = {
  {"st_name", 0, 4}, {"st_info", 4, 1}, {"st_other", 5, 1}, {"st_shndx", 6, 2}, {"st_value", 8, 8}, {"st_size", 16, 8},
}
local EH_FIELDS = {
  {"ei_class", 4, 1}, {"ei_data", 5, 1}, {"e_type", 16, 2}, {"e_machine", 18, 2},
  {"e_shoff", 40, 8}, {"e_shentsize", 58, 2}, {"e_shnum", 60, 2}, {"e_shstrndx", 62, 2},
}
local SHT = {SYMTAB = 2, STRTAB = 3, RELA = 4, NOBITS = 8, REL = 9}

local function layout(elf)
  local L = {shoff = string.unpack("<I8", elf, 0x28 + 1), secs = {}}
  local shnum, shstrndx = string.unpack("<I2I2", elf, 0x3c + 1)
  L.shnum = shnum
  for i = 0, shnum - 1 do
    local base = L.shoff + 64 * i
    local name, typ, flags, _, off, size, link, info, _, entsize =
      string.unpack("<I4I4I8I8I8I8I4I4I8I8", elf, base + 1)
    L.secs[i] = {index = i, hdr = base, name_off = name, type = typ, flags = flags,
                 off = off, size = size, link = link, info = info, entsize = entsize}
  end
  local strs = L.secs[shstrndx].off
  for i = 0, shnum - 1 do
    local s = L.secs[i]
    s.name = string.unpack("z", elf, strs + s.name_off + 1)
    if s.type == SHT.SYMTAB then L.symtab = s end
    if s.name == "maps" then L.maps = s end
  end
  return L
end

local function of_type(L, pred)
  local t = {}
  for i = 0, L.shnum - 1 do if pred(L.secs[i]) then t[#t + 1] = L.secs[i] end end
  return t
end

---------------------------------------------------------------------------
-- Mutations
---------------------------------------------------------------------------
local BOUNDARY = {0, 1, 2, 3, 4, 7, 8, 16, 24, 0x7f, 0xff, 0xfff0, 0xffff, 0x7fffffff,
                  0x80000000, 0xffffffff, 0x100000000, 0x7fffffffffffffff, -1, -8}

local function put(s, off, width, v)
  local fmt = ({[1] = "<I1", [2] = "<I2", [4] = "<I4", [8] = "<i8"})[width]
  if width < 8 then v = v & ((1 << (8 * width)) - 1) end
  return s:sub(1, off) .. string.pack(fmt, v) .. s:sub(off + width + 1)
end

local function get(s, off, width)
  local fmt = ({[1] = "<I1", [2] = "<I2", [4] = "<I4", [8] = "<i8"})[width]
  return (string.unpack(fmt, s, off + 1))
end

-- a value for a field: a boundary, a neighbour of the old one, or one that
-- is plausible for the object (a section index, a file offset, the size)
local function value(R, old, L, elf)
  local k = R(5)
  if k == 1 then return BOUNDARY[R(#BOUNDARY)]
  elseif k == 2 then return old + R(-9, 9)
  elseif k == 3 then return R(0, L.shnum + 1)
  elseif k == 4 then return #elf + R(-64, 64)
  end
  return L.secs[R(0, L.shnum - 1)][({"off", "size", "link", "info", "index"})[R(5)]]
end

local function mutate(elf, L, R)
  local how = R(12)
  if how == 11 then
    -- one section header copied over another: two sections with one name
    -- (two symbol tables, two .BTF, two `maps`), or one's data in two
    local a, b = R(1, L.shnum - 1), R(1, L.shnum - 1)
    local ha, hb = L.secs[a].hdr, L.secs[b].hdr
    local keep = R(2) == 1   -- keep b's name: same name, other header
    local hdr = elf:sub(ha + 1, ha + 64)
    if keep then hdr = elf:sub(hb + 1, hb + 4) .. hdr:sub(5) end
    return elf:sub(1, hb) .. hdr .. elf:sub(hb + 65),
           ("[dup] header of %s(%d) over %s(%d)%s"):format(L.secs[a].name, a, L.secs[b].name, b,
                                                        keep and " keeping its name" or "")
  elseif how == 12 then
    -- a symbol moved to another section, or a section's type made
    -- NOBITS/NULL (its data unread)
    if R(2) == 1 and L.symtab and L.symtab.size >= 48 then
      local i = R(1, L.symtab.size // 24 - 1)
      local at = L.symtab.off + 24 * i + 6
      local v = R(1, L.shnum - 1)
      return put(elf, at, 2, v), ("[rehome] symbol %d to section %d"):format(i, v)
    end
    local s = L.secs[R(1, L.shnum - 1)]
    local v = ({0, 8})[R(2)]
    return put(elf, s.hdr + 4, 4, v), ("[shdr] %s(%d).sh_type %d -> %d"):format(s.name, s.index, s.type, v)
  elseif how == 1 then
    local f = EH_FIELDS[R(#EH_FIELDS)]
    local old = get(elf, f[2], f[3])
    local v = f[1]:match("^ei_") and R(0, 3) or value(R, old, L, elf)
    return put(elf, f[2], f[3], v), ("[ehdr] %s %d -> %d"):format(f[1], old, v)
  elseif how == 2 or how == 3 then
    local s = L.secs[R(0, L.shnum - 1)]
    local f = SH_FIELDS[R(#SH_FIELDS)]
    local old = get(elf, s.hdr + f[2], f[3])
    local v = value(R, old, L, elf)
    if f[1] == "sh_type" and R(2) == 1 then
      local types = {0, 1, 2, 3, 4, 8, 9, 11, 0x6ffffff0}
      v = types[R(#types)]
    end
    return put(elf, s.hdr + f[2], f[3], v),
           ("[shdr] %s(%d).%s %d -> %d"):format(s.name, s.index, f[1], old, v)
  elseif how == 4 or how == 5 then
    local st = L.symtab
    if not st or st.size < 48 then return elf, "none" end
    local i = R(1, st.size // 24 - 1)
    local f = SYM_FIELDS[R(#SYM_FIELDS)]
    local at = st.off + 24 * i + f[2]
    local old = get(elf, at, f[3])
    local v = value(R, old, L, elf)
    if f[1] == "st_shndx" and R(3) == 1 then v = ({0, 0xfff1, 0xfff2, 0xff00, 0xffff})[R(5)] end
    if f[1] == "st_info" or f[1] == "st_other" then v = R(0, 255) end
    return put(elf, at, f[3], v), ("[sym] %d.%s %d -> %d"):format(i, f[1], old, v)
  elseif how == 6 then
    local rels = of_type(L, function(s) return (s.type == SHT.REL or s.type == SHT.RELA) and s.size >= 16 end)
    if #rels == 0 then return elf, "none" end
    local s = rels[R(#rels)]
    local i = R(0, s.size // 16 - 1)
    local at = s.off + 16 * i
    local off, info = get(elf, at, 8), get(elf, at + 8, 8)
    local k = R(3)
    if k == 1 then
      local v = value(R, off, L, elf)
      return put(elf, at, 8, v), ("[rel] %s %d r_offset %d -> %d"):format(s.name, i, off, v)
    elseif k == 2 then
      local sym = R(2) == 1 and value(R, info >> 32, L, elf) or R(0, 40)
      return put(elf, at + 8, 8, (sym << 32) | (info & 0xffffffff)),
             ("[rel] %s %d sym %d -> %d"):format(s.name, i, info >> 32, sym)
    end
    local t = R(0, 12)
    return put(elf, at + 8, 8, (info & ~0xffffffff) | t), ("[rel] %s %d type -> %d"):format(s.name, i, t)
  elseif how == 7 then
    -- a code section (or the maps section) grown or shrunk a little
    local code = of_type(L, function(s) return s.flags & 4 ~= 0 or s.name == "maps" end)
    if #code == 0 then return elf, "none" end
    local s = code[R(#code)]
    local v = math.max(0, s.size + ({-8, -4, -1, 1, 4, 8, 16, -s.size})[R(8)])
    return put(elf, s.hdr + 32, 8, v), ("[secsize] %s %d -> %d"):format(s.name, s.size, v)
  elseif how == 8 then
    -- a field of a legacy map definition (struct bpf_elf_map: type, key,
    -- value, max_entries, flags, id, pinning, inner_id, inner_idx)
    local m = L.maps
    if not m or m.size < 4 then return elf, "none" end
    local at = m.off + 4 * R(0, m.size // 4 - 1)
    local old = get(elf, at, 4)
    local v = R(2) == 1 and BOUNDARY[R(#BOUNDARY)] or R(0, 40)
    return put(elf, at, 4, v), ("[maps] u32@%d %d -> %d"):format(at - m.off, old, v)
  elseif how == 9 then
    -- truncation at a boundary: a section's start or end, inside the
    -- header table, inside the ELF header
    local cuts = {0, 4, 16, 52, 63, 64, L.shoff, L.shoff + 64, #elf - 64, #elf - 1}
    for i = 0, L.shnum - 1 do
      local s = L.secs[i]
      cuts[#cuts + 1] = s.off
      cuts[#cuts + 1] = s.off + s.size
      cuts[#cuts + 1] = s.off + s.size - 1
    end
    local n = math.max(0, math.min(cuts[R(#cuts)], #elf))
    return elf:sub(1, n), ("[trunc] %d of %d bytes"):format(n, #elf)
  end
  local n = R(1, 4)
  for _ = 1, n do
    local i = R(0, #elf - 1)
    elf = elf:sub(1, i) .. string.char(elf:byte(i + 1) ~ (1 << R(0, 7))) .. elf:sub(i + 2)
  end
  return elf, ("[flip] %d bits"):format(n)
end

---------------------------------------------------------------------------
-- What is done with a mutant
---------------------------------------------------------------------------
local MAP_FIELDS = {"name", "type", "key_size", "value_size", "max_entries", "flags", "fd"}
local PROG_FIELDS = {"name", "section", "type", "fd", "autoload", "insn_cnt"}

local function accessors(tag, obj)
  -- global variables: read through the internal maps' memory (.bss,
  -- .data, .rodata), whose size comes from the section headers
  step(tag .. " vars", function()
    local vs = obj.vars
    for k, v in pairs(vs) do
      local ok = pcall(function() vs[k] = v end)
      if not ok then pcall(function() vs[k] = 0 end) end
    end
  end)
  step(tag .. " sections", function()
    for _, s in ipairs((obj:sections())) do local _ = s.name end
  end)
  step(tag .. " map fields", function()
    for _, m in pairs(obj.maps) do
      for _, f in ipairs(MAP_FIELDS) do pcall(function() return m[f] end) end
    end
  end)
  step(tag .. " prog fields", function()
    for _, p in pairs(obj.progs) do
      for _, f in ipairs(PROG_FIELDS) do pcall(function() return p[f] end) end
    end
  end)
end

local function try_object(elf, file, tag, R, load)
  local obj
  local opts = {name = "fuzz", pin_root_path = PINS}
  if R(3) == 1 then
    writefile(file, elf)
    step(tag .. " open(file)", function() obj = bpf.open(file, opts) end)
  else
    step(tag .. " open_buffer", function() obj = bpf.open_buffer(elf, opts) end)
  end
  if not obj then return end
  accessors(tag, obj)
  -- A mutant's max_entries is a request the kernel honours (2^31 array
  -- elements kept it allocating for 10 s, 30 s under ASan: seed 2, mutant
  -- 13355). libbpf maps are capped; a legacy object's maps cannot be
  -- resized (set_max_entries is libbpf's), so such a mutant is not loaded.
  local big = false
  step(tag .. " maps before load", function()
    for _, m in pairs(obj.maps) do
      local per = (m.key_size or 0) + (m.value_size or 0)
      local cpus = tostring(m.type):find("percpu") and 2 or 1
      if (m.max_entries or 0) * math.max(per, 1) * cpus > KERNEL_BYTES_CAP and
         not pcall(m.set_max_entries, m, m.type == "ringbuf" and 65536 or 64) then
        big = true
      end
    end
  end)
  if big then log(tag .. " (not loaded: a map asks for more than 64 MiB)") end
  if load and not big then
    local ok = false
    step(tag .. " load", function() ok = obj:load() end)
    if ok then
      accessors(tag .. " loaded", obj)
      step(tag .. " map lookups", function()
        for _, m in pairs(obj.maps) do
          pcall(function()
            local ks = m.key_size
            if ks and ks > 0 and ks <= 64 then m:lookup(("\0"):rep(ks)) end
          end)
        end
      end)
    end
  end
  step(tag .. " close", function() obj:close() end)
end

math.randomseed(SEED)
local R = math.random
local srcs = {}
for i, p in ipairs(SOURCES) do
  local elf = readfile(p)
  srcs[i] = {path = p, elf = elf, L = layout(elf)}
end

local done = 0
for n = FIRST, FIRST + COUNT - 1 do
  -- each mutant from its own stream: mutant n is the same in any chunk
  math.randomseed(SEED * 1000003 + n)
  local src = srcs[R(#srcs)]
  local elf = src.elf
  local what = {}
  for _ = 1, R(1, 3) do
    local d
    -- later mutations see the original layout: a truncation last
    elf, d = mutate(elf, src.L, R)
    what[#what + 1] = d
    if d:match("^%[trunc%]") then break end
  end
  local kinds = {}
  for _, d in ipairs(what) do kinds[#kinds + 1] = d:match("^%[(%w+)%]") or "none" end
  -- the step lines carry the mutation kinds, for spec/fuzz/known.lua
  local tag = ("mutant %d <%s>"):format(n, table.concat(kinds, ","))
  log(("%s of %s: %s"):format(tag, src.path, table.concat(what, "; ")))
  writefile(TMP .. "/last.o", elf)
  try_object(elf, TMP .. "/mutant.o", tag, R, R(3) == 1)
  if n % 20 == 0 then step(tag .. " collectgarbage", collectgarbage) end
  done = done + 1
end
collectgarbage()
print("FUZZ DONE " .. done)
LOG:close()
