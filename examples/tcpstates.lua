#!/usr/bin/env lua5.4
--- tcpstates: trace TCP state changes with the time spent in each state.
-- Columns like libbpf-tools' tcpstates.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"

local opts = tool.parse(arg, {
  name = "tcpstates",
  summary = "Trace TCP session state changes and durations.",
  options = {
    { "-v", "--verbose", help = "print libbpf's debug output on stderr" },
    { "-4", "--ipv4", help = "trace IPv4 only" },
    { "-6", "--ipv6", help = "trace IPv6 only" },
    { "-T", "--timestamp", help = "include a time column (HH:MM:SS; headed TIME(s) as libbpf-tools')" },
    { "-w", "--wide", help = "wide column output (fits IPv6 addresses)" },
    { "-L", "--localport", arg = "LPORT", help = "comma-separated list of local ports to trace" },
    { "-D", "--remoteport", arg = "DPORT", help = "comma-separated list of remote ports to trace" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
  },
})

local STATES = { "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
  "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV" }
local AF_INET, AF_INET6 = 2, 10

if opts.verbose then bpf.set_print(function(_, msg) io.stderr:write(msg) end, "debug") end
local obj = assert(bpf.open(tool.beside("tcpstates.bpf.o")))
if opts.ipv4 then obj.vars.target_family = AF_INET end
if opts.ipv6 then obj.vars.target_family = AF_INET6 end

-- "80,443" -> {80, 443}, as libbpf-tools' tcpstates; anything else ends the tool
local function ports(flag, text)
  local list = {}
  for item in (text .. ","):gmatch("([^,]*),") do
    local n = math.tointeger(tonumber(item))
    if not n or n < 1 or n > 65535 then
      io.stderr:write("tcpstates: ", flag, ": invalid port '", item, "' in '", text, "'\n")
      os.exit(2)
    end
    list[#list + 1] = n
  end
  return list
end
local lports = opts.localport and ports("-L", opts.localport)
local dports = opts.remoteport and ports("-D", opts.remoteport)
obj.vars.filter_by_sport = lports ~= nil
obj.vars.filter_by_dport = dports ~= nil
assert(obj:load())
for _, p in ipairs(lports or {}) do assert(obj.maps.sports:update(p, p)) end
for _, p in ipairs(dports or {}) do assert(obj.maps.dports:update(p, p)) end
assert(obj:attach())

-- an address member is 4 u32 words holding the bytes in network order
local function bytes(words)
  return { string.pack("=I4I4I4I4", table.unpack(words, 1, 4)):byte(1, -1) }
end
local function ip(family, a)
  local b = bytes(a)
  if family == AF_INET then return ("%d.%d.%d.%d"):format(b[1], b[2], b[3], b[4]) end
  local groups = {}
  for i = 1, 16, 2 do groups[#groups + 1] = ("%x"):format((b[i] << 8) | b[i + 1]) end
  -- RFC 5952: the longest run of two or more zero groups becomes "::"
  local text = ":" .. table.concat(groups, ":") .. ":"
  for n = 8, 2, -1 do
    local zeros = (":0"):rep(n) .. ":"
    local i = text:find(zeros, 1, true)
    if i then
      text = text:sub(1, i - 1) .. "::" .. text:sub(i + #zeros)
      break
    end
  end
  text = text:gsub("^:([^:])", "%1"):gsub("([^:]):$", "%1")
  return text
end

-- libbpf-tools' columns: the narrow form has no IP column and a 10-wide COMM,
-- -w adds IP and widens the addresses to 26; -T prefixes the time of day
local row, head
if opts.wide then
  row = "%-16x %-7d %-16s %-2d %-26s %-5d %-26s %-5d %-11s -> %-11s %.3f"
  head = ("%-16s %-7s %-16s %-2s %-26s %-5s %-26s %-5s %-11s -> %-11s %s"):format(
    "SKADDR", "PID", "COMM", "IP", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE", "MS")
else
  row = "%-16x %-7d %-10.10s %-15s %-5d %-15s %-5d %-11s -> %-11s %.3f"
  head = ("%-16s %-7s %-10s %-15s %-5s %-15s %-5s %-11s -> %-11s %s"):format(
    "SKADDR", "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE", "MS")
end
local function on_event(ev)
  local cols = {}
  if opts.timestamp then cols[#cols + 1] = ("%8s"):format(tool.clock()) end
  local state = function(s) return STATES[s] or tostring(s) end
  if opts.wide then
    cols[#cols + 1] = row:format(ev.skaddr, ev.pid, ev.task, ev.family == AF_INET and 4 or 6,
      ip(ev.family, ev.saddr), ev.sport, ip(ev.family, ev.daddr), ev.dport,
      state(ev.oldstate), state(ev.newstate), ev.delta_us / 1000)
  else
    cols[#cols + 1] = row:format(ev.skaddr, ev.pid, ev.task,
      ip(ev.family, ev.saddr), ev.sport, ip(ev.family, ev.daddr), ev.dport,
      state(ev.oldstate), state(ev.newstate), ev.delta_us / 1000)
  end
  io.stdout:write(table.concat(cols, " "), "\n")
  io.stdout:flush()
end

local rb = assert(bpf.ringbuf(obj.maps.events, on_event, { type = "struct event" }))
if opts.timestamp then io.stdout:write(("%-8s "):format("TIME(s)")) end
print(head)
io.stdout:flush()

tool.run(function() tool.poll_for(rb, opts.duration) end)
rb:close()
obj:close()
