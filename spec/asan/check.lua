-- spec/asan/check.lua: run by `make asan` before the suite, through the same
-- lua5.4 wrapper, so a setup that silently lost the sanitizer fails loudly
-- instead of passing an unsanitized suite: the ASan and UBSan runtimes must be mapped,
-- libbpf.core must be the sanitized build, and LD_PRELOAD must be gone from
-- the environment the children of this process inherit.
local want_core = assert(arg[1], "usage: check.lua SANITIZED_CORE_SO")
require "libbpf.core"
local asan, ubsan, core = false, false, nil
for line in io.lines("/proc/self/maps") do
  if line:find("/libasan%.so") then asan = true end
  if line:find("/libubsan%.so") then ubsan = true end
  local path = line:match("(/%S*/libbpf/core%.so)$")
  if path then core = path end
end
local problems = {}
if not asan then problems[#problems + 1] = "libasan.so is not mapped" end
if not ubsan then problems[#problems + 1] = "libubsan.so is not mapped" end
if core ~= want_core then
  problems[#problems + 1] = ("libbpf.core is %s, not %s"):format(tostring(core), want_core)
end
if os.getenv("LD_PRELOAD") then problems[#problems + 1] = "LD_PRELOAD is still set" end
local p = io.popen("cat /proc/self/maps")
local child = p:read("a")
p:close()
if child:find("libasan") then problems[#problems + 1] = "a child (cat) got the ASan runtime" end
if #problems > 0 then
  io.stderr:write("asan setup: ", table.concat(problems, "; "), "\n")
  os.exit(1)
end
print("asan setup: runtime in lua5.4 only, libbpf.core from " .. core)
