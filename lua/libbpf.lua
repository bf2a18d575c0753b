--- lua-libbpf: the whole life of a BPF program from Lua 5.4, through libbpf.
--
-- `require "libbpf"` returns the C core (`libbpf.core`) with Lua-level sugar
-- on top. Handles: `libbpf.object`, `libbpf.map`, `libbpf.program`,
-- `libbpf.link`. System failures return `nil, message, errno`; misuse raises.
--
--     local bpf = require "libbpf"
--     local obj = assert(bpf.open("execsnoop.bpf.o"))
--     assert(obj:load())
--     local links = assert(obj:attach())
--
-- @module libbpf

local core = require "libbpf.core"

local M = {}
for k, v in pairs(core) do M[k] = v end

--- File offset of a function in an executable or shared library (its
-- symbol's address through the PT_LOAD segment that maps it), as uprobes
-- and `readelf` see it.
-- @tparam string path the ELF file
-- @tparam string name the function
-- @treturn integer the offset, or `nil, message, errno`
-- @usage local off = assert(bpf.elf_symbol_offset("/bin/bash", "main"))
function M.elf_symbol_offset(path, name)
  assert(type(path) == "string", "elf_symbol_offset: path must be a string")
  assert(type(name) == "string", "elf_symbol_offset: name must be a string")
  local e, err, code = require("libbpf.syms").elf(path)
  if not e then return nil, err, code end
  return e:file_offset(name)
end

--- The version of this module.
-- @usage print(require("libbpf")._VERSION)   --> lua-libbpf scm
M._VERSION = "lua-libbpf scm"

return M
