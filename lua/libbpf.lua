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

--- A `libbpf.btf` built from C declarations, in process (no compiler):
-- the record types of a header shared with the BPF side, for `type=` +
-- `btf=` of ring, perf and user ring buffers and `m:set_type`. Accepts what
-- such headers hold: include guards, `#include "x.h"` (read relative to
-- `file=`; others ignored), object-like and function-like `#define`, `#if`,
-- struct/union (named, anonymous, nested), enum (64-bit values too),
-- typedef, arrays with constant-expression sizes (arithmetic, shifts,
-- casts, `sizeof`, other macros), flexible arrays, bitfields, pointers,
-- `__attribute__((packed))`, `aligned(N)`; `static inline` function bodies
-- are skipped. `__u8`..`__u64`, `__s8`..`__s64`, `u8`..`u64`,
-- `s8`..`s64`, `bool`, `size_t`, `pid_t`, `uid_t`, `gid_t`, `__be16`,
-- `__be32`... need no declaration. Types are laid out as clang lays them out
-- for `-target bpf` (LP64, little-endian, its bitfield rules).
-- A syntax error raises `file:line:column: message` (`file` is "cdef" for
-- text); a `file=` that cannot be read returns `nil, message, errno`.
-- @tparam string|table src C text, or `{file = "x.h" [, macros = {NAME = value}]}`
-- (or `{text, file = name}`: text named `name` in errors, includes relative to it)
-- @treturn libbpf.btf the types
-- @treturn table the integer constants: object-like macros that evaluate
-- to an integer, and enumerators (`consts.TASK_COMM_LEN`)
-- @usage local btf, c = bpf.cdef[[
--   #define TASK_COMM_LEN 16
--   struct event { int pid; char comm[TASK_COMM_LEN]; bool exit_event; };
-- ]]
-- print(btf:sizeof("struct event"), c.TASK_COMM_LEN)          --> 24 16
-- local rb = bpf.ringbuf(obj.maps.rb, print, {type = "struct event", btf = btf})
-- local b2 = assert(bpf.cdef{file = "examples/bootstrap.h"})
function M.cdef(src)
  local text, opts = src, {}
  if type(src) == "table" then
    opts = {file = src.file, macros = src.macros}
    text = src[1]
    if text == nil then
      if type(src.file) ~= "string" then
        error("bpf.cdef: give the C text or {file = path}", 2)
      end
      local f, err, code = io.open(src.file, "rb")
      if not f then return nil, "bpf.cdef: " .. err, code end
      text = f:read("a")
      f:close()
    end
  end
  if type(text) ~= "string" then
    error("bpf.cdef: C text expected, got " .. type(text), 2)
  end
  local types, consts = require("libbpf.cdef").parse(text, opts)
  return core.btf_build(types), consts
end

--- Compile BPF C text into an opened (not loaded) object, as
-- `open_buffer` of the compiled object would: `libbpf.compile`'s `compile`
-- (clang found in PATH, `vmlinux.h` made from the kernel's BTF, a cache).
-- @function compile
-- @tparam string source the BPF C text
-- @tparam[opt] table opts `name`, `cflags`, `defines`, `includes`, `keep`,
--   `chunkname`, `line` (see `libbpf.compile`)
-- @treturn object the object, or `nil, message` (clang's diagnostics with
--   the Lua file's line numbers)
-- @usage local obj = assert(bpf.compile[[
-- #include "vmlinux.h"
-- #include <bpf/bpf_helpers.h>
-- SEC("tracepoint/syscalls/sys_enter_execve")
-- int on_exec(void *ctx) { return 0; }
-- char LICENSE[] SEC("license") = "GPL";
-- ]])
-- assert(obj:load())
M.compile = require("libbpf.compile").compile

return M
