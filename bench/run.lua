--- Map benchmark: the same work from Lua (lua-libbpf) and from C (libbpf
-- called directly, bench/cbench.c), over one map of one BPF object, in one
-- run. Prints ns per operation and the Lua/C ratio.
-- Run with `make bench`.
local bpf = require "libbpf"
local cbench = require "bench.cbench"

local N = tonumber(os.getenv("BENCH_N")) or 100000
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 7
local now = cbench.now

local obj = assert(bpf.open("bench/map_bench.bpf.o"))
assert(obj:load())
local m = obj.maps.bench_hash
local fd = m.fd

--- Lua side of each operation; each returns elapsed ns.
local lua_ops = {}

function lua_ops.update()
  local update = m.update
  local t0 = now()
  for k = 0, N - 1 do update(m, k, k * 3) end
  return now() - t0
end

function lua_ops.lookup()
  local lookup = m.lookup
  local sum = 0
  local t0 = now()
  for k = 0, N - 1 do sum = sum + lookup(m, k) end
  local dt = now() - t0
  assert(sum == 3 * N * (N - 1) // 2, "lookup sum")
  return dt
end

function lua_ops.pairs()
  local n, sum = 0, 0
  local t0 = now()
  for _, v in pairs(m) do n = n + 1; sum = sum + v end
  local dt = now() - t0
  assert(n == N and sum == 3 * N * (N - 1) // 2, "pairs count/sum")
  return dt
end

function lua_ops.dump()
  local t0 = now()
  local t = m:dump()
  local dt = now() - t0
  assert(t[N - 1] == 3 * (N - 1), "dump content")
  return dt
end

--- C side of each operation.
local c_ops = {
  update = function() return cbench.update(fd, N) end,
  lookup = function()
    local dt, sum = cbench.lookup(fd, N)
    assert(sum == 3 * N * (N - 1) // 2, "C lookup sum")
    return dt
  end,
  pairs = function()
    local dt, n = cbench.iterate(fd)
    assert(n == N, "C iterate count")
    return dt
  end,
  dump = function()
    local dt, n = cbench.dump(fd, N + 1)
    assert(n == N, "C dump count")
    return dt
  end,
}

local targets = {update = 1.10, lookup = 1.10, pairs = 1.15, dump = 1.5}
local order = {"update", "lookup", "pairs", "dump"}

-- best of ROUNDS, C and Lua interleaved so that both see the same machine
local best_c, best_lua = {}, {}
c_ops.update()
for _ = 1, ROUNDS do
  for _, op in ipairs(order) do
    local c, l = c_ops[op](), lua_ops[op]()
    best_c[op] = math.min(best_c[op] or math.huge, c)
    best_lua[op] = math.min(best_lua[op] or math.huge, l)
  end
end

print(string.format("map benchmark: hash map, u32 key, u64 value, %d entries, best of %d",
                    N, ROUNDS))
print(string.format("%-8s %10s %10s %8s %8s", "op", "C ns/op", "Lua ns/op", "Lua/C", "target"))
local failed = 0
for _, op in ipairs(order) do
  local c, l = best_c[op] / N, best_lua[op] / N
  local ratio = l / c
  local ok = ratio <= targets[op]
  if not ok then failed = failed + 1 end
  print(string.format("%-8s %10.1f %10.1f %8.3f %8.2f %s", op, c, l, ratio, targets[op],
                      ok and "ok" or "MISSED"))
end
obj:close()
if failed > 0 then print(failed .. " target(s) missed") end
