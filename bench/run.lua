--- Map benchmark: the same work from Lua (lua-libbpf) and from C (libbpf
-- called directly, bench/cbench.c), over one map of one BPF object, in one
-- run. Prints ns per operation and the Lua/C ratio of every form a script
-- writes (m:update(k, v), m[k] = v, m:lookup(k), m[k], pairs(m),
-- m:dump()), then, as information, the cached-method form
-- (`local lookup = m.lookup`) and the floor of any binding: a C function
-- doing one syscall per Lua call with no checks (cbench.lookup1/update1).
-- Run with `make bench`.
--
-- The machine is shared and each operation is a syscall, so timings are
-- noisy: update and lookup are timed in chunks of CHUNK keys, every form of
-- a group (C first, then the Lua forms) on the same chunk in a rotating
-- order, and each chunk's best time over ROUNDS counts; pairs and dump
-- walk the whole map and count their best round.
local bpf = require "libbpf"
local cbench = require "bench.cbench"
local harness = require "bench.harness"

local N = tonumber(os.getenv("BENCH_N")) or 100000
local CHUNK = tonumber(os.getenv("BENCH_CHUNK")) or 1000
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 9
local now = cbench.now

local obj = assert(bpf.open("bench/map_bench.bpf.o"))
assert(obj:load())
local m = obj.maps.bench_hash
local fd = m.fd
local SUM = 3 * N * (N - 1) // 2
local function keys_sum(first) return 3 * CHUNK * (2 * first + CHUNK - 1) // 2 end

-- Each group: rows {label, function(first) -> elapsed ns, target or nil};
-- row 1 is C, the reference of the others.
local update_c, lookup_c = cbench.update, cbench.lookup
local update, lookup = m.update, m.lookup
local update1, lookup1 = cbench.update1, cbench.lookup1
-- the floor of the method and index forms: userdata holding the fd whose
-- methods find it with one table lookup (hm) or whose __index and
-- __newindex are the C functions themselves (hi), checking nothing
local hm, hi = cbench.handle(fd, "method"), cbench.handle(fd, "index")
local groups = {
  {
    {"C bpf_map_update_elem", function(first) return update_c(fd, CHUNK, first) end},
    {"m:update(k, v)", function(first)
      local t0 = now()
      for k = first, first + CHUNK - 1 do m:update(k, k * 3) end
      return now() - t0
    end, 1.10},
    {"m[k] = v", function(first)
      local t0 = now()
      for k = first, first + CHUNK - 1 do m[k] = k * 3 end
      return now() - t0
    end, 1.10},
    {"local update = m.update", function(first)
      local t0 = now()
      for k = first, first + CHUNK - 1 do update(m, k, k * 3) end
      return now() - t0
    end},
    {"floor: cbench.update1", function(first)
      local t0 = now()
      for k = first, first + CHUNK - 1 do update1(fd, k, k * 3) end
      return now() - t0
    end},
    {"floor: h:update(k, v)", function(first)
      local t0 = now()
      for k = first, first + CHUNK - 1 do hm:update(k, k * 3) end
      return now() - t0
    end},
    {"floor: h[k] = v", function(first)
      local t0 = now()
      for k = first, first + CHUNK - 1 do hi[k] = k * 3 end
      return now() - t0
    end},
  },
  {
    {"C bpf_map_lookup_elem", function(first) return (lookup_c(fd, CHUNK, first)) end},
    {"m:lookup(k)", function(first)
      local sum = 0
      local t0 = now()
      for k = first, first + CHUNK - 1 do sum = sum + m:lookup(k) end
      local dt = now() - t0
      assert(sum == keys_sum(first), "m:lookup sum")
      return dt
    end, 1.10},
    {"m[k]", function(first)
      local sum = 0
      local t0 = now()
      for k = first, first + CHUNK - 1 do sum = sum + m[k] end
      local dt = now() - t0
      assert(sum == keys_sum(first), "m[k] sum")
      return dt
    end, 1.10},
    {"local lookup = m.lookup", function(first)
      local sum = 0
      local t0 = now()
      for k = first, first + CHUNK - 1 do sum = sum + lookup(m, k) end
      local dt = now() - t0
      assert(sum == keys_sum(first), "cached lookup sum")
      return dt
    end},
    {"floor: cbench.lookup1", function(first)
      local sum = 0
      local t0 = now()
      for k = first, first + CHUNK - 1 do sum = sum + lookup1(fd, k) end
      local dt = now() - t0
      assert(sum == keys_sum(first), "lookup1 sum")
      return dt
    end},
    {"floor: h:lookup(k)", function(first)
      local sum = 0
      local t0 = now()
      for k = first, first + CHUNK - 1 do sum = sum + hm:lookup(k) end
      local dt = now() - t0
      assert(sum == keys_sum(first), "h:lookup sum")
      return dt
    end},
    {"floor: h[k]", function(first)
      local sum = 0
      local t0 = now()
      for k = first, first + CHUNK - 1 do sum = sum + hi[k] end
      local dt = now() - t0
      assert(sum == keys_sum(first), "h[k] sum")
      return dt
    end},
  },
}

