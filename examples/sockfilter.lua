#!/usr/bin/env lua5.4
--- sockfilter: print the IPv4 packets of an interface that a BPF socket
-- filter keeps, read from a packet socket (like libbpf-bootstrap's
-- sockfilter). Columns: IFACE PROTO SRC DST LEN.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"

local PROTOS = { icmp = 1, tcp = 6, udp = 17 }
local NAMES = { [1] = "ICMP", [6] = "TCP", [17] = "UDP" }

local opts = tool.parse(arg, {
  name = "sockfilter",
  summary = "Print the IPv4 packets of an interface: IFACE PROTO SRC DST LEN.",
  options = {
    { "-i", "--interface", arg = "IFACE", help = "interface to watch (default lo)" },
    { "-P", "--protocol", arg = "PROTO", help = "icmp, tcp or udp only (default: all)" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
  },
})
local ifname = opts.interface or "lo"
local want = 0
if opts.protocol then
  want = PROTOS[opts.protocol:lower()] or tool.die("sockfilter", "unknown protocol", opts.protocol)
end

local obj = assert(bpf.open(tool.beside("sockfilter.bpf.o")))
obj.vars.want_proto = want
assert(obj:load())
local sock, err = bpf.packet_socket(ifname, { protocol = "ip" })
if not sock then tool.die("sockfilter", err) end
assert(obj.progs.ipv4_filter:attach_socket(sock))

local function addr(frame, at) return ("%d.%d.%d.%d"):format(frame:byte(at, at + 3)) end

-- one line per frame: the Ethernet header (14 bytes), then IPv4
local function show(frame)
  local ihl = (frame:byte(15) & 0x0f) * 4
  local proto = frame:byte(24)
  local src, dst = addr(frame, 27), addr(frame, 31)
  if proto == 6 or proto == 17 then
    local sport, dport = string.unpack(">I2I2", frame, 15 + ihl)
    src, dst = src .. ":" .. sport, dst .. ":" .. dport
  end
  print(("%-8s %-5s %-21s %-21s %d"):format(ifname, NAMES[proto] or tostring(proto), src, dst, #frame))
  io.stdout:flush()
end

print(("%-8s %-5s %-21s %-21s %s"):format("IFACE", "PROTO", "SRC", "DST", "LEN"))
io.stdout:flush()
local deadline = opts.duration and (bpf.monotonic() + opts.duration)
tool.run(function()
  tool.interruptible(function()
    -- a stop signal interrupts recv (EINTR) and ends the loop
    while not tool.stopped() and (not deadline or bpf.monotonic() < deadline) do
      local frame = sock:recv(deadline and math.max(0, math.min(0.2, deadline - bpf.monotonic())) or 0.2)
      if frame then show(frame) end
    end
  end)
end)
sock:close()
obj:close()
