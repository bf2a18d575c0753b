--- Helpers shared by the specs.
local M = {}

--- Directory of the compiled spec BPF objects.
M.bpfdir = "spec/bpf/"

--- Path of a spec BPF object by base name ("counter" -> spec/bpf/counter.bpf.o).
function M.obj(name) return M.bpfdir .. name .. ".bpf.o" end

--- Bytes of a file.
function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

--- Number of open fds of this process that hold kernel BPF/perf/epoll
-- objects (anon inodes: bpf-map, bpf-prog, bpf_link, btf, perf_event, ...):
-- the fds this module creates. Plain files and pipes are left out, so that
-- busted's own files and the listing pipe do not blur a leak count.
function M.fd_count()
  local n = 0
  local p = io.popen("ls -l /proc/" .. M.pid() .. "/fd")
  for line in p:lines() do
    if line:find("anon_inode:", 1, true) then n = n + 1 end
  end
  p:close()
  return n
end

--- Number of mappings of BPF maps (ring buffers, mmap'ed globals) in this
-- process.
function M.bpf_mappings()
  local n = 0
  for line in io.lines("/proc/self/maps") do
    if line:find("anon_inode:bpf-map", 1, true) then n = n + 1 end
  end
  return n
end

local mypid
--- PID of this Lua process.
function M.pid()
  if not mypid then
    local f = assert(io.open("/proc/self/stat"))
    -- /proc/self is the reader: ask the shell for our parent instead
    f:close()
    local p = io.popen("echo $PPID")
    mypid = tonumber(p:read("l"))
    p:close()
  end
  return mypid
end

--- Run a shell command n times, quietly.
function M.run(cmd, n)
  for _ = 1, n or 1 do os.execute(cmd .. " >/dev/null 2>&1") end
end

--- Full GC, twice (finalizers run in the first, memory goes in the second).
function M.gc()
  collectgarbage("collect")
  collectgarbage("collect")
end

--- A UDP socket bound to 127.0.0.1 (1 s receive timeout) and its port.
function M.udp_receiver()
  local r = assert(require("socket").udp())
  assert(r:setsockname("127.0.0.1", 0))
  r:settimeout(1)
  local _, port = r:getsockname()
  return r, math.tointeger(tonumber(port))
end

--- Send `n` UDP packets to 127.0.0.1:`port`: `payload`, or "packet <i>".
function M.send_udp(port, n, payload)
  local s = assert(require("socket").udp())
  for i = 1, n do assert(s:sendto(payload or "packet " .. i, "127.0.0.1", port)) end
  s:close()
end

--- Receive `n` packets on `r` (each must arrive).
function M.drain_udp(r, n)
  for _ = 1, n do assert(r:receive()) end
end

--- What `tc qdisc show dev <dev>` prints.
function M.qdiscs(dev)
  local p = io.popen("tc qdisc show dev " .. dev)
  local out = p:read("a")
  p:close()
  return out
end

return M
