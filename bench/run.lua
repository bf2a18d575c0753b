--- Map benchmark: the same work from Lua (lua-libbpf) and from C (libbpf
-- called directly, bench/cbench.c), over one map of one BPF object, in one
-- run. Prints ns per operation and the Lua/C ratio. Run with `make bench`.
--
-- The machine is shared and each operation is a syscall, so timings are
-- noisy: update and lookup are timed in chunks of CHUNK keys, C and Lua
-- alternating, and each chunk's best time over ROUNDS counts; pairs and dump
-- walk the whole map and count their best round.
local bpf = require "libbpf"
local cbench = require "bench.cbench"

local N = tonumber(os.getenv("BENCH_N")) or 100000
local CHUNK = tonumber(os.getenv("BENCH_CHUNK")) or 1000
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 9
local now = cbench.now

local obj = assert(bpf.open("bench/map_bench.bpf.o"))
assert(obj:load())
local m = obj.maps.bench_hash
local fd = m.fd
local update, lookup = m.update, m.lookup
local SUM = 3 * N * (N - 1) // 2

--- Per-chunk work: {C function, Lua function}, each (first) -> elapsed ns.
local chunked = {
  update = {
    function(first) return cbench.update(fd, CHUNK, first) end,
    function(first)
      local t0 = now()
      for k = first, first + CHUNK - 1 do update(m, k, k * 3) end
      return now() - t0
    end,
  },
  lookup = {
    function(first) return (cbench.lookup(fd, CHUNK, first)) end,
    function(first)
      local sum = 0
      local t0 = now()
      for k = first, first + CHUNK - 1 do sum = sum + lookup(m, k) end
      local dt = now() - t0
      assert(sum == 3 * CHUNK * (2 * first + CHUNK - 1) // 2, "lookup sum")
      return dt
    end,
  },
}

--- Whole-map work: {C function, Lua function}, each () -> elapsed ns.
local whole = {
  pairs = {
    function()
      local dt, n = cbench.iterate(fd)
      assert(n == N, "C iterate count")
      return dt
    end,
    function()
      local n, sum = 0, 0
      local t0 = now()
      for _, v in pairs(m) do n = n + 1; sum = sum + v end
      local dt = now() - t0
      assert(n == N and sum == SUM, "pairs count/sum")
      return dt
    end,
  },
  dump = {
    function()
      local dt, n = cbench.dump(fd, N + 1)
      assert(n == N, "C dump count")
      return dt
    end,
    function()
      local t0 = now()
      local t = m:dump()
      local dt = now() - t0
      assert(t[N - 1] == 3 * (N - 1), "dump content")
      return dt
    end,
  },
}

local function measure_chunked(pair)
  local best_c, best_l = {}, {}
  for round = 1, ROUNDS do
    for first = 0, N - 1, CHUNK do
      -- whoever goes second finds the same keys warm in the cache: alternate
      local c, l
      if round % 2 == 1 then
        c = pair[1](first); l = pair[2](first)
      else
        l = pair[2](first); c = pair[1](first)
      end
      best_c[first] = math.min(best_c[first] or math.huge, c)
      best_l[first] = math.min(best_l[first] or math.huge, l)
    end
  end
  local c, l = 0, 0
  for first = 0, N - 1, CHUNK do c, l = c + best_c[first], l + best_l[first] end
  return c / N, l / N
end

local function measure_whole(pair)
  local c, l = math.huge, math.huge
  for round = 1, ROUNDS do
    collectgarbage()
    if round % 2 == 1 then
      c = math.min(c, pair[1]()); l = math.min(l, pair[2]())
    else
      l = math.min(l, pair[2]()); c = math.min(c, pair[1]())
    end
  end
  return c / N, l / N
end

cbench.update(fd, N)   -- fill the map before timing
local results = {}
results.update = {measure_chunked(chunked.update)}
results.lookup = {measure_chunked(chunked.lookup)}
results.pairs = {measure_whole(whole.pairs)}
results.dump = {measure_whole(whole.dump)}

local targets = {update = 1.10, lookup = 1.10, pairs = 1.15, dump = 1.5}
print(string.format("map benchmark: hash map, u32 key, u64 value, %d entries, best of %d",
                    N, ROUNDS))
print(string.format("%-8s %10s %10s %8s %8s", "op", "C ns/op", "Lua ns/op", "Lua/C", "target"))
local missed = 0
for _, op in ipairs{"update", "lookup", "pairs", "dump"} do
  local c, l = results[op][1], results[op][2]
  local ratio = l / c
  if ratio > targets[op] then missed = missed + 1 end
  print(string.format("%-8s %10.1f %10.1f %8.3f %8.2f %s", op, c, l, ratio, targets[op],
                      ratio <= targets[op] and "ok" or "MISSED"))
end

-- m:mmap(): bench/mmap.lua (make bench-mmap)
if missed > 0 then print(missed .. " target(s) missed") end
obj:close()
