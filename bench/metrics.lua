--- Metrics benchmark (issue 18): the time of one scrape of 10,000 series
-- (a per-CPU hash keyed by struct exec_key {char comm[16]}, 10,000 entries,
-- read with batch lookups, summed over CPUs, comm decoded, rendered as
-- Prometheus text), and how long ring buffer polling waits during scrapes
-- on the exporter's loop: a cqueues loop where one coroutine consumes
-- examples/execcount.bpf.o's ring buffer (fed by a shell exec'ing
-- /bin/true in a loop) and another scrapes repeatedly, yielding every few
-- hundred series as examples/exporter.lua does.
-- Prints: scrape ms (best and median), the longest stretch a scrape kept
-- the loop (between two yields; wall time, which on a loaded machine
-- includes the times the process was not scheduled, and CPU time), and the
-- longest gap between two ring buffer wakeups while scrapes ran, next to
-- the same gap with no scrape (what the machine's load alone costs).
-- Run with `make bench`, or alone: lua5.4 bench/metrics.lua
package.path = package.path .. ";/usr/share/lua/5.3/?.lua;/usr/share/lua/5.3/?/init.lua"
  .. ";/usr/share/lua/5.2/?.lua;/usr/share/lua/5.2/?/init.lua"
local bpf = require "libbpf"
local metrics = require "libbpf.metrics"
local cqueues = require "cqueues"

local SERIES = tonumber(os.getenv("BENCH_SERIES")) or 10000
local SCRAPES = tonumber(os.getenv("BENCH_SCRAPES")) or 20
local now = cqueues.monotime

bpf.set_print(function() end)
local obj = assert(bpf.open("examples/execcount.bpf.o"))
obj.maps.exec_counts:set_max_entries(SERIES + 1024)
assert(obj:load())
local m = obj.maps.exec_counts
local ncpu = bpf.num_possible_cpus()
local per_cpu = {}
for c = 1, ncpu do per_cpu[c] = c end
for i = 1, SERIES do m[{comm = ("bench%06d"):format(i)}] = per_cpu end

local reg = metrics.new{prefix = "bench_", max_series = SERIES + 1024}
reg:counter{name = "exec_total", help = "execs by comm", map = m,
            labels = {{name = "comm", field = "comm", decode = "string"}}}

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

-- 1. scrape time alone
local times = {}
local body
for i = 1, SCRAPES do
  collectgarbage("collect")
  local t0 = now()
  body = reg:render("prometheus")
  times[i] = now() - t0
end
local nseries = select(2, body:gsub("\nbench_exec_total{", ""))
assert(nseries >= SERIES, ("only %d series rendered"):format(nseries))

-- 2. the loop: ring buffer poller + scraper
assert(obj:attach())
local cq = cqueues.new()
local wakeups, scraping, stop = {}, false, false
local gaps_scrape, gaps_idle = 0, 0
local last_wake
local rb = assert(bpf.ringbuf(obj.maps.exec_events, function() end, {raw = true}))
local pollable = {pollfd = rb:epoll_fd(), events = "r"}
local events = 0
cq:wrap(function()
  while not stop do
    cqueues.poll(pollable, 0.05)
    local t = now()
    if last_wake then
      local gap = t - last_wake
      if scraping then
        if gap > gaps_scrape then gaps_scrape = gap end
      elseif gap > gaps_idle then gaps_idle = gap end
    end
    last_wake = t
    events = events + rb:consume()
    wakeups[#wakeups + 1] = t
  end
end)
local max_hold, max_hold_cpu, holds = 0, 0, {}
local loop_times = {}
cq:wrap(function()
  cqueues.sleep(0.3)   -- idle gaps first, then scrapes back to back
  for i = 1, SCRAPES do
    local t0 = now()
    local last, last_cpu = t0, os.clock()
    scraping = true
    local function hold()
      local t, c = now(), os.clock()
      if t - last > max_hold then max_hold = t - last end
      if c - last_cpu > max_hold_cpu then max_hold_cpu = c - last_cpu end
      holds[#holds + 1] = t - last
    end
    reg:render("prometheus", function()
      hold()
      cqueues.sleep(0)
      last, last_cpu = now(), os.clock()
    end)
    hold()
    local t = now()
    scraping = false
    loop_times[i] = t - t0
    cqueues.sleep(0.01)
  end
  stop = true
end)
local gen = io.popen("sh -c 'echo $$; while :; do /bin/true; done' 2>/dev/null")
local gen_pid = assert(tonumber(gen:read("l")))
local ok, err = cq:loop()
os.execute("kill " .. gen_pid)
gen:close()
rb:close()
obj:close()
assert(ok, err)

print(("metrics benchmark: %d series (per-CPU hash, struct key, %d CPUs), %d scrapes"):format(
  nseries, ncpu, SCRAPES))
print(("%-44s %8.2f ms (median %.2f)"):format("scrape, alone (best)", times[1] and
  (function() local b = math.huge for _, t in ipairs(times) do b = math.min(b, t) end return b end)() * 1e3,
  median(times) * 1e3))
print(("%-44s %8.2f ms"):format("scrape on the loop, yielding (median)", median(loop_times) * 1e3))
print(("%-44s %8.2f ms (median %.2f ms; longest in CPU time %.2f ms)"):format(
  "longest hold of the loop by a scrape", max_hold * 1e3, median(holds) * 1e3, max_hold_cpu * 1e3))
print(("%-44s %8.2f ms (no scrape: %.2f ms; %d events)"):format(
  "longest ring buffer polling gap during scrapes", gaps_scrape * 1e3, gaps_idle * 1e3, events))
