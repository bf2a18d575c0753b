--- Symbols for stack traces: kernel symbols from `/proc/kallsyms`, user
-- symbols from ELF symbol tables (read with libelf by `libbpf.core`), user
-- addresses mapped through `/proc/PID/maps`, and stack-map values decoded to
-- address lists.
--
--     local syms = require "libbpf.syms"
--     for _, addr in ipairs(syms.stack(raw_value)) do
--       print(syms.ksym(addr))                       --> "do_sys_openat2", 0x1c
--     end
--     local user = syms.process(pid)
--     print(user:resolve(addr))                      --> "readline", 0x10, "/usr/bin/bash"
--
-- Kernel addresses are above 2^63: as Lua integers they are negative, so
-- everything here compares addresses with `math.ult`.
-- @module libbpf.syms
local M = {}

local ult = math.ult

-- largest index i with list[i].addr <= addr (unsigned), or nil
local function floor_index(list, addr)
  local lo, hi, found = 1, #list, nil
  while lo <= hi do
    local mid = (lo + hi) // 2
    local a = list[mid].addr
    if a == addr or ult(a, addr) then
      found, lo = mid, mid + 1
    else
      hi = mid - 1
    end
  end
  return found
end

local function by_addr(a, b)
  if a.addr == b.addr then return a.name < b.name end
  return ult(a.addr, b.addr)
end

-- -------------------------------------------------------------------------
-- Kernel symbols

local KSyms = {}
KSyms.__index = KSyms

--- Load kernel symbols from a kallsyms-format file.
-- @tparam[opt="/proc/kallsyms"] string path
-- @treturn KSyms table of symbols sorted by address, or `nil, message`
--   (also when every address reads 0, i.e. `kptr_restrict` hides them)
-- @usage local ks = assert(syms.load_kallsyms())
-- print(ks:resolve(ks:addr("do_nanosleep") + 4))
function M.load_kallsyms(path)
  path = path or "/proc/kallsyms"
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local data = f:read("a")
  f:close()
  local list, nonzero = {}, false
  for addr, kind, name, module in data:gmatch("(%x+) (%a) (%S+)([^\n]*)") do
    local a = tonumber(addr, 16)
    if a ~= 0 then nonzero = true end
    list[#list + 1] = { addr = a, name = name, kind = kind,
                        module = module:match("%[(.-)%]") }
  end
  if not nonzero then
    return nil, path .. ": all addresses are 0 (kernel.kptr_restrict or not root)"
  end
  table.sort(list, by_addr)
  local by_name = {}
  for _, s in ipairs(list) do
    if not by_name[s.name] then by_name[s.name] = s end
  end
  return setmetatable({ list = list, by_name = by_name }, KSyms)
end

--- The kernel symbol containing `addr`.
-- @tparam integer addr kernel address
-- @treturn string|nil name, or nil below the first symbol
-- @treturn integer offset of `addr` from the symbol
-- @treturn string|nil module name for module symbols
-- @usage local name, off, module = ks:resolve(addr)
function KSyms:resolve(addr)
  local i = floor_index(self.list, addr)
  if not i then return nil end
  local s = self.list[i]
  return s.name, addr - s.addr, s.module
end

--- Address of kernel symbol `name` (first one when several share it).
-- @tparam string name
-- @treturn integer|nil address
-- @usage local a = ks:addr("do_sys_openat2")
function KSyms:addr(name)
  local s = self.by_name[name]
  return s and s.addr
end

local default_ksyms

--- Resolve a kernel address with the (cached) `/proc/kallsyms` table.
-- @tparam integer addr
-- @treturn string|nil name
-- @treturn integer offset
-- @treturn string|nil module
-- @usage print(syms.format(syms.ksym(addr)))
function M.ksym(addr)
  if not default_ksyms then
    default_ksyms = assert(M.load_kallsyms())
  end
  return default_ksyms:resolve(addr)
