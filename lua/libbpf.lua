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

--- The version of this module.
-- @usage print(require("libbpf")._VERSION)   --> lua-libbpf scm
M._VERSION = "lua-libbpf scm"

return M
