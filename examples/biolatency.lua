#!/usr/bin/env lua5.4
--- biolatency: summarize block device I/O latency as a log2 histogram.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"
local hist = require "libbpf.hist"

local opts = tool.parse(arg, {
  name = "biolatency",
  positional = "[interval] [count]",
  summary = "Summarize block device I/O latency as a histogram.",
  options = {
    { "-T", "--timestamp", help = "include a timestamp on output" },
    { "-m", "--milliseconds", help = "millisecond histogram" },
    { "-D", "--disks", help = "print a histogram per disk device" },
    { "-Q", "--queued", help = "include OS queued time in I/O time" },
    { "-d", "--disk", arg = "DISK", help = "trace this disk only (e.g. vda)" },
  },
  examples = "  biolatency          # summarize until Ctrl-C\n" ..
             "  biolatency 1 10     # 1 second summaries, 10 times\n" ..
             "  biolatency -D -d vda 5",
})
local interval = math.tointeger(tonumber(opts[1] or "")) or 99999999
local count = math.tointeger(tonumber(opts[2] or "")) or math.maxinteger

local function disk_dev(name)
  local f = io.open(("/sys/block/%s/dev"):format(name))
  if not f then tool.die("biolatency", "no such disk:", name) end
  local major, minor = f:read("l"):match("^(%d+):(%d+)$")
  f:close()
  return (tonumber(major) << 20) | tonumber(minor)
end

local obj = assert(bpf.open(tool.beside("biolatency.bpf.o")))
obj.vars.targ_per_disk = opts.disks or false
obj.vars.targ_ms = opts.milliseconds or false
obj.vars.targ_queued = opts.queued or false
if opts.disk then obj.vars.targ_dev = disk_dev(opts.disk) end
-- the insert tracepoint only matters with -Q
if not opts.queued then obj.progs.block_rq_insert:set_autoload(false) end
assert(obj:load())
assert(obj:attach())

local unit = opts.milliseconds and "msecs" or "usecs"
local function print_hists()
  local hists = obj.maps.hists
  local keys = {}
  for k, h in pairs(hists) do keys[#keys + 1] = { k, h } end
  table.sort(keys, function(a, b) return a[1] < b[1] end)
  for _, kh in ipairs(keys) do
    local h = kh[2]
    if opts.disks then print(("\ndisk = %s"):format(h.disk ~= "" and h.disk or "Unknown")) end
    hist.print_log2(hist.slots(h.slots), unit)
  end
  for _, kh in ipairs(keys) do hists:delete(kh[1]) end
  io.stdout:flush()
end

print("Tracing block device I/O... Hit Ctrl-C to end.")
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
