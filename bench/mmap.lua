--- m:mmap() benchmark (issue 17): an array created with BPF_F_MMAPABLE
-- (bench_array of bench/map_bench.bpf.o, u64 values), the same N elements
-- read and written by a C loop over the same memory (bench/cmmap.c, one
-- volatile load or store per element), by the syscalls (m:lookup,
-- m:update), by the view (v[k], v[k] = x) and by its bulk forms (v:read,
-- v:write). Then the floors: what any Lua loop costs here (a plain table),
-- and what any metamethod costs (a C __index/__newindex doing nothing).
-- Run by `make bench` (target bench-mmap).
--
-- Every row works chunk by chunk (CHUNK elements), each chunk's best over
-- ROUNDS rounds counting, the order of the rows rotated every round.
local bpf = require "libbpf"
local cm = require "bench.cmmap"
local harness = require "bench.harness"

local N = tonumber(os.getenv("BENCH_N")) or 100000
local CHUNK = tonumber(os.getenv("BENCH_CHUNK")) or 1000
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 9
local now = cm.now

local obj = assert(bpf.open("bench/map_bench.bpf.o"))
assert(obj:load())
local m = obj.maps.bench_array
assert(N <= m.max_entries, "BENCH_N is larger than bench_array")
assert(N % CHUNK == 0, "BENCH_N must be a multiple of BENCH_CHUNK")
local v = assert(m:mmap())
local addr = cm.map(m.fd, N)
for k = 0, N - 1 do v[k] = k * 3 end
local function chunk_sum(first) return 3 * CHUNK * (2 * first + CHUNK - 1) // 2 end

-- the floors' tables: a plain one holding the same values, and tables whose
-- __index (rawlen: returns 0) and __newindex (rawequal) are C functions
-- that do nothing
local plain = {}
for k = 0, N - 1 do plain[k] = k * 3 end
local cidx = setmetatable({}, {__index = rawlen, __newindex = rawequal})
-- v:write's input, one table per chunk, made before timing
local wtab = {}
for first = 0, N - 1, CHUNK do
  local t = {}
  for j = 1, CHUNK do t[j] = (first + j - 1) * 3 end
  wtab[first] = t
end

