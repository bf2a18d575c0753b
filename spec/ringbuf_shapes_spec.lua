-- Ring buffer records of every member kind, in each shape a callback can get
-- them: a decoded table, a view (view=true), the members as arguments
-- (fields=), a batch column. The records are real ring buffer records:
-- spec/bpf/records.bpf.c's `echo` (run by test_run) copies the bytes given
-- as its context into its ring, so every byte is chosen here.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

-- struct kinds (104 bytes), member by member
local KINDS = "<I1i1I2i2BBI4i4I8i8I4I4c12I2i2I4I4I4xxxxdI8c8I4xxxx"

local BU, BS, BHI = 5, -3, 0xABCDEF  -- bitfields of 3, 5 and 24 bits
local function record(over)
  local v = {u8 = 250, s8 = -5, u16 = 65000, s16 = -1234, flag = true, tag = "Z",
             u32 = 4000000000, s32 = -70000, u64 = math.mininteger + 1,
             s64 = -1234567890123, lvl = 7, name = "hello", a = 40000, b = -2,
             arr = {1, 2, 3000000000}, d = 1.5, self = 0x12345678, full = "ABCDEFGH"}
  for k, x in pairs(over or {}) do v[k] = x end
  local bits = BU | (BS & 0x1f) << 3 | BHI << 8
  return string.pack(KINDS, v.u8, v.s8, v.u16, v.s16, v.flag and 1 or 0, v.tag:byte() or 0,
                     v.u32, v.s32, v.u64, v.s64, v.lvl, bits, v.name, v.a, v.b,
                     v.arr[1], v.arr[2], v.arr[3], v.d, v.self, v.full, 0)
end

-- the decoded table of record()
local DECODED = {u8 = 250, s8 = -5, u16 = 65000, s16 = -1234, flag = true, tag = "Z",
                 u32 = 4000000000, s32 = -70000, u64 = math.mininteger + 1,
                 s64 = -1234567890123, lvl = 7, bu = BU, bs = BS, bhi = BHI, name = "hello",
                 pair = {a = 40000, b = -2}, arr = {1, 2, 3000000000}, d = 1.5,
                 self = 0x12345678, full = "ABCDEFGH", pad = 0}

local function loaded()
  local obj = assert(bpf.open(H.obj("records")))
  assert(obj:load())
  return obj
end

