--- Ring buffer benchmark: records consumed per second from one ring buffer
-- map of one BPF object, by libbpf from C (bench/ringbuf_bench.c) and by
-- lua-libbpf from Lua, in one run. A program fills the ring with N records
-- (test_run), then one consume() drains them, timed; best of ROUNDS.
-- Like for like: the C callback counts the records and adds up `seq` of every
-- record, and so does every Lua row, each through one way of handing the
-- record over (fields=, a view, a decoded table, raw bytes; one callback per
-- record, or one per batch). Each row prints ns per record and its ratio to C
-- in the same run. The floor rows time what no such design can go below: C
-- calling the same Lua callback N times with lua_call (no ring, no decoding),
-- the same with a view whose __index is a C function that does nothing, the
-- same callback given a 4-member table made by Lua itself per call (the
-- cheapest fresh table per record), the Lua loop that sums a column, and
-- that loop after C filled the column with lua_rawseti (no ring, no record). A row over its target prints MISSED with
-- the floor of its shape.
-- Run with `make bench`, or alone: lua5.4 bench/ringbuf.lua
local bpf = require "libbpf"
local cbench = require "bench.ringbuf_bench"
local harness = require "bench.harness"

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

--- Best time of ROUNDS runs of `once` (returns elapsed ns): bench/harness.lua.
local function best(once) return harness.best(ROUNDS, once) end

local c_ns = best(function()
  fill()
  local dt, n, sum = cbench.consume(map.fd)
  assert(n == N and sum == SEQ_SUM, "C consumer lost records")
  return dt
end)

--- Time a Lua ring buffer with options `opts`; `make()` returns the
-- callback and a function that returns (and resets) its count and seq sum.
local function lua_case(opts, make)
  local cb, tally = make()
  local rb <close> = assert(bpf.ringbuf(map, cb, opts))
  return best(function()
    tally()
    fill()
    local t0 = now()
    local got = rb:consume()
    local dt = now() - t0
    local n, sum = tally()
    assert(got == N and n == N, "Lua consumer lost records")
    assert(sum == SEQ_SUM, "wrong seq sum")
    return dt
  end)
end

-- does this build decode records (the BTF codec of btf.c)?
local decodes
do
  local rb <close> = assert(bpf.ringbuf(map, function(ev) decodes = type(ev) == "table" end,
                                        {type = "struct event"}))
  assert(emit:test_run{ctx = string.pack("I4I4I4I4", 1, 0, 0, 0)})
  rb:consume()
end

--- A per-record callback that counts and sums read(ev), and its tally.
local function per_record(read)
  return function()
    local n, sum = 0, 0
    return function(ev) n = n + 1; sum = sum + read(ev) end,
           function() local a, b = n, sum; n, sum = 0, 0; return a, b end
  end
end

local unpack = string.unpack
local EV = {type = "struct event"}

-- the callbacks the floor rows call, the same as the rows' own
local function fields_cb()
  local n, sum = 0, 0
  return function(seq) n = n + 1; sum = sum + seq end,
         function() local a, b = n, sum; n, sum = 0, 0; return a, b end
end
local function view_cb()
  local n, sum = 0, 0
  return function(ev) n = n + 1; sum = sum + ev.seq end,
         function() local a, b = n, sum; n, sum = 0, 0; return a, b end
end

local function column_cb()          -- a fresh column per batch, as scripts write it
  local n, sum = 0, 0
  return function(b)
    local seq, s = b:column("seq"), 0
    for i = 1, #seq do s = s + seq[i] end
    n, sum = n + #seq, sum + s
  end, function() local a, b = n, sum; n, sum = 0, 0; return a, b end
end

local function column_into_cb()     -- one column table reused: b:column("seq", col)
  local n, sum, col = 0, 0, {}
  return function(b)
    local seq, s = b:column("seq", col), 0
    for i = 1, #seq do s = s + seq[i] end
    n, sum = n + #seq, sum + s
  end, function() local a, b = n, sum; n, sum = 0, 0; return a, b end
end

local function batch_cb(read)
  return function()
    local n, sum = 0, 0
    return function(b)
      local s = 0
      for i = 1, #b do s = s + read(b[i]) end
      n, sum = n + #b, sum + s
    end, function() local a, b = n, sum; n, sum = 0, 0; return a, b end
  end
end

--- The floors, ns for N records.
local function floor_lua_calls()   -- the fields= callback called by a Lua loop
  local cb = fields_cb()
  return best(function()
    local t0 = now()
    for i = 0, N - 1 do cb(i) end
    return now() - t0
  end)
end

local function floor_c_calls()     -- ... and by C with lua_call
  local cb = fields_cb()
  return best(function() return cbench.call_n(cb, N) end)
end

local function floor_c_view()      -- the view callback on a do-nothing C __index
  local cb, v = view_cb(), cbench.stub_view()
  return best(function() return cbench.call_n(cb, N, v) end)
end

local function floor_table()       -- the view callback on a table Lua makes
  local cb = view_cb()
  return best(function()
    local t0 = now()
    for i = 0, N - 1 do cb({seq = i, pid = 4242, kind = i & 3, comm = "lua-libbpf"}) end
    return now() - t0
  end)
