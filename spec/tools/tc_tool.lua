-- A tool the way examples/ write them, for spec/harden_state_spec.lua: it
-- attaches a tc program to lo ingress (adding the clsact qdisc), says
-- "ready", then sleeps (tool.sleep) or polls (tool.poll_for) until a signal
-- stops it. A clean stop detaches the filter and removes the qdisc.
--   lua5.4 spec/tools/tc_tool.lua sleep|poll
local bpf = require "libbpf"
local tool = require "libbpf.tool"

local opts = tool.parse(arg, {name = "tc_tool", positional = "sleep|poll"})
local how = opts[1] or "sleep"

bpf.set_print(function() end)
local obj = assert(bpf.open("spec/bpf/attach.bpf.o"))
assert(obj:load())
assert(obj.progs.tc_udp:attach_tc{ifname = "lo", hook = "ingress"})
local rb
if how == "poll" then
  local m = assert(bpf.map_create{type = "ringbuf", max_entries = 4096})
  rb = assert(bpf.ringbuf(m, function() end))
end

tool.run(function()
  print("ready")
  io.stdout:flush()
  if rb then tool.poll_for(rb, 60) else tool.sleep(60) end
  print("stopped by " .. tostring(tool.stopped()))
end)
obj:close()
