-- Run by spec/token_spec.lua inside a user namespace (spec/token/delegate):
--   lua5.4 spec/token/load.lua OBJECT MOUNTPOINT
-- loads OBJECT three ways and prints one line for each:
--   token: loaded runs=N seen=N        (bpf.open with token_path=MOUNTPOINT)
--   token: failed <errno> <message>
--   none: ...                          (token_path = "": no token at all)
--   default: ...                       (no option: libbpf's default, the
--                                       namespace's /sys/fs/bpf, not delegated)
local bpf = require "libbpf"
bpf.set_print(function() end)

local path, mountpoint = arg[1], arg[2]

local function try(label, opts)
  local obj, err, errno = bpf.open(path, opts)
  local ok
  if obj then ok, err, errno = obj:load() end
  if not ok then
    print(("%s: failed %s %s"):format(label, tostring(errno), (tostring(err):gsub("\n.*", ""))))
    if obj then obj:close() end
    return
  end
  local r = assert(obj.progs.token_xdp:test_run{data = ("\0"):rep(64), ["repeat"] = 3})
  assert(r.retval == 2, "XDP_PASS expected")
  print(("%s: loaded runs=%d seen=%d"):format(label, obj.vars.runs, obj.maps.seen[1] or 0))
  obj:close()
end

try("token", {token_path = mountpoint})
try("none", {token_path = ""})
try("default", nil)
