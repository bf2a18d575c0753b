--- BTF fuzzer, the child process (issue 13): mutates the .BTF and .BTF.ext
-- sections of real objects (bit flips, boundary values written over type
-- record fields, struct sizes shrunk under their members, array counts
-- grown, types made to refer to themselves) and takes each mutant through
-- every decoding path: bpf.btf_parse of the ELF and of the raw blob, then
-- sizeof/decode/encode/type of every type; bpf.open_buffer, obj.vars,
-- obj:btf(), load, typed map update/lookup, and a typed ring buffer.
-- Each step is logged (and flushed) before it is made.
--
--     lua5.4 spec/fuzz/btf.lua SEED FIRST COUNT LOGFILE TMPDIR
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

local SOURCES = {"spec/bpf/typed.bpf.o", "spec/bpf/events.bpf.o", "spec/bpf/hist.bpf.o"}
-- what one map of a mutant may ask the kernel for (see "maps before load")
local KERNEL_BYTES_CAP = 64 * 1024 * 1024


---------------------------------------------------------------------------
-- ELF64 little-endian section headers, and the BTF type records
---------------------------------------------------------------------------
local function sections(elf)
  local shoff = string.unpack("<I8", elf, 0x28 + 1)
  local shentsize, shnum, shstrndx = string.unpack("<I2I2I2", elf, 0x3a + 1)
  local function hdr(i)
    local base = shoff + i * shentsize + 1
    local name, _, _, _, off, size = string.unpack("<I4I4I8I8I8I8", elf, base)
    return name, off, size
  end
  local _, stroff = hdr(shstrndx)
  local t = {}
  for i = 0, shnum - 1 do
    local name, off, size = hdr(i)
    local n = string.unpack("z", elf, stroff + name + 1)
    t[n] = {off = off, size = size}
  end
  return t
end

-- kinds: 1 int, 2 ptr, 3 array, 4 struct, 5 union, 6 enum, 7 fwd, 8 typedef,
-- 9 volatile, 10 const, 11 restrict, 12 func, 13 func_proto, 14 var,
-- 15 datasec, 16 float, 17 decl_tag, 18 type_tag, 19 enum64
local function extra(kind, vlen)
  if kind == 1 or kind == 14 or kind == 17 then return 4
  elseif kind == 3 then return 12
  elseif kind == 4 or kind == 5 or kind == 15 or kind == 19 then return 12 * vlen
  elseif kind == 6 or kind == 13 then return 8 * vlen end
  return 0
end

