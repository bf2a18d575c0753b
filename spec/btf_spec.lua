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

  it("finds types by C name", function()
    assert.is_number(btf:find("struct event"))
    assert.is_number(btf:find("__u32"))
    assert.is_number(btf:find("int"))
    assert.is_number(btf:find("enum color"))
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
    local bytes = btf:encode("struct event", {pid = 1})
    collectgarbage()
    local before = collectgarbage("count")
    for _ = 1, 1000 do btf:decode("struct event", bytes) end
    -- decoding allocates only results: the plan itself is not rebuilt
    assert.is_true(collectgarbage("count") - before < 2000)
  end)
end)
