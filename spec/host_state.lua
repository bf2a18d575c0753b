-- What `make test` must leave as it found it on the host: lo's qdiscs and
-- XDP program, and the bpffs pins. `make test` writes a snapshot before the
-- run (`lua5.4 spec/host_state.lua`, from the host's namespaces) and
-- spec/host_state_check.lua takes one again after it, from inside the run's
-- namespaces through nsenter, and compares.
local M = {}

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

--- The host state as text. `prefix` runs each command in the host's
-- namespaces ("" when already there, else an nsenter command line).
function M.snapshot(prefix)
  prefix = prefix or ""
  return table.concat{
    "## tc qdisc show dev lo\n", sh(prefix .. "tc qdisc show dev lo"),
    "## ip link show dev lo\n", sh(prefix .. "ip link show dev lo"),
    "## pins under /sys/fs/bpf\n",
    sh(prefix .. "sh -c 'if mountpoint -q /sys/fs/bpf; then find /sys/fs/bpf | sort; " ..
       "else echo not mounted; fi'"),
  }
end

--- nsenter prefix for the namespaces of process `pid`.
function M.nsenter(pid)
  return ("nsenter --net=/proc/%d/ns/net --mount=/proc/%d/ns/mnt "):format(pid, pid)
end

if arg and arg[0] and arg[0]:match("host_state%.lua$") then
  io.write(M.snapshot(""))
end

return M