local function echo(obj, bytes)
  assert.equal(104, #bytes)
  local r = assert(obj.progs.echo:test_run{ctx = bytes})
  assert.equal(0, r.retval)
end

local T = {type = "struct kinds"}

describe("a ring buffer record of every member kind", function()
  it("decodes into a table with every member: integers of each size and sign, "
     .. "bool, enum, char arrays, bitfields, a nested struct, an array, a double, a pointer",
     function()
    local obj <close> = loaded()
    local got = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.records, function(ev) got[#got + 1] = ev end, T))
    echo(obj, record())
    echo(obj, record{s8 = 127, name = "", full = "12\0\0\0\0\0\0", flag = false, tag = "\0",
                     a = 1, s64 = 5})
    assert.equal(2, rb:consume())
    assert.same(DECODED, got[1])
    -- a fresh table per record: the first is untouched by the second
    local second = {}
    for k, v in pairs(DECODED) do second[k] = v end
    second.s8, second.name, second.full, second.flag, second.tag = 127, "", "12", false, ""
    second.pair, second.s64 = {a = 1, b = -2}, 5
    assert.same(second, got[2])
    assert.same(DECODED, got[1])
    assert.are_not.equal(got[1].pair, got[2].pair)
  end)

  it("reads every scalar and char[] member through a view, nil for the members a view "
     .. "does not read", function()
    local obj <close> = loaded()
    local got
    local rb <close> = assert(bpf.ringbuf(obj.maps.records, function(v)
      got = {}
      for _, k in ipairs{"u8", "s8", "u16", "s16", "flag", "tag", "u32", "s32", "u64", "s64",
                         "lvl", "name", "self", "full", "pad"} do
        got[k] = v[k]
      end
      got.len = #v
      got.absent = {v.bu, v.bs, v.bhi, v.pair, v.arr, v.d, v.nope, v[1]}
    end, {type = "struct kinds", view = true}))
    echo(obj, record())
    assert.equal(1, rb:consume())
    assert.same({u8 = 250, s8 = -5, u16 = 65000, s16 = -1234, flag = true, tag = "Z",
                 u32 = 4000000000, s32 = -70000, u64 = math.mininteger + 1,
                 s64 = -1234567890123, lvl = 7, name = "hello", self = 0x12345678,
                 full = "ABCDEFGH", pad = 0, len = 104, absent = {}}, got)
    -- the view reads the current record: a second one shows its own values
    echo(obj, record{s16 = 7, name = "x"})
    assert.equal(1, rb:consume())
    assert.equal(7, got.s16)
    assert.equal("x", got.name)
    assert.equal(-5, got.s8)
  end)

  it("raises on every use of a view after its callback returned", function()
    local obj <close> = loaded()
    local kept
    local rb <close> = assert(bpf.ringbuf(obj.maps.records, function(v) kept = v end,
                                          {type = "struct kinds", view = true}))
    echo(obj, record())
    assert.equal(1, rb:consume())
    for _, k in ipairs{"u8", "s64", "name", "nope"} do
      assert.error_matches(function() return kept[k] end, "used outside its callback")
    end
    assert.error_matches(function() return #kept end, "used outside its callback")
    assert.equal("libbpf.event_view(struct kinds, outside its callback)", tostring(kept))
    -- the class's own metamethods take no view at all
    local class = debug.getregistry()["libbpf.event_view"]
    assert.error_matches(function() return class.__index(kept, "u8") end,
                         "libbpf.event_view expected")
    assert.error_matches(function() return class.__len(kept) end, "libbpf.event_view expected")
    -- another view's __len does not take this one
    local rb2 <close> = assert(bpf.ringbuf(obj.maps.records, function() end,
                                           {type = "struct kinds", view = true}))
    assert.is_truthy(rb2)
    assert.error_matches(function() return getmetatable(kept).__len({}) end,
                         "libbpf.event_view expected")
  end)

  it("passes members of every kind as arguments with fields=", function()
    local obj <close> = loaded()
    local got
    local rb <close> = assert(bpf.ringbuf(obj.maps.records, function(...)
      got = table.pack(...)
    end, {type = "struct kinds",
          fields = {"s8", "u64", "name", "flag", "s32", "lvl", "full", "u16", "tag", "self"}}))
    echo(obj, record())
    assert.equal(1, rb:consume())
    assert.same({n = 10, -5, math.mininteger + 1, "hello", true, -70000, 7, "ABCDEFGH", 65000,
                 "Z", 0x12345678}, got)
    assert.has_error(function()
      bpf.ringbuf(obj.maps.records, print, {type = "struct kinds", fields = {"bu", "pair", "d"}})
    end, "libbpf.ringbuf: fields: struct kinds has no integer, bool or char[] member "
         .. "'bu', 'pair', 'd'")
  end)

  it("gives columns of every scalar kind with batch=", function()
    local obj <close> = loaded()
    local cols
    local rb <close> = assert(bpf.ringbuf(obj.maps.records, function(b)
      cols = {s16 = b:column("s16"), u64 = b:column("u64"), name = b:column("name"),
              flag = b:column("flag"), s8 = b:column("s8"), lvl = b:column("lvl")}
    end, {type = "struct kinds", batch = true}))
    echo(obj, record())
    echo(obj, record{s16 = 32767, u64 = 3, name = "abcdefghijkl", flag = false, s8 = -128})
    assert.equal(2, rb:consume())
    assert.same({s16 = {-1234, 32767}, u64 = {math.mininteger + 1, 3},
                 name = {"hello", "abcdefghijkl"}, flag = {true, false}, s8 = {-5, -128},
                 lvl = {7, 7}}, cols)
  end)

  it("releases the member names of its decoders with the object", function()
    local reg = debug.getregistry()
    local function refs()
      local n = 0
      for k in pairs(reg) do if math.type(k) == "integer" then n = n + 1 end end
      return n
    end
    local function once()
      local obj <close> = loaded()
      local rb <close> = assert(bpf.ringbuf(obj.maps.records, function() end, T))
      echo(obj, record())
      assert.equal(1, rb:consume())
    end
    once()
    H.gc()
    local before = refs()
    for _ = 1, 30 do once() end
    H.gc()
    assert.is_true(refs() - before < 10, ("%d registry refs more"):format(refs() - before))
  end)
end)
