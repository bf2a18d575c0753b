-- BTF-driven conversion of keys, values and globals (issue 4).
local bpf = require "libbpf"

local OBJ = "spec/bpf/typed.bpf.o"

describe("a BTF codec", function()
  local btf

  setup(function()
    btf = assert(bpf.btf_parse(OBJ))
  end)

  teardown(function()
    btf:close()
  end)

  it("finds types by C name, with the ids bpftool gives them", function()
    local ids = {}
    local p = io.popen("bpftool btf dump file " .. OBJ)
    for l in p:lines() do
      local id, kind, name = l:match("^%[(%d+)%] (%u+) '([^']*)'")
      if id then ids[kind .. " " .. name] = tonumber(id) end
    end
    p:close()
    assert.equal(ids["STRUCT event"], btf:find("struct event"))
    assert.equal(ids["TYPEDEF __u32"], btf:find("__u32"))
    assert.equal(ids["INT int"], btf:find("int"))
    assert.equal(ids["ENUM color"], btf:find("enum color"))
    assert.is_number(ids["STRUCT event"])
    assert.is_nil(btf:find("struct no_such_thing"))
    assert.equal(72, btf:sizeof("struct event"))
    assert.equal(4, btf:sizeof("u32"))      -- builtin name absent from the object
  end)

  it("decodes a struct laid out by the compiler, member by member", function()
    -- struct event as clang lays it out (offsets from `bpftool btf dump`)
    local bytes = string.pack("<c16 I4 i4 I8 B xxx I4", "bash\0garbage", 42, -5,
                              -1, 1, 2)
    -- lo:3 = 5, mid:7 = 100, sbits:5 = -3 starting at byte 40, bit 0
    local bits = 5 | (100 << 3) | ((-3 & 0x1f) << 10)
    bytes = bytes .. string.pack("<I2 I2 i1 x I2 I2 I2 I2 xx I4 I4 I4 xxxx", bits,
                                 65535, -2, 1, 0, 0, 4, 0x04030201, 10, 7)
    assert.equal(72, #bytes)
    local ev = btf:decode("struct event", bytes)
    assert.equal("bash", ev.comm)
    assert.equal(42, ev.pid)
    assert.equal(-5, ev.delta)
    assert.equal(-1, ev.big)                -- u64 max wraps to -1
    assert.equal(math.maxinteger, ev.big >> 1)
    assert.is_true(ev.flag)
    assert.equal(2, ev.color)
    assert.equal(5, ev.lo)
    assert.equal(100, ev.mid)
    assert.equal(-3, ev.sbits)
    assert.same({a = 65535, b = -2}, ev["in"])
    assert.same({1, 0, 0, 4}, ev.hist)
    assert.same({as_u32 = 0x04030201, bytes = {1, 2, 3, 4}}, ev.u)
    assert.equal(10, ev.x)                  -- anonymous struct members flattened
    assert.equal(7, ev.y)
  end)

  it("encodes the inverse, and a decoded value round-trips", function()
    local ev = {comm = "lua", pid = 7, delta = -1, big = -1, flag = true,
                color = "COLOR_RED", lo = 7, mid = 127, sbits = -16,
                ["in"] = {a = 1, b = -128}, hist = {9, 8, 7, 6},
                u = {as_u32 = 0xdeadbeef}, x = 1, y = 2}
    local bytes = btf:encode("struct event", ev)
    assert.equal(72, #bytes)
    local back = btf:decode("struct event", bytes)
    ev.color = 1
    ev.u.bytes = {0xef, 0xbe, 0xad, 0xde}
    assert.same(ev, back)
    assert.equal(bytes, btf:encode("struct event", back))
  end)

  it("encodes missing members and elements as zeros", function()
    local bytes = btf:encode("struct event", {pid = 3, hist = {5}})
    -- pid at byte 16, hist[0] at byte 46, zeros everywhere else
    local expected = string.pack("<c16 I4", "", 3) .. ("\0"):rep(46 - 20)
                     .. "\5" .. ("\0"):rep(72 - 47)
    assert.equal(expected, bytes)
    local ev = btf:decode("struct event", bytes)
    assert.equal("", ev.comm)
    assert.equal(0, ev.delta)
    assert.is_false(ev.flag)
    assert.same({5, 0, 0, 0}, ev.hist)
    assert.same({a = 0, b = 0}, ev["in"])
  end)

  it("raises on an unknown member, naming it and the type", function()
    assert.has_error(function() btf:encode("struct event", {pidd = 1}) end,
                     "value: unknown field 'pidd' in struct event")
    assert.has_error(function() btf:encode("struct event", {["in"] = {c = 1}}) end,
                     "value.in: unknown field 'c' in struct inner")
  end)

  it("raises on values of the wrong type or range, naming the member", function()
    assert.error_matches(function() btf:encode("struct event", {pid = "x"}) end,
                         "value%.pid %(unsigned int%): integer expected, got string")
    assert.error_matches(function() btf:encode("struct event", {comm = ("x"):rep(17)}) end,
                         "value%.comm .*longer than 16")
    assert.error_matches(function() btf:encode("struct event", {lo = 8}) end,
                         "value%.lo .*out of range for 3 bits")
    assert.error_matches(function() btf:encode("struct event", {hist = {1, 2, 3, 4, 5}}) end,
                         "value%.hist .*5 elements given, room for 4")
    assert.error_matches(function() btf:encode("struct event", {hist = {1, "a"}}) end,
                         "value%.hist%[2%]")
  end)

  it("accepts a string of exactly the size as raw bytes", function()
    local raw = ("\1"):rep(72)
    assert.equal(raw, btf:encode("struct event", raw))
    assert.equal(string.pack("<I4", 0x01020304), btf:encode("u32", string.pack("<I4", 0x01020304)))
    assert.same({a = 0x0101, b = 1}, btf:decode("struct inner", raw))
  end)

  it("compiles a plan once per type and reuses it", function()
    -- the plans are kept in the registry table "libbpf.codecs", one table
    -- {type id -> plan} per BTF (keyed by its address)
    local function tables()
      local set = {}
      for _, t in pairs(debug.getregistry()["libbpf.codecs"] or {}) do set[t] = true end
      return set
    end
    local old = tables()
    local fresh = assert(bpf.btf_parse(OBJ))   -- no plan compiled for it yet
    finally(function() fresh:close() end)
    local id = fresh:find("struct event")
    local bytes = fresh:encode("struct event", {pid = 1})
    assert.equal(1, fresh:decode("struct event", bytes).pid)
    local mine
    for t in pairs(tables()) do
      if not old[t] then assert.is_nil(mine, "two new plan tables"); mine = t end
    end
    assert.is_table(mine, "no plan table in the registry's libbpf.codecs for a new BTF")
    local plan = mine[id]
    assert.equal("userdata", type(plan), "struct event's plan is not cached")
    local n = 0
    for _ in pairs(mine) do n = n + 1 end
    for _ = 1, 1000 do fresh:decode("struct event", bytes) end
    fresh:encode("struct event", {pid = 2})
    assert.is_true(rawequal(plan, mine[id]), "struct event's plan was compiled again")
    local m = 0
    for _ in pairs(mine) do m = m + 1 end
    assert.equal(n, m)                      -- and no plan of its members either
  end)
end)

local helpers = require "helpers"

--- Run the raw_tp program once through BPF_PROG_TEST_RUN.
local function run(obj)
  local r = assert(obj.progs.fill_event:test_run{ctx = ("\0"):rep(16)})
  assert.equal(0, r.retval)
end

local function comm()
  local f = assert(io.open("/proc/" .. helpers.pid() .. "/comm"))
  local s = f:read("l")
  f:close()
  return s
end

describe("a map typed by the object's BTF", function()
  local obj

  before_each(function()
    obj = assert(bpf.open(OBJ))
  end)

  after_each(function()
    obj:close()
  end)

  it("returns a struct written by a BPF program as a table", function()
    assert(obj:load())
    run(obj)
    local ev = obj.maps.events[1]
    assert.equal(comm(), ev.comm)
    assert.equal(helpers.pid(), ev.pid)
    assert.equal(-5, ev.delta)
    assert.equal(-1, ev.big)
    assert.is_true(ev.flag)
    assert.equal(2, ev.color)
    assert.equal(5, ev.lo)
    assert.equal(100, ev.mid)
    assert.equal(-3, ev.sbits)
    assert.same({a = 65535, b = -2}, ev["in"])
    assert.same({1, 0, 0, 4}, ev.hist)
    assert.same({1, 2, 3, 4}, ev.u.bytes)
    assert.equal(10, ev.x)
    assert.equal(7, ev.y)
    assert.equal(72, #obj.maps.events:lookup(1, {raw = true}))
  end)

  it("encodes a partial table with zeros and rejects unknown fields", function()
    assert(obj:load())
    local m = obj.maps.events
    m[2] = {pid = 9, comm = "x"}
    local raw = m:lookup(2, {raw = true})
    assert.equal("x" .. ("\0"):rep(15) .. string.pack("<I4", 9) .. ("\0"):rep(72 - 20), raw)
    assert.has_error(function() m[3] = {pid = 1, bogus = 2} end,
                     "value: unknown field 'bogus' in struct event")
    assert.is_nil(m[3])
    m[4] = raw                               -- exactly 72 bytes: raw
    assert.equal(9, m[4].pid)
  end)

  it("lets a .rodata global set before load steer the program, then refuses writes", function()
    assert.equal(1, obj.vars.multiplier)
    obj.vars.multiplier = 3
    assert.equal(3, obj.vars.multiplier)
    assert(obj:load())
    run(obj)
    assert.equal(-15, obj.maps.events[1].delta)
    assert.error_matches(function() obj.vars.multiplier = 4 end, "read%-only after load")
    assert.equal(3, obj.vars.multiplier)
  end)

  it("reads a .bss counter live and can reset it; .data and custom sections too", function()
    assert.equal(7, obj.vars.data_val)
    obj.vars.data_val = 11
    assert.equal("abc", obj.vars.label)
    assert(obj:load())
    assert.equal(0, obj.vars.runs)
    run(obj); run(obj)
    assert.equal(2, obj.vars.runs)
    assert.equal(11, obj.maps.events[1].y)  -- the program read the .data value
    obj.vars.runs = 0
    run(obj)
    assert.equal(1, obj.vars.runs)
    obj.vars.data_val = 12                   -- .data is writable live
    run(obj)
    assert.equal(12, obj.maps.events[1].y)
    local names = {}
    for k in pairs(obj.vars) do names[#names + 1] = k end
    table.sort(names)
    assert.same({"data_val", "label", "multiplier", "runs", "tag"}, names)
    assert.error_matches(function() return obj.vars.nope end, "no global variable 'nope'")
  end)

  it("gives per-CPU values as a list that sums to what the program counted", function()
    obj.vars.multiplier = 2
    assert(obj:load())
    for _ = 1, 5 do run(obj) end
    local per_cpu = obj.maps.percpu_hits[0]
    local ncpu = 0
    for l in io.lines("/sys/devices/system/cpu/possible") do
      for a, b in l:gmatch("(%d+)%-?(%d*)") do
        ncpu = ncpu + (b ~= "" and tonumber(b) - tonumber(a) + 1 or 1)
      end
    end
    assert.equal(ncpu, #per_cpu)
    local sum = 0
    for _, v in ipairs(per_cpu) do sum = sum + v end
    assert.equal(10, sum)
    obj.maps.percpu_hits[0] = 0               -- one value for every CPU
    assert.same((function() local t = {} for i = 1, ncpu do t[i] = 0 end return t end)(),
                obj.maps.percpu_hits[0])
  end)

  it("takes type= where the map has no BTF", function()
    assert(obj:load())
    local m = obj.maps.untyped
    m[1] = string.pack("<i8", -7)
    assert.equal(-7, m:lookup(1, {type = "s64"}))
    assert.equal(string.pack("<i8", -7), m:lookup(1, {raw = true}))
    m:set_type{value = "s64"}
    assert.equal(-7, m[1])
    assert.error_matches(function() m:lookup(1, {type = "u32"}) end, "has 4 bytes")
    assert.error_matches(function() m:lookup(1, {type = "struct nope"}) end, "unknown type")
  end)
end)
