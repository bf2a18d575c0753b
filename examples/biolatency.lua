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
  args = { { "interval", type = "duration" }, { "count", type = "integer" } },
  summary = "Summarize block device I/O latency as a histogram.",
  options = {
    { "-c", "--cgroup", arg = "PATH", help = "trace tasks in this cgroup v2 (or below it) only" },
    { "-v", "--verbose", help = "print libbpf's debug output on stderr" },
    { "-T", "--timestamp", help = "include a timestamp on output" },
    { "-m", "--milliseconds", help = "millisecond histogram" },
    { "-D", "--disks", help = "print a histogram per disk device" },
    { "-F", "--flag", help = "print a histogram per set of I/O flags" },
    { "-Q", "--queued", help = "include OS queued time in I/O time" },
    { "-d", "--disk", arg = "DISK", help = "trace this disk only (e.g. vda)" },
  },
  examples = "  biolatency          # summarize until Ctrl-C\n" ..
             "  biolatency 1 10     # 1 second summaries, 10 times\n" ..
             "  biolatency -D -d vda 5",
})
local interval = opts[1] or 99999999   -- seconds, fractions allowed
local count = opts[2] or math.maxinteger

local function disk_dev(name)
  local f = io.open(("/sys/block/%s/dev"):format(name))
  if not f then tool.die("biolatency", "no such disk:", name) end
  local major, minor = f:read("l"):match("^(%d+):(%d+)$")
  f:close()
  return (tonumber(major) << 20) | tonumber(minor)
end

if opts.verbose then bpf.set_print(function(_, msg) io.stderr:write(msg) end, "debug") end
local obj = assert(bpf.open(tool.beside("biolatency.bpf.o")))
require("libbpf.cgroup_filter").apply(obj, "biolatency", opts.cgroup)
obj.vars.targ_per_disk = opts.disks or false
obj.vars.targ_per_flag = opts.flag or false
obj.vars.targ_ms = opts.milliseconds or false
obj.vars.targ_queued = opts.queued or false
if opts.disk then obj.vars.targ_dev = disk_dev(opts.disk) end
-- the insert tracepoint only matters with -Q
if not opts.queued then obj.progs.block_rq_insert:set_autoload(false) end
assert(obj:load())
assert(obj:attach())

-- request flags and operations named as libbpf-tools' biolatency -F does
-- (its table, in its order, so that the two print the same lines)
local FLAG_NAMES = {
  { 1 << 21, "NoWait-" }, { 1 << 20, "Background-" }, { 1 << 19, "ReadAhead-" },
  { 1 << 18, "PreFlush-" }, { 1 << 17, "FUA-" }, { 1 << 16, "Integrity-" },
  { 1 << 15, "Idle-" }, { 1 << 14, "NoMerge-" }, { 1 << 13, "Priority-" },
  { 1 << 12, "Metadata-" }, { 1 << 11, "Sync-" },
}
local OP_NAMES = { [0] = "Read", "Write", "Flush", "Discard", [5] = "SecureErase",
  [6] = "ZoneReset", [7] = "WriteSame", [8] = "ZoneResetAll", [9] = "WriteZeroes",
  [10] = "ZoneOpen", [11] = "ZoneClose", [12] = "ZoneFinish", [32] = "SCSIIn",
  [33] = "SCSIOut", [34] = "DrvIn", [35] = "DrvOut" }
local function flags_name(flags)
  local out = {}
  for _, f in ipairs(FLAG_NAMES) do
    if flags & f[1] ~= 0 then out[#out + 1] = f[2] end
  end
  out[#out + 1] = OP_NAMES[flags & 0xff] or "Unknown"
  return table.concat(out)
end

local unit = opts.milliseconds and "msecs" or "usecs"
local function print_hists()
  local hists = obj.maps.hists
  local keys = {}
  for k, h in pairs(hists) do keys[#keys + 1] = { k, h } end
  table.sort(keys, function(a, b) return a[1] < b[1] end)
  for _, kh in ipairs(keys) do
    local h = kh[2]
    -- libbpf-tools' lines: "\ndisk = vda\t" and/or "flags = Sync-Write"
    local line = ""
    if opts.disks then line = ("\ndisk = %s\t"):format(h.disk ~= "" and h.disk or "Unknown") end
    if opts.flag then line = line .. "flags = " .. flags_name(kh[1] >> 32) end
    if opts.disks or opts.flag then print(line) end
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