end

-- the column floors work on one table of BATCH entries, reused, as the
-- batch row's callback does
local BATCH = 4096

local function floor_sum_loop()    -- the column loop over a filled table
  local filled = {}
  for i = 1, BATCH do filled[i] = i end
  return best(function()
    local col = filled   -- a local, as in the batch callback
    local t0 = now()
    local total = 0
    for _ = 1, N // BATCH do
      local s = 0
      for i = 1, #col do s = s + col[i] end
      total = total + s
    end
    assert(total > 0)
    return (now() - t0) * N / (N // BATCH * BATCH)
  end)
end

local function floor_column()      -- C fills the column, then the Lua loop sums it
  local filled = {}
  for i = 1, BATCH do filled[i] = 0 end
  return best(function()
    local col = filled   -- a local, as in the batch callback
    local dt, total = 0, 0
    for _ = 1, N // BATCH do
      dt = dt + cbench.fill_n(col, BATCH)
      local t0 = now()
      local s = 0
      for i = 1, #col do s = s + col[i] end
      total = total + s
      dt = dt + now() - t0
    end
    assert(total > 0)
    return dt * N / (N // BATCH * BATCH)
  end)
end

local function floor_packed()      -- C packs a fresh column ({...}), the Lua loop sums it
  local packer = load("return {...}")
  return best(function()
    local dt, total = 0, 0
    for _ = 1, N // BATCH do
      local t_fill, col = cbench.pack_n(packer, BATCH)
      local t0 = now()
      local s = 0
      for i = 1, #col do s = s + col[i] end
      total = total + s
      dt = dt + t_fill + now() - t0
    end
    assert(total > 0)
    return dt * N / (N // BATCH * BATCH)
  end)
end

local floors = {
  lua = floor_lua_calls(), call = floor_c_calls(), view = floor_c_view(),
  table = floor_table(), sum = floor_sum_loop(), column = floor_column(),
  packed = floor_packed(),
}

-- name, options, make, target (nil: shown for information), floor key
local cases = {
  -- one callback per record, each reading seq
  {"fields={\"seq\"}: cb(seq)", {type = "struct event", fields = {"seq"}}, fields_cb, 8, "call"},
  {"view=true: ev.seq", {type = "struct event", view = true}, view_cb, 12, "view"},
  {"decoded table: ev.seq", EV, view_cb, 25, "table", true},
  {"raw=true: string.unpack", {raw = true}, per_record(function(ev) return unpack("I8", ev) end)},
  -- one callback per batch of up to 4096 records (batch=true)
  {"batch: b:column(\"seq\")", {type = "struct event", batch = true}, column_cb, 4, "packed"},
  {"batch: b:column(\"seq\", into)", {type = "struct event", batch = true}, column_into_cb},
  {"batch view: b[i].seq", {type = "struct event", view = true, batch = true},
   batch_cb(function(ev) return ev.seq end)},
  {"batch raw: unpack(b[i])", {raw = true, batch = true},
   batch_cb(function(ev) return unpack("I8", ev) end)},
}

local function line(what, ns)
  return string.format("ringbuf %-52s %7.1f ns/record %12.0f records/s", what, ns / N,
                       N / (ns / 1e9))
end

print(string.format("ring buffer: %d records of 32 bytes per consume(), best of %d; every row "
                    .. "counts the records and sums seq", N, ROUNDS))
print(line("C (libbpf): callback reads seq", c_ns))
for _, c in ipairs(cases) do
  local name, opts, make, target, fkey, needs_codec = table.unpack(c)
  if needs_codec and not decodes then
    print(string.format("ringbuf %-52s n/a (no BTF codec in this build)", "Lua " .. name))
  else
    local ns = lua_case(opts, make)
    local r = ns / c_ns
    local verdict = "  (no target)"
    if target then
      verdict = string.format(" (target <= %dx)", target)
      if r > target then
        verdict = verdict .. string.format("  MISSED (floor of this shape %.2fx%s)",
                                           floors[fkey] / c_ns,
                                           floors[fkey] / c_ns > target and ", over the target" or "")
      end
    end
    print(string.format("%s  ratio %6.2fx C%s", line("Lua " .. name, ns), r, verdict))
  end
end
local floor_rows = {
  {"floor: Lua loop calls cb(seq) N times", floors.lua},
  {"floor: C lua_call cb(seq) N times", floors.call},
  {"floor: C lua_call cb(v), v.seq a no-op C __index", floors.view},
  {"floor: Lua loop calls cb{seq=, pid=, kind=, comm=}", floors.table},
  {"floor: Lua loop sums a 4096-entry column", floors.sum},
  {"floor: C fills the column (rawseti), Lua sums it", floors.column},
  {"floor: C packs a fresh column ({...}), Lua sums it", floors.packed},
}
for _, f in ipairs(floor_rows) do
  print(string.format("%s  ratio %6.2fx C (floor)", line(f[1], f[2]), f[2] / c_ns))
end
print("ringbuf (the floors read no ring: walking the ring and reading seq costs about what "
      .. "the whole C row costs, 1x, on top)")
obj:close()
