--- Ring buffer benchmark: records consumed per second from one ring buffer
-- map of one BPF object, by libbpf from C (bench/ringbuf_bench.c) and by
-- lua-libbpf from Lua, in one run. A program fills the ring with N records
-- (test_run), then one consume() drains them, timed; best of ROUNDS.
-- Prints ns per record and the Lua/C ratio for each way of handing the
-- record to the callback: raw bytes, a decoded table (BTF codec), a reusable
-- view; with a trivial callback and with one that reads the `seq` field; then
-- the same with one callback per batch of records (batch=true). The last line
-- is the floor of any per-record callback: calling it N times from Lua.
-- Run with `make bench`, or alone: lua5.4 bench/ringbuf.lua
local bpf = require "libbpf"
local cbench = require "bench.ringbuf_bench"

local N = tonumber(os.getenv("BENCH_RB_N")) or 100000
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 7
local now = cbench.now
local SEQ_SUM = N * (N - 1) // 2

bpf.set_print(function() end)
local obj = assert(bpf.open("spec/bpf/events.bpf.o"))
assert(obj:load())
local map, emit = obj.maps.events, obj.progs.emit
local ctx = string.pack("I4I4I4I4", N, 0, 0, 0)

--- Fill the ring with records 0..N-1.
local function fill()
  local r = assert(emit:test_run{ctx = ctx})
  assert(r.retval == N, "ring buffer too small for N records")
end

--- Best time of ROUNDS runs of `once` (returns elapsed ns).
local function best(once)
  local t = math.huge
  for _ = 1, ROUNDS do
    collectgarbage("collect")
    local dt = once()
    if dt < t then t = dt end
  end
  return t
end

local c_ns = best(function()
  fill()
  local dt, n, sum = cbench.consume(map.fd)
  assert(n == N and sum == SEQ_SUM, "C consumer lost records")
  return dt
end)

--- Time a Lua ring buffer with options `opts`; `make_cb(state)` returns the
-- callback, which counts into state.n and sums seq into state.sum if it reads.
local function lua_case(opts, make_cb, reads)
  local st = {n = 0, sum = 0}
  local rb <close> = assert(bpf.ringbuf(map, make_cb(st), opts))
  return best(function()
    st.n, st.sum = 0, 0
    fill()
    local t0 = now()
    local n = rb:consume()
    local dt = now() - t0
    assert(n == N and st.n == N, "Lua consumer lost records")
    assert(not reads or st.sum == SEQ_SUM, "wrong seq sum")
    return dt
  end)
end

local function trivial(st) return function() st.n = st.n + 1 end end

-- does this build decode records (the BTF codec of btf.c)?
local decodes
do
  local rb <close> = assert(bpf.ringbuf(map, function(ev) decodes = type(ev) == "table" end,
                                        {type = "struct event"}))
  assert(emit:test_run{ctx = string.pack("I4I4I4I4", 1, 0, 0, 0)})
  rb:consume()
end

local function batch_trivial(st) return function(b) st.n = st.n + #b end end

local cases = {
  -- one callback per record
  {"raw, trivial callback", {raw = true}, trivial, false, 3},
  {"decoded, trivial callback", {type = "struct event"}, trivial, false, 5, true},
  {"view, trivial callback", {type = "struct event", view = true}, trivial, false, 5},
  {"raw, reads seq (string.unpack)", {raw = true}, function(st)
    local unpack = string.unpack
    return function(ev) st.n = st.n + 1; st.sum = st.sum + unpack("I8", ev) end
  end, true, 3},
  {"decoded, reads ev.seq", {type = "struct event"}, function(st)
    return function(ev) st.n = st.n + 1; st.sum = st.sum + ev.seq end
  end, true, 5, true},
  {"view, reads ev.seq", {type = "struct event", view = true}, function(st)
    return function(ev) st.n = st.n + 1; st.sum = st.sum + ev.seq end
  end, true, 5},
  {"fields, reads seq (fields=)", {type = "struct event", fields = {"seq"}}, function(st)
    return function(seq) st.n = st.n + 1; st.sum = st.sum + seq end
  end, true, 8},
  -- one callback per batch of up to 4096 records (batch=true)
  {"batch raw, trivial (#b)", {raw = true, batch = true}, batch_trivial, false, 3},
  {"batch decoded, trivial (#b)", {type = "struct event", batch = true}, batch_trivial,
   false, 5},
  {"batch, reads seq (b:column)", {type = "struct event", batch = true}, function(st)
    local col = {}
    return function(b)
      local seq, sum = b:column("seq", col), 0
      for i = 1, #seq do sum = sum + seq[i] end
      st.n, st.sum = st.n + #seq, st.sum + sum
    end
  end, true, 5},
  {"batch raw, reads b[i] (unpack)", {raw = true, batch = true}, function(st)
    local unpack = string.unpack
    return function(b)
      local sum = 0
      for i = 1, #b do sum = sum + unpack("I8", b[i]) end
      st.n, st.sum = st.n + #b, st.sum + sum
    end
  end, true, 3},
  {"batch view, reads b[i].seq", {type = "struct event", view = true, batch = true},
   function(st)
    return function(b)
      local sum = 0
      for i = 1, #b do sum = sum + b[i].seq end
      st.n, st.sum = st.n + #b, st.sum + sum
    end
  end, true, 5},
}

--- The floor of any per-record callback: the trivial callback called N
-- times from a plain Lua loop, no ring buffer at all.
local function lua_call_floor()
  local st = {n = 0}
  local cb = trivial(st)
  return best(function()
    st.n = 0
    local t0 = now()
    for _ = 1, N do cb() end
    return now() - t0
  end)
end

local function line(what, ns)
  return string.format("ringbuf %-34s %7.1f ns/record %12.0f records/s", what, ns / N,
                       N / (ns / 1e9))
end

print(string.format("ring buffer: %d records of 32 bytes per consume(), best of %d", N, ROUNDS))
print(line("C (libbpf), trivial callback", c_ns))
for _, c in ipairs(cases) do
  local name, opts, make_cb, reads, target, needs_codec = table.unpack(c)
  if needs_codec and not decodes then
    print(string.format("ringbuf %-34s n/a (no BTF codec in this build)", name))
  else
    local ns = lua_case(opts, make_cb, reads)
    print(string.format("%s  ratio %5.2fx C (target <= %dx)%s", line("Lua " .. name, ns),
                        ns / c_ns, target, ns / c_ns <= target and "" or "  MISSED"))
  end
end
local floor = lua_call_floor()
print(string.format("%s  ratio %5.2fx C (the per-record floor)",
                    line("Lua alone: N calls of the callback", floor), floor / c_ns))
obj:close()