--- Each row: name, function(first) -> elapsed ns for the chunk.
local rows = {
  {"c_read", function(first)
    local dt, sum = cm.sum(addr, CHUNK, first)
    assert(sum == chunk_sum(first), "C sum")
    return dt
  end},
  {"lookup", function(first)
    local sum = 0
    local t0 = now()
    for k = first, first + CHUNK - 1 do sum = sum + m:lookup(k) end
    local dt = now() - t0
    assert(sum == chunk_sum(first), "lookup sum")
    return dt
  end},
  {"view_read", function(first)
    local sum = 0
    local t0 = now()
    for k = first, first + CHUNK - 1 do sum = sum + v[k] end
    local dt = now() - t0
    assert(sum == chunk_sum(first), "v[k] sum")
    return dt
  end},
  {"bulk_read_sum", function(first)
    local sum = 0
    local t0 = now()
    local t = v:read(first, CHUNK)
    for j = 1, CHUNK do sum = sum + t[j] end
    local dt = now() - t0
    assert(sum == chunk_sum(first), "v:read sum")
    return dt
  end},
  {"bulk_read", function(first)
    local t0 = now()
    local t = v:read(first, CHUNK)
    local dt = now() - t0
    assert(#t == CHUNK and t[CHUNK] == (first + CHUNK - 1) * 3, "v:read content")
    return dt
  end},
  {"floor_read", function(first)
    local sum = 0
    local t0 = now()
    for k = first, first + CHUNK - 1 do sum = sum + plain[k] end
    local dt = now() - t0
    assert(sum == chunk_sum(first), "plain sum")
    return dt
  end},
  {"floor_index", function(first)
    local sum = 0
    local t0 = now()
    for k = first, first + CHUNK - 1 do sum = sum + cidx[k] end
    local dt = now() - t0
    assert(sum == 0, "rawlen __index")
    return dt
  end},
  {"c_store", function(first) return cm.store(addr, CHUNK, first) end},
  {"update", function(first)
    local t0 = now()
    for k = first, first + CHUNK - 1 do m:update(k, k * 3) end
    return now() - t0
  end},
  {"view_write", function(first)
    local t0 = now()
    for k = first, first + CHUNK - 1 do v[k] = k * 3 end
    return now() - t0
  end},
  {"bulk_write", function(first)
    local t = wtab[first]
    local t0 = now()
    v:write(first, t)
    return now() - t0
  end},
  {"floor_write", function(first)
    local t0 = now()
    for k = first, first + CHUNK - 1 do plain[k] = k * 3 end
    return now() - t0
  end},
  {"floor_newindex", function(first)
    local t0 = now()
    for k = first, first + CHUNK - 1 do cidx[k] = k * 3 end
    return now() - t0
  end},
}

local ns = {}
for i, per in ipairs(harness.chunked(rows, N, CHUNK, ROUNDS)) do ns[rows[i][1]] = per end
-- every write row stored k * 3: the array still holds what it did
assert(m:lookup(N - 1) == 3 * (N - 1) and v:read(0, 1)[1] == 0, "writes")
obj:close()

local missed = 0
local function verdict(ok)
  if not ok then missed = missed + 1 end
  return ok and "ok" or "MISSED"
end
local function line(label, x, rest)
  print(string.format("%-32s %8.2f  %s", label, x, rest or ""))
end
--- A row with its two targets: >= 20x faster than the syscall `sys`,
-- <= 5x the C loop `c`.
local function targeted(label, x, sys, sysname, c)
  local speedup, vs_c = ns[sys] / x, x / ns[c]
  line(label, x, string.format("%5.1fx faster than %s (>= 20) %-6s %6.1fx the C loop (<= 5) %s",
                               speedup, sysname, verdict(speedup >= 20), vs_c, verdict(vs_c <= 5)))
end

print(string.format("mmap benchmark: array map (BPF_F_MMAPABLE), u64 value, %d elements, " ..
                    "chunks of %d, best of %d", N, CHUNK, ROUNDS))
print(string.format("%-32s %8s", "read", "ns/elem"))
line("C loop: sum += a[k]", ns.c_read)
line("Lua m:lookup(k) (syscall)", ns.lookup)
targeted("Lua v[k]", ns.view_read, "lookup", "m:lookup", "c_read")
targeted("Lua v:read(first, n), then sum", ns.bulk_read_sum, "lookup", "m:lookup", "c_read")
line("  of which v:read(first, n)", ns.bulk_read,
     string.format("%5.1fx the C loop", ns.bulk_read / ns.c_read))
line("floor: plain table t[k], sum", ns.floor_read,
     string.format("%5.1fx the C loop: any Lua loop over the elements", ns.floor_read / ns.c_read))
line("floor: C __index doing nothing", ns.floor_index,
     string.format("%5.1fx the C loop, %.1fx faster than m:lookup: any v[k]",
                   ns.floor_index / ns.c_read, ns.lookup / ns.floor_index))
print(string.format("%-32s %8s", "write", "ns/elem"))
line("C loop: a[k] = x", ns.c_store)
line("Lua m:update(k, x) (syscall)", ns.update)
targeted("Lua v[k] = x", ns.view_write, "update", "m:update", "c_store")
targeted("Lua v:write(first, t)", ns.bulk_write, "update", "m:update", "c_store")
line("floor: plain table t[k] = x", ns.floor_write,
     string.format("%5.1fx the C loop: any Lua loop over the elements", ns.floor_write / ns.c_store))
line("floor: C __newindex doing nothing", ns.floor_newindex,
     string.format("%5.1fx the C loop, %.1fx faster than m:update: any v[k] = x",
                   ns.floor_newindex / ns.c_store, ns.update / ns.floor_newindex))
if missed > 0 then print(missed .. " mmap target(s) missed") end
