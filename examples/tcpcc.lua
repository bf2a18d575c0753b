#!/usr/bin/env lua5.4
--- tcpcc: register a TCP congestion control written in BPF (tcpcc.bpf.c,
-- "lbpf_reno", a tcp_congestion_ops struct_ops map), send data over a TCP
-- connection on lo that uses it, and print what its callbacks counted.
--
-- The connection picks the congestion control as its network namespace's
-- default (net.ipv4.tcp_congestion_control; lua-socket has no
-- setsockopt(TCP_CONGESTION)). So that the host's default is never
-- changed, the tool runs itself again in a network namespace of its own
-- (`unshare --net`, root) unless given --here.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"
local socket = require "socket"

local NAME = "lbpf_reno"
local SYSCTL = "/proc/sys/net/ipv4/tcp_congestion_control"
local AVAILABLE = "/proc/sys/net/ipv4/tcp_available_congestion_control"

local opts = tool.parse(arg, {
  name = "tcpcc",
  summary = "Register the BPF congestion control " .. NAME .. ", send data over TCP on lo "
    .. "with it and print what its callbacks counted.",
  options = {
    { "-b", "--bytes", arg = "N", type = "integer", default = 8 << 20,
      help = "bytes to send (default 8 MiB)" },
    { nil, "--here", help = "use this network namespace (its default congestion control "
      .. "is " .. NAME .. " while the tool runs) instead of a new one" },
  },
})

-- Its struct_ops map is a `.struct_ops.link` one (tcpcc.bpf.c: the kernel
-- drops the registration when the tool ends, however it ends), which
-- libbpf < 1.3 does not know: it would load its programs without the map
-- and fail with a bare "Unknown error 524". Say why, before any of it.
do
  local major, minor = bpf.libbpf_version:match("^(%d+)%.(%d+)")
  major, minor = tonumber(major), tonumber(minor)
  if major < 1 or (major == 1 and minor < 3) then
    tool.die("tcpcc", ("needs libbpf >= 1.3 for its .struct_ops.link map (built with %d.%d)")
      :format(major, minor))
  end
end

local function slurp(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  assert(f:close())
end

-- Run this script again with --here in a new network namespace and wait for
-- it, printing what it prints. Not os.execute: system(3) ignores SIGINT while
-- it waits and SIGTERM would leave the child running (its struct_ops
-- registered, lbpf_reno taken); here a stop signal interrupts the read
-- (EINTR) and is passed on to the child, whose pid the shell prints first
-- (`exec` keeps it: sh, unshare, sh and lua are one process in turn).
local function run_in_netns()
  local EINTR = 4
  local lua = arg[-1] or "lua5.4"
  local p = assert(io.popen(("echo $$; exec unshare --net -- sh -c 'ip link set lo up && exec %s %s --here --bytes %d'")
    :format(lua, arg[0], opts.bytes)))
  local digits, child, passed = "", nil, false
  while true do
    -- a byte at a time: a signal never loses text read into a line
    local c, _, errno = p:read(1)
    if not c and errno ~= EINTR then break end
    if c and not child then
      if c == "\n" then child = math.tointeger(tonumber(digits)) else digits = digits .. c end
    elseif c then
      io.stdout:write(c)
      if c == "\n" then io.stdout:flush() end
    end
    if child and not passed and tool.stopped() then
      os.execute(("kill -%s %d 2>/dev/null"):format(tool.stopped():sub(4), child))
      passed = true
    end
  end
  io.stdout:flush()
  local ok, how, code = p:close()
  os.exit(ok and 0 or (how == "exit" and code or 1))
end
if not opts.here then run_in_netns() end

-- Send `bytes` from a client to a server over 127.0.0.1, both in this
-- process: non-blocking, the receiver drains while the sender fills.
local function transfer(bytes)
  local server = assert(socket.bind("127.0.0.1", 0))
  local _, port = server:getsockname()
  local client = assert(socket.connect("127.0.0.1", port))
  local conn = assert(server:accept())
  server:close()
  client:settimeout(0)
  conn:settimeout(0)
  local chunk = ("x"):rep(64 * 1024)
  local sent, received = 0, 0
  -- a stall of 30 s is an error; a stop signal (passed on by the parent)
  -- ends the transfer early
  local deadline = socket.gettime() + 30
  while received < bytes and not tool.stopped() do
    assert(socket.gettime() < deadline, "transfer stalled for 30 s")
    if sent < bytes then
      local n, err, partial = client:send(chunk, 1, math.min(#chunk, bytes - sent))
      n = n or partial
      assert(n, err)
      sent = sent + n
    end
    local data, err, partial = conn:receive(64 * 1024)
    data = data or partial
    if err and err ~= "timeout" then error("receive: " .. err) end
    received = received + #data
    if #data > 0 then deadline = socket.gettime() + 30 end
    socket.select({ conn }, sent < bytes and { client } or nil, 0.1)
  end
  client:close()
  conn:close()
  return received
end

local obj = assert(bpf.open(tool.beside("tcpcc.bpf.o")))
assert(obj:load())
local links = assert(obj:attach()) -- registers the struct_ops map lbpf_reno
print(("%s registered: %s"):format(NAME, slurp(AVAILABLE):match("%f[%w]" .. NAME .. "%f[%W]")
  and "yes" or "no"))
io.stdout:flush()
local before = slurp(SYSCTL):match("%S+")
write(SYSCTL, NAME)
local ok, sent = pcall(transfer, opts.bytes)
write(SYSCTL, before)
assert(ok, sent)

local v = obj.vars
print(("sent %d bytes over TCP on lo with %s"):format(sent, NAME))
print(("%-12s %d"):format("init", v.inits))
print(("%-12s %d"):format("cong_avoid", v.cong_avoids))
print(("%-12s %d"):format("acked", v.acked))
print(("%-12s %d"):format("ssthresh", v.ssthreshs))
print(("%-12s %d"):format("undo_cwnd", v.undos))
print(("%-12s %d"):format("set_state", v.state_changes))
print(("%-12s %d"):format("cwnd_event", v.cwnd_events))
print(("%-12s %d"):format("release", v.releases))
print(("%-12s %d"):format("cwnd", v.cwnd))
links.lbpf_reno:destroy()
print(("%s registered: %s"):format(NAME, slurp(AVAILABLE):match("%f[%w]" .. NAME .. "%f[%W]")
  and "yes" or "no"))
obj:close()
