--- Perf buffer benchmark: samples consumed per second from one perf event
-- array map, by libbpf from C (bench/perfbuf_bench.c: perf_buffer__new +
-- perf_buffer__consume, a C callback that counts and reads `seq`) and by
-- lua-libbpf from Lua, in one run. A raw_tp program (spec/bpf/events.bpf.o,
-- `perf_emit`) writes N samples of `struct event` (32 bytes) with test_run
-- on CPU 0, then one consume() drains them, timed; best of ROUNDS. Every
-- row reads `seq` of every sample and checks the sum.
-- Targets (issue 17): one callback per sample, each mode <= 2x the ring
-- buffer row of the same mode (measured here, same object, same run, the
-- ring filled with the same N records by `emit`); batch (`b:column`) <= 6x
-- C through libbpf's perf_buffer. Rows over target end in MISSED.
-- Run with `make bench`, or alone: lua5.4 bench/perfbuf.lua
local bpf = require "libbpf"
local cbench = require "bench.perfbuf_bench"
local cring = require "bench.ringbuf_bench"  -- the C ring buffer consumer of bench/ringbuf.lua
local harness = require "bench.harness"

local N = tonumber(os.getenv("BENCH_PB_N")) or 100000
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 7
local now = cbench.now
local SEQ_SUM = N * (N - 1) // 2
-- a sample takes 48 bytes of ring (header, size word, 32 bytes, padding)
local PAGES = 1
while PAGES * 4096 <= N * 48 do PAGES = PAGES * 2 end

bpf.set_print(function() end)
local obj = assert(bpf.open("spec/bpf/events.bpf.o"))
assert(obj:load())
local pmap, rmap = obj.maps.samples, obj.maps.events
local pctx = string.pack("I8I8I8", N, 0, 0)
local rctx = string.pack("I4I4I4I4", N, 0, 0, 0)

--- Fill CPU 0's perf ring with samples 0..N-1.
local function pfill()
  assert(obj.progs.perf_emit:test_run{ctx = pctx, flags = 1, cpu = 0})  -- ON_CPU
end

--- Fill the ring buffer with records 0..N-1.
local function rfill()
  local r = assert(obj.progs.emit:test_run{ctx = rctx})
  assert(r.retval == N, "ring buffer too small for N records")
end

--- Best time of ROUNDS runs of `once` (returns elapsed ns): bench/harness.lua.
local function best(once) return harness.best(ROUNDS, once) end

local c_perf = best(function()
  local b = cbench.open(pmap.fd, PAGES)
  pfill()
  local dt, n, sum = b:consume()
  b:close()
  assert(n == N and sum == SEQ_SUM, "C perf consumer lost samples")
  return dt
end)
local c_ring = best(function()
  rfill()
  local dt, n, sum = cring.consume(rmap.fd)
  assert(n == N and sum == SEQ_SUM, "C ring consumer lost records")
  return dt
end)

--- Time `stream` (from make(cb) with the callback `cb` that counts into
-- st.n and sums seq into st.sum) filled by `fill`.
local function timed(make, make_cb, fill)
  local st = {n = 0, sum = 0}
  local s <close> = assert(make(make_cb(st)))
  return best(function()
    st.n, st.sum = 0, 0
    fill()
    local t0 = now()
    local n = s:consume()
    local dt = now() - t0
    assert(n == N and st.n == N and st.sum == SEQ_SUM, "Lua consumer lost records")
    return dt
  end)
end

local function perf_case(opts, make_cb)
  return timed(function(cb)
    local o = {pages = PAGES, on_sample = cb}
    for k, v in pairs(opts) do o[k] = v end
    return bpf.perfbuf(pmap, o)
  end, make_cb, pfill)
end

local function ring_case(opts, make_cb)
  return timed(function(cb) return bpf.ringbuf(rmap, cb, opts) end, make_cb, rfill)
end

local function column_cb(st)
  local col = {}
  return function(b)
    local seq, sum = b:column("seq", col), 0
    for i = 1, #seq do sum = sum + seq[i] end
    st.n, st.sum = st.n + #seq, st.sum + sum
  end
end

-- {name, options, perf callback maker, ring callback maker, target};
-- the perf callbacks take the CPU first
local cases = {
  {"fields, reads seq (fields=)", {type = "struct event", fields = {"seq"}},
   function(st) return function(_, seq) st.n = st.n + 1; st.sum = st.sum + seq end end,
   function(st) return function(seq) st.n = st.n + 1; st.sum = st.sum + seq end end},
  {"view, reads ev.seq", {type = "struct event", view = true},
   function(st) return function(_, ev) st.n = st.n + 1; st.sum = st.sum + ev.seq end end,
   function(st) return function(ev) st.n = st.n + 1; st.sum = st.sum + ev.seq end end},
  {"decoded, reads ev.seq", {type = "struct event"},
   function(st) return function(_, ev) st.n = st.n + 1; st.sum = st.sum + ev.seq end end,
   function(st) return function(ev) st.n = st.n + 1; st.sum = st.sum + ev.seq end end},
}

local function line(what, ns)
  return string.format("perfbuf %-44s %7.1f ns/sample %12.0f samples/s", what, ns / N,
                       N / (ns / 1e9))
end

local function verdict(ratio, target)
  return ratio <= target and "" or "  MISSED"
end

print(string.format("perf buffer: %d samples of 32 bytes on CPU 0 per consume() (%d pages "
                    .. "per CPU), best of %d", N, PAGES, ROUNDS))
print(line("C (libbpf perf_buffer), reads seq", c_perf))
print(string.format("%s  ratio %5.2fx C perf", line("C (libbpf ring_buffer), reads seq", c_ring),
                    c_ring / c_perf))
for _, c in ipairs(cases) do
  local name, opts, perf_cb, ring_cb = table.unpack(c)
  local p = perf_case(opts, perf_cb)
  local r = ring_case(opts, ring_cb)
  print(string.format("%s  ratio %5.2fx C perf", line("Lua ringbuf " .. name, r), r / c_perf))
  print(string.format("%s  ratio %5.2fx C perf, %4.2fx ringbuf (target <= 2x ringbuf)%s",
                      line("Lua " .. name, p), p / c_perf, p / r, verdict(p / r, 2)))
end
local pb = perf_case({type = "struct event", batch = true},
                     function(st) local f = column_cb(st) return function(_, b) f(b) end end)
local rb = ring_case({type = "struct event", batch = true}, column_cb)
print(string.format("%s  ratio %5.2fx C perf", line("Lua ringbuf batch, reads seq (b:column)", rb),
                    rb / c_perf))
print(string.format("%s  ratio %5.2fx C perf (target <= 6x)%s",
                    line("Lua batch, reads seq (b:column)", pb), pb / c_perf,
                    verdict(pb / c_perf, 6)))
-- the floor of any per-sample callback: N calls from a plain Lua loop
local st = {n = 0, sum = 0}
local cb = cases[1][3](st)
local floor = best(function()
  st.n, st.sum = 0, 0
  local t0 = now()
  for i = 1, N do cb(0, i) end
  return now() - t0
end)
print(string.format("%s  ratio %5.2fx C perf (the per-sample floor)",
                    line("Lua alone: N calls of the fields= callback", floor), floor / c_perf))
obj:close()
