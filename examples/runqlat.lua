#!/usr/bin/env lua5.4
--- runqlat: summarize run-queue (scheduler) latency as a log2 histogram.
-- Output like bcc's runqlat: "usecs : count distribution" star bars.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"
local hist = require "libbpf.hist"

local opts = tool.parse(arg, {
  name = "runqlat",
  positional = "[interval] [count]",
  args = { { "interval", type = "duration" }, { "count", type = "integer" } },
  summary = "Summarize run queue (scheduler) latency as a histogram.",
  options = {
    { "-c", "--cgroup", arg = "PATH", help = "trace tasks in this cgroup v2 (or below it) only" },
    { "-v", "--verbose", help = "print libbpf's debug output on stderr" },
    { "-T", "--timestamp", help = "include a timestamp on output" },
    { "-m", "--milliseconds", help = "millisecond histogram" },
    { "-P", "--pids", help = "print a histogram per process ID" },
    { "-L", "--tids", help = "print a histogram per thread ID" },
    { nil, "--pidnss", help = "print a histogram per PID namespace" },
    { "-p", "--pid", arg = "PID", type = "integer", help = "trace this PID only" },
  },
  examples = "  runqlat         # summarize until Ctrl-C\n" ..
             "  runqlat 1 10    # print 1 second summaries, 10 times\n" ..
             "  runqlat -mT 1   # 1s summaries, milliseconds, and timestamps",
})
local interval = opts[1] or 99999999   -- seconds, fractions allowed
local count = opts[2] or math.maxinteger

if opts.verbose then bpf.set_print(function(_, msg) io.stderr:write(msg) end, "debug") end
local obj = assert(bpf.open(tool.beside("runqlat.bpf.o")))
require("libbpf.cgroup_filter").apply(obj, "runqlat", opts.cgroup)
obj.vars.targ_per_process = opts.pids or false
obj.vars.targ_per_thread = opts.tids or false
obj.vars.targ_per_pidns = opts.pidnss or false
obj.vars.targ_ms = opts.milliseconds or false
if opts.pid then obj.vars.targ_tgid = opts.pid end
assert(obj:load())
assert(obj:attach())

local unit = opts.milliseconds and "msecs" or "usecs"
local function print_hists()
  local hists = obj.maps.hists
  local keys = {}
  for k, h in pairs(hists) do keys[#keys + 1] = { k, h } end
  table.sort(keys, function(a, b) return a[1] < b[1] end)
  for _, kh in ipairs(keys) do
    local k, h = kh[1], kh[2]
    if opts.pids then print(("\npid = %d %s"):format(k, h.comm))
    elseif opts.tids then print(("\ntid = %d %s"):format(k, h.comm))
    elseif opts.pidnss then print(("\npidns = %d %s"):format(k, h.comm))
    end
    hist.print_log2(hist.slots(h.slots), unit)
  end
  for _, kh in ipairs(keys) do hists:delete(kh[1]) end
  io.stdout:flush()
end

print("Tracing run queue latency... Hit Ctrl-C to end.")
io.stdout:flush()
tool.run(function()
  for _ = 1, count do
    local slept = tool.sleep(interval)
    print()
    if opts.timestamp then print(os.date("%H:%M:%S")) end
    print_hists()
    if not slept then break end
  end
end)
obj:close()
