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
    { "-4", "--ipv4", help = "trace IPv4 only" },
    { "-6", "--ipv6", help = "trace IPv6 only" },
    { "-T", "--timestamp", help = "include a timestamp column (seconds)" },
    { "-w", "--wide", help = "wide column output (fits IPv6 addresses)" },
    { "-L", "--localport", arg = "PORT", type = "integer", help = "trace this local port only" },
    { "-D", "--remoteport", arg = "PORT", type = "integer", help = "trace this remote port only" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
  },
})

local STATES = { "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
  "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV" }
local AF_INET, AF_INET6 = 2, 10

local obj = assert(bpf.open(tool.beside("tcpstates.bpf.o")))
if opts.ipv4 then obj.vars.target_family = AF_INET end
if opts.ipv6 then obj.vars.target_family = AF_INET6 end
if opts.localport then obj.vars.filter_by_sport = true; obj.vars.target_sport = opts.localport end
if opts.remoteport then obj.vars.filter_by_dport = true; obj.vars.target_dport = opts.remoteport end
assert(obj:load())
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

local width = opts.wide and 39 or 15
local row = "%-16x %-7d %-16s %-2d %-" .. width .. "s %-5d %-" .. width .. "s %-5d %-11s -> %-11s %.3f"
local start
local function on_event(ev)
  local cols = {}
  start = start or ev.ts_us
  if opts.timestamp then cols[#cols + 1] = ("%8.6f"):format((ev.ts_us - start) / 1e6) end
  cols[#cols + 1] = row:format(ev.skaddr, ev.pid, ev.task, ev.family == AF_INET and 4 or 6,
    ip(ev.family, ev.saddr), ev.sport, ip(ev.family, ev.daddr), ev.dport,
    STATES[ev.oldstate] or tostring(ev.oldstate), STATES[ev.newstate] or tostring(ev.newstate),
    ev.delta_us / 1000)
  io.stdout:write(table.concat(cols, " "), "\n")
  io.stdout:flush()
end

local rb = assert(bpf.ringbuf(obj.maps.events, on_event, { type = "struct event" }))
if opts.timestamp then io.stdout:write(("%8s "):format("TIME(s)")) end
print((("%-16s %-7s %-16s %-2s %-" .. width .. "s %-5s %-" .. width .. "s %-5s %-11s -> %-11s %s"))
  :format("SKADDR", "PID", "COMM", "IP", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE", "MS"))
io.stdout:flush()

tool.run(function() tool.poll_for(rb, opts.duration) end)
rb:close()
obj:close()