end

--- Address of a kernel symbol from the cached `/proc/kallsyms` table.
-- @tparam string name
-- @treturn integer|nil
-- @usage local a = syms.ksym_addr("do_nanosleep")
function M.ksym_addr(name)
  if not default_ksyms then
    default_ksyms = assert(M.load_kallsyms())
  end
  return default_ksyms:addr(name)
end

-- -------------------------------------------------------------------------
-- ELF symbols

local Elf = {}
Elf.__index = Elf
local elf_cache = {}

--- Function symbols of an ELF file, sorted, cached per path.
-- @tparam string path executable or shared library
-- @treturn Elf with `:resolve(vaddr)`, `.type` ("exec", "dyn") and `.loads`
--   (PT_LOAD segments), or `nil, message, errno`
-- @usage local e = assert(syms.elf("/bin/sh"))
-- print(e.type, #e.loads)
function M.elf(path)
  local cached = elf_cache[path]
  if cached then return cached end
  local core = require "libbpf.core"
  local list, layout, code = core.elf_symbols(path)
  if not list then return nil, layout, code end
  table.sort(list, by_addr)
  -- .symtab and .dynsym repeat names: keep one entry per (addr, name)
  local uniq = {}
  for _, s in ipairs(list) do
    local last = uniq[#uniq]
    if not (last and last.addr == s.addr and last.name == s.name) then
      uniq[#uniq + 1] = s
    end
  end
  local e = setmetatable({ path = path, list = uniq, type = layout.type,
                           loads = layout.loads }, Elf)
  elf_cache[path] = e
  return e
end

--- File offset of a function symbol: its ELF virtual address turned into a
-- position in the file through the PT_LOAD segment that maps it (what
-- uprobes take as `offset` without `func`).
-- @tparam string name the symbol's name
-- @treturn integer the file offset, or `nil, message, errno` (ENOENT)
-- @usage local off = assert(e:file_offset("main"))
function Elf:file_offset(name)
  for _, s in ipairs(self.list) do
    if s.name == name then
      for _, seg in ipairs(self.loads) do
        if s.addr >= seg.vaddr and s.addr < seg.vaddr + seg.filesz then
          return s.addr - seg.vaddr + seg.offset
        end
      end
      return nil, ("symbol '%s' of %s is in no loaded segment"):format(name, self.path), 2
    end
  end
  return nil, ("no function '%s' in %s"):format(name, self.path), 2
end

--- The function containing ELF virtual address `vaddr`.
-- Past the end of a sized symbol the address is not attributed to it.
-- @tparam integer vaddr
-- @treturn string|nil name
-- @treturn integer offset from the start of the function
-- @usage local name, off = e:resolve(vaddr)
function Elf:resolve(vaddr)
  local i = floor_index(self.list, vaddr)
  if not i then return nil end
  local s = self.list[i]
  local off = vaddr - s.addr
  if s.size > 0 and off >= s.size then
    -- an unsized neighbour at the same address may still cover it
    return nil
  end
  return s.name, off
end

--- ELF virtual address of a byte at `file_offset` in the file.
-- @tparam integer file_offset
-- @treturn integer|nil vaddr, nil when no PT_LOAD segment maps that offset
-- @usage local vaddr = e:vaddr_of(file_offset)
function Elf:vaddr_of(file_offset)
  for _, seg in ipairs(self.loads) do
    if file_offset >= seg.offset and file_offset < seg.offset + seg.filesz then
      return file_offset - seg.offset + seg.vaddr
    end
  end
  return nil
end

-- -------------------------------------------------------------------------
-- /proc/PID/maps

--- Parse the text of a `/proc/PID/maps` file.
-- @tparam string text
-- @treturn {table,...} list of `{start=, finish=, perms=, offset=, inode=, path=}`
-- @usage for _, m in ipairs(syms.parse_maps(io.open("/proc/self/maps"):read("a"))) do print(m.path) end
function M.parse_maps(text)
  local maps = {}
  for line in text:gmatch("[^\n]+") do
    local s, e, perms, off, inode, path =
      line:match("^(%x+)%-(%x+) (%S+) (%x+) %S+ (%d+)%s*(.*)$")
    if s then
      maps[#maps + 1] = { start = tonumber(s, 16), finish = tonumber(e, 16),
                          perms = perms, offset = tonumber(off, 16),
                          inode = tonumber(inode), path = path }
    end
  end
  return maps
end

local Proc = {}
Proc.__index = Proc

--- A resolver for the user addresses of process `pid`.
-- The maps are read now: call again after the process maps new code.
-- @tparam integer pid
-- @treturn Proc with `:resolve(addr)`, or `nil, message`
-- @usage local p = assert(syms.process(pid))
-- print(p:resolve(addr))
function M.process(pid)
  local f, err = io.open(("/proc/%d/maps"):format(pid), "r")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  local maps = {}
  for _, m in ipairs(M.parse_maps(text)) do
    if m.perms:sub(3, 3) == "x" and m.path:sub(1, 1) == "/" then
      maps[#maps + 1] = m
    end
  end
  return setmetatable({ pid = pid, maps = maps }, Proc)
end

--- Resolve a user address of the process.
-- For a PIE executable or a shared library the address is first taken back
-- to the file offset (`addr - start + offset`), then to the ELF virtual
-- address through the PT_LOAD segment holding that offset.
-- @tparam integer addr
-- @treturn string|nil function name (nil when unknown)
-- @treturn integer|nil offset from the function, or from the mapping when unnamed
-- @treturn string|nil path of the mapped file
-- @usage local name, off, path = p:resolve(addr)
function Proc:resolve(addr)
  for _, m in ipairs(self.maps) do
    if not ult(addr, m.start) and ult(addr, m.finish) then
      local file_off = addr - m.start + m.offset
      -- symbols of a mapped file: try the process's root (containers) first
      local elf = M.elf(("/proc/%d/root%s"):format(self.pid, m.path)) or M.elf(m.path)
      if not elf then return nil, file_off, m.path end
      local vaddr = addr
      if elf.type == "dyn" then
        vaddr = elf:vaddr_of(file_off) or file_off
      end
      local name, off = elf:resolve(vaddr)
      if name then return name, off, m.path end
      return nil, file_off, m.path
    end
  end
  return nil
end

-- -------------------------------------------------------------------------
-- Stack traces

--- Addresses of a stack-trace map value, innermost first.
-- Accepts the raw bytes (`map:lookup(id, {raw=true})`) or the list of
-- integers a BTF-decoded `__u64[N]` value gives; stops at the first 0.
-- @tparam string|{integer,...} value
-- @treturn {integer,...} addresses
-- @usage local raw = obj.maps.stacks:lookup(id, {raw = true})
-- for _, a in ipairs(syms.stack(raw)) do print(syms.format(syms.ksym(a))) end
function M.stack(value)
  local addrs = {}
  if type(value) == "string" then
    local pos = 1
    while pos + 7 <= #value do
      local a
      a, pos = string.unpack("=I8", value, pos)
      if a == 0 then break end
      addrs[#addrs + 1] = a
    end
  else
    for _, a in ipairs(value) do
      if a == 0 then break end
      addrs[#addrs + 1] = a
    end
  end
  return addrs
end

--- Format a resolved frame like bcc does: `name+0x1c` or `[unknown]`.
-- @tparam string|nil name
-- @tparam[opt] integer offset
-- @treturn string
-- @usage print(syms.format("do_nanosleep", 0x1c))   --> do_nanosleep+0x1c
function M.format(name, offset)
  if not name then return "[unknown]" end
  if offset and offset ~= 0 then return ("%s+0x%x"):format(name, offset) end
  return name
end

return M