-- offsets (in the blob, 0-based) of every type record, with kind and vlen
local function type_records(btf)
  local hdr_len, type_off, type_len = string.unpack("<I4I4I4", btf, 5)
  local pos, stop = hdr_len + type_off, hdr_len + type_off + type_len
  local recs = {}
  while pos + 12 <= stop and pos + 12 <= #btf do
    local info = string.unpack("<I4", btf, pos + 5)
    local kind, vlen = (info >> 24) & 0x1f, info & 0xffff
    recs[#recs + 1] = {off = pos, kind = kind, vlen = vlen}
    pos = pos + 12 + extra(kind, vlen)
  end
  return recs
end

---------------------------------------------------------------------------
-- Mutations
---------------------------------------------------------------------------
local BOUNDARY = {0, 1, 2, 0x7f, 0xff, 0xffff, 0x7fffffff, 0x80000000,
                  0xfffffffe, 0xffffffff, 0x10000, 0x1000000}

local function put32(s, off, v)
  return s:sub(1, off) .. string.pack("<I4", v & 0xffffffff) .. s:sub(off + 5)
end

local function get32(s, off) return string.unpack("<I4", s, off + 1) end

-- mutate a BTF blob; returns the mutant and what was done
local function mutate(btf, R)
  local recs = type_records(btf)
  local ntypes = #recs
  local how = R(9)
  local rec = recs[R(math.max(#recs, 1))]
  if how == 1 or not rec then
    local n = R(1, 4)
    for _ = 1, n do
      local i = R(0, #btf - 1)
      local b = btf:byte(i + 1) ~ (1 << R(0, 7))
      btf = btf:sub(1, i) .. string.char(b) .. btf:sub(i + 2)
    end
    return btf, ("[flip] %d bits"):format(n)
  elseif how == 2 then
    -- a boundary value over a field of a type record (name, info, size/type)
    local f = R(0, 2)
    local v = R(3) == 1 and (ntypes + R(-1, 1)) or BOUNDARY[R(#BOUNDARY)]
    return put32(btf, rec.off + 4 * f, v), ("[field] type@%d field %d = %d"):format(rec.off, f, v)
  elseif how == 3 or how == 4 then
    -- shrink a struct/union so that members lie outside it
    local structs = {}
    for _, r in ipairs(recs) do if r.kind == 4 or r.kind == 5 then structs[#structs + 1] = r end end
    if #structs == 0 then return btf, "none" end
    local r = structs[R(#structs)]
    local size = get32(btf, r.off + 8)
    local new = R(3) == 1 and 0 or R(0, math.max(size - 1, 0))
    return put32(btf, r.off + 8, new), ("[shrink] struct@%d size %d -> %d"):format(r.off, size, new)
  elseif how == 5 then
    -- grow an array's element count
    local arrays = {}
    for _, r in ipairs(recs) do if r.kind == 3 then arrays[#arrays + 1] = r end end
    if #arrays == 0 then return btf, "none" end
    local r = arrays[R(#arrays)]
    local v = BOUNDARY[R(#BOUNDARY)]
    return put32(btf, r.off + 12 + 8, v), ("[nelems] array@%d nelems = %d"):format(r.off, v)
  elseif how == 6 then
    -- a member's (or var's, array's, pointee's) type made to point back to
    -- its own or an enclosing type: deep or endless nesting
    local self_id
    for i, r in ipairs(recs) do if r == rec then self_id = i end end
    if rec.kind == 4 or rec.kind == 5 then
      if rec.vlen == 0 then return btf, "none" end
      local m = R(0, rec.vlen - 1)
      return put32(btf, rec.off + 12 + 12 * m + 4, self_id),
             ("[self] struct@%d member %d type = self %d"):format(rec.off, m, self_id)
    elseif rec.kind == 3 then
      return put32(btf, rec.off + 12, self_id), ("[self] array@%d elem = self %d"):format(rec.off, self_id)
    end
    return put32(btf, rec.off + 8, self_id), ("[self] type@%d type = self %d"):format(rec.off, self_id)
  elseif how == 7 then
    -- member bit offsets and bitfield sizes out of range
    if (rec.kind ~= 4 and rec.kind ~= 5) or rec.vlen == 0 then return btf, "none" end
    local m = R(0, rec.vlen - 1)
    local v = BOUNDARY[R(#BOUNDARY)]
    return put32(btf, rec.off + 12 + 12 * m + 8, v), ("[moffset] struct@%d member %d offset = %d"):format(rec.off, m, v)
  elseif how == 8 then
    -- vlen grown: records run into the next ones and past the end
    local info = get32(btf, rec.off + 4)
    local v = (info & ~0xffff) | R(0, 0xffff)
    return put32(btf, rec.off + 4, v), ("[vlen] type@%d vlen = %d"):format(rec.off, v & 0xffff)
  else
    -- header fields: type/string section offsets and lengths
    local f = R(2, 5)
    local v = BOUNDARY[R(#BOUNDARY)]
    return put32(btf, 4 * f, v), ("[header] field %d = %d"):format(f, v)
  end
end

local function mutate_ext(ext, R)
  if #ext < 8 then return ext, "none" end
  if R(2) == 1 then
    local i = R(0, #ext - 1)
    local b = ext:byte(i + 1) ~ (1 << R(0, 7))
    return ext:sub(1, i) .. string.char(b) .. ext:sub(i + 2), ("[ext] flip @%d"):format(i)
  end
  local off = 4 * R(1, (#ext - 4) // 4)
  local v = BOUNDARY[R(#BOUNDARY)]
  return put32(ext, off, v), ("[ext] u32@%d = %d"):format(off, v)
end

---------------------------------------------------------------------------
-- Decode paths
---------------------------------------------------------------------------
local function try_types(btf, tag, R)
  local n = 0
  step(tag .. " count", function() n = btf.count end)
  if math.type(n) ~= "integer" then return end
  for id = 1, math.min(n, 150) do
    local size
    if step(("%s sizeof(%d)"):format(tag, id), function() size = btf:sizeof(id) end) then
      step(("%s type(%d)"):format(tag, id), btf.type, btf, id)
      if math.type(size) == "integer" and size >= 0 and size <= 1 << 20 then
        local bytes = R(2) == 1 and ("\0"):rep(size) or
          string.rep(string.char(R(0, 255)), size)
        local v
        step(("%s decode(%d, %d bytes)"):format(tag, id, size), function()
          v = btf:decode(id, bytes)
        end)
        step(("%s encode(%d, decoded)"):format(tag, id), btf.encode, btf, id, v)
        step(("%s encode(%d, {})"):format(tag, id), btf.encode, btf, id, {})
      end
    end
  end
  for _, name in ipairs({"struct event", "struct command", "enum color", "struct inner", "__u32"}) do
    step(("%s find/decode(%q)"):format(tag, name), function()
      if btf:find(name) then
        local s = btf:sizeof(name)
        if s <= 1 << 20 then btf:encode(name, btf:decode(name, ("\0"):rep(s))) end
      end
    end)
  end
end

local function try_object(bytes, tag, R, load)
  local obj
  if not step(tag .. " open_buffer", function() obj = bpf.open_buffer(bytes, {name = "fuzz"}) end) or not obj then
    return
  end
  local function vars()
    step(tag .. " vars", function()
      local vs = obj.vars
      for k, v in pairs(vs) do
        local ok = pcall(function() vs[k] = v end)
        if not ok then pcall(function() vs[k] = 0 end) end
      end
    end)
  end
  vars()
  step(tag .. " obj:btf()", function()
    local b = obj:btf()
    if b then try_types(b, tag .. " objbtf", R) end
  end)
  step(tag .. " maps before load", function()
    for _, m in pairs(obj.maps) do
      -- A mutant's max_entries (BTF nr_elems) is a valid request the kernel
      -- honours: 2^31 per-CPU elements make it allocate for minutes until
      -- the OOM killer ends the run. The module passes sizes through as
      -- libbpf does, so keep what the kernel is asked for small.
      local per = (m.key_size or 0) + (m.value_size or 0)
      local cpus = tostring(m.type):find("percpu") and 2 or 1
      if (m.max_entries or 0) * math.max(per, 1) * cpus > KERNEL_BYTES_CAP then
        m:set_max_entries(m.type == "ringbuf" and 65536 or 64)
      end
    end
  end)
  if load then
    local ok = false
    step(tag .. " load", function() ok = obj:load() end)
    if ok then
      vars()
      step(tag .. " typed map ops", function()
        for name, m in pairs(obj.maps) do
          if m.type == "hash" or m.type == "array" or m.type == "percpu_array" then
            pcall(function()
              local v = m:lookup(0)
              m:update(1, v or {})
              m:lookup(1)
              for _ in m:pairs() do end
            end)
          end
          local _ = name
        end
      end)
      if obj.maps.events and obj.maps.events.type == "ringbuf" and obj.progs.emit then
        step(tag .. " typed ringbuf", function()
          local rb = bpf.ringbuf(obj.maps.events, function(ev) local _, _ = ev.seq, ev.comm end,
                                 {type = "struct event"})
          if not rb then return end
          obj.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 5, 0, 0, 0)}
          rb:consume()
          rb:close()
        end)
        step(tag .. " typed ringbuf batch", function()
          local rb = bpf.ringbuf(obj.maps.events, function(b)
            b:column("seq"); b:column("comm")
            for _, ev in ipairs(b) do local _ = ev.pid end
          end, {type = "struct event", batch = true})
          if not rb then return end
          obj.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 5, 0, 0, 0)}
          rb:consume()
          rb:close()
        end)
      end
    end
  end
  step(tag .. " close", function() obj:close() end)
end

math.randomseed(SEED)
local R = math.random
local srcs = {}
for i, p in ipairs(SOURCES) do
  local elf = readfile(p)
  local sec = sections(elf)
  srcs[i] = {path = p, elf = elf, btf = sec[".BTF"], ext = sec[".BTF.ext"]}
end

local done = 0
for n = FIRST, FIRST + COUNT - 1 do
  -- each mutant from its own stream: mutant n is the same in any chunk
  math.randomseed(SEED * 1000003 + n)
  local src = srcs[R(#srcs)]
  local btf = src.elf:sub(src.btf.off + 1, src.btf.off + src.btf.size)
  local ext = src.ext and src.elf:sub(src.ext.off + 1, src.ext.off + src.ext.size) or ""
  local what = {}
  for _ = 1, R(1, 3) do
    local d
    if R(5) == 1 and #ext > 0 then ext, d = mutate_ext(ext, R) else btf, d = mutate(btf, R) end
    what[#what + 1] = d
  end
  local kinds = {}
  for _, d in ipairs(what) do kinds[#kinds + 1] = d:match("^%[(%w+)%]") or "none" end
  -- the step lines carry the mutation kinds, for spec/fuzz/known.lua
  local tag = ("mutant %d <%s>"):format(n, table.concat(kinds, ","))
  log(("%s of %s: %s"):format(tag, src.path, table.concat(what, "; ")))
  -- the same length: the ELF layout stays as it was
  local elf = src.elf:sub(1, src.btf.off) .. btf .. src.elf:sub(src.btf.off + src.btf.size + 1)
  if src.ext then
    elf = elf:sub(1, src.ext.off) .. ext .. elf:sub(src.ext.off + src.ext.size + 1)
  end
  local raw, file = TMP .. "/raw.btf", TMP .. "/mutant.o"
  writefile(raw, btf)
  writefile(file, elf)
  for _, p in ipairs({raw, file}) do
    local b
    step(("%s btf_parse(%s)"):format(tag, p == raw and "raw" or "elf"), function()
      b = bpf.btf_parse(p)
    end)
    if b then
      try_types(b, tag, R)
      step(tag .. " btf close", b.close, b)
    end
  end
  try_object(elf, tag, R, R(4) == 1)
  if n % 20 == 0 then step(tag .. " collectgarbage", collectgarbage) end
  done = done + 1
end
collectgarbage()
print("FUZZ DONE " .. done)
LOG:close()
