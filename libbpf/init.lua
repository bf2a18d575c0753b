-- libbpf/init.lua: `require "libbpf"` from the checkout's root with Lua's
-- default paths (`lua5.4 -e 'print(require "libbpf".libbpf_version)'`):
-- the default package.path has "./?/init.lua", which finds this file next
-- to the built libbpf/core.so (found by the default "./?.so"). It puts the
-- checkout's lua/ on the path and returns the real module, lua/libbpf.lua.
-- An installed module is found before this file (its paths come first).
local root = debug.getinfo(1, "S").source:match("^@(.*)/libbpf/init%.lua$") or "."
package.path = ("%s/lua/?.lua;%s/lua/?/init.lua;"):format(root, root) .. package.path
return dofile(root .. "/lua/libbpf.lua")