--- pairs(m): the walk is timed every CHUNK elements, in C as in Lua (the
-- hash order is the same in every round), and each chunk's best counts, as
-- for the chunked rows. Returns {ns of every chunk}.
local function pairs_c()
  local _, n, sum, times = cbench.iterate(fd, CHUNK)
  assert(n == N and sum == SUM, "C iterate count/sum")
  return times
end

local function pairs_lua()
  local times, n, sum = {}, 0, 0
  local t0 = now()
  for _, v in pairs(m) do
    n = n + 1; sum = sum + v
    if n % CHUNK == 0 then
      local t = now()
      times[#times + 1] = t - t0
      t0 = t
    end
  end
  assert(n == N and sum == SUM, "pairs count/sum")
  return times
end

--- m:dump() against bpf_map_lookup_batch into arrays: one call each, whole
-- map, best of 3 * ROUNDS rounds.
local dump_rows = {
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
}

-- ns per key of every row of a group (bench/harness.lua)
local function measure_group(rows)
  return harness.chunked(rows, N, CHUNK, ROUNDS)
end

local function measure_pairs()
  local best_c, best_l = {}, {}
  for round = 1, ROUNDS do
    collectgarbage()
    local c, l
    if round % 2 == 1 then c = pairs_c(); l = pairs_lua() else l = pairs_lua(); c = pairs_c() end
    for i = 1, #c do best_c[i] = math.min(best_c[i] or math.huge, c[i]) end
    for i = 1, #l do best_l[i] = math.min(best_l[i] or math.huge, l[i]) end
  end
  local c, l = 0, 0
  for i = 1, #best_c do c, l = c + best_c[i], l + best_l[i] end
  return c / (#best_c * CHUNK), l / (#best_l * CHUNK)
end

local function measure_dump()
  local c, l = math.huge, math.huge
  for round = 1, 3 * ROUNDS do
    collectgarbage()
    if round % 2 == 1 then
      c = math.min(c, dump_rows[1]()); l = math.min(l, dump_rows[2]())
    else
      l = math.min(l, dump_rows[2]()); c = math.min(c, dump_rows[1]())
    end
  end
  return c / N, l / N
end

update_c(fd, N)   -- fill the map before timing
print(string.format("map benchmark: hash map, u32 key, u64 value, %d entries, best of %d",
                    N, ROUNDS))
print(string.format("%-28s %9s %9s %7s %7s", "form", "C ns/op", "Lua ns/op", "Lua/C", "target"))
local missed = 0
local TARGETS = {["pairs(m) per element"] = 1.10, ["m:dump() per element"] = 1.20}
local function row(label, c, l, target)
  target = target or TARGETS[label]
  local ratio = l / c
  local verdict = ""
  if target then
    verdict = ratio <= target and "ok" or "MISSED"
    if ratio > target then missed = missed + 1 end
  end
  print(string.format("%-28s %9.1f %9.1f %7.3f %7s %s", label, c, l, ratio,
                      target and string.format("%.2f", target) or "info", verdict))
end
for _, rows in ipairs(groups) do
  local ns = measure_group(rows)
  for i = 2, #rows do row(rows[i][1], ns[1], ns[i], rows[i][3]) end
end
row("pairs(m) per element", measure_pairs())
row("m:dump() per element", measure_dump())
print("(info rows: the cached-method form; the floors of any binding, one syscall per Lua"
      .. " call and no checks:\n cbench.lookup1(fd, k) a plain call, h:lookup(k) a method"
      .. " found in an __index table, h[k] a C __index)")

-- m:mmap(): bench/mmap.lua (make bench-mmap)
if missed > 0 then print(missed .. " target(s) missed") end
obj:close()
