-- m:mmap(): arrays created with BPF_F_MMAPABLE read and written with plain
-- loads and stores, the BPF side (an XDP program run with test_run) seeing
-- Lua's stores and Lua seeing the program's.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local function step(obj)
  assert.equal(2, assert(obj.progs.mm_step:test_run{data = string.rep("\0", 64)}).retval)
end

describe("m:mmap()", function()
  it("reads what the program wrote and the program reads what Lua wrote (u64)", function()
    local obj <close> = assert(bpf.open(H.obj("mmap")))
    assert(obj:load())
    local m = obj.maps.nums
    local v = assert(m:mmap())
    assert.equal(8, #v)
    for i = 0, 7 do assert.equal(0, v[i]) end
    step(obj)                                -- nums[i] = 0 * 2 + i
    for i = 0, 7 do assert.equal(i, v[i]) end
    for i = 0, 7 do v[i] = 1000 * i end      -- Lua's stores ...
    for i = 0, 7 do assert.equal(1000 * i, m:lookup(i)) end   -- ... are the map's
    step(obj)                                -- ... and the program's input
    for i = 0, 7 do assert.equal(2000 * i + i, v[i]) end
    m:update(3, 7)                           -- a syscall write shows in the view
    assert.equal(7, v[3])
    v[7] = -1                                -- 8 bytes: all 64 bits
    assert.equal(-1, v[7])
  end)

  it("spaces 2-byte signed elements 8 bytes apart, as the kernel lays them out", function()
    local obj <close> = assert(bpf.open(H.obj("mmap")))
    assert(obj:load())
    local v = assert(obj.maps.small:mmap())
    assert.equal(5, #v)
    v[0] = 1234
    v[1] = -5
    step(obj)                                -- small[4] = -small[0]
    assert.equal(-1234, v[4])
    assert.equal(-1234, obj.maps.small:lookup(4))
    assert.equal(-5, obj.maps.small:lookup(1))
    assert.equal(0, obj.maps.small:lookup(2))
    assert.has_error(function() v[2] = 70000 end)   -- does not fit 16 bits
    assert.equal(0, v[2])
  end)

  it("decodes and encodes struct values through the map's BTF", function()
    local obj <close> = assert(bpf.open(H.obj("mmap")))
    assert(obj:load())
    local v = assert(obj.maps.recs:mmap())
    v[0] = {a = 41, b = 300, tag = "hello"}
    step(obj)                                -- recs[1] from recs[0]
    local r = v[1]
    assert.equal(42, r.a)
    assert.equal(-300, r.b)
    assert.equal("hello", r.tag)
    assert.same(obj.maps.recs:lookup(1), r)
    assert.has_error(function() v[2] = {nope = 1} end)
    assert.same({a = 0, b = 0, tag = ""}, v[2])     -- untouched by the failed store
  end)

  it("checks bounds and index types, naming the index and the size", function()
    local obj <close> = assert(bpf.open(H.obj("mmap")))
    assert(obj:load())
    local v = assert(obj.maps.nums:mmap())
    assert.has_error(function() return v[8] end,
                     "libbpf.mmap_view: index 8 out of range 0..7 of map 'nums'")
    assert.has_error(function() v[-1] = 1 end,
                     "libbpf.mmap_view: index -1 out of range 0..7 of map 'nums'")
    assert.has_error(function() return v.x end,
                     "libbpf.mmap_view: index must be an integer, got string")
  end)

  it("refuses maps that are not mmapable arrays, and maps not created yet", function()
    local obj <close> = assert(bpf.open(H.obj("mmap")))
    assert.has_error(function() obj.maps.nums:mmap() end,
                     "libbpf.map: map 'nums' is not created yet (call obj:load())")
    assert(obj:load())
    assert.has_error(function() obj.maps.plain:mmap() end,
                     "libbpf.mmap_view: map 'plain' is not an array created with " ..
                     "flags {\"mmapable\"} (BPF_F_MMAPABLE)")
  end)

  it("raises after the object closed, never touching the unmapped memory", function()
    local obj = assert(bpf.open(H.obj("mmap")))
    assert(obj:load())
    local v = assert(obj.maps.nums:mmap())
    step(obj)
    assert.equal(5, v[5])
    obj:close()
    assert.matches("closed", tostring(v))   -- unmapped by the close itself
    assert.has_error(function() return v[5] end, "libbpf.mmap_view: map 'nums' is closed")
    assert.has_error(function() v[5] = 1 end, "libbpf.mmap_view: map 'nums' is closed")
    assert.has_error(function() return #v end, "libbpf.mmap_view: map 'nums' is closed")
  end)

  it("maps standalone arrays made with flags={'mmapable'}, frozen ones read-only", function()
    local m = assert(bpf.map_create{type = "array", key_size = 4, value_size = 4,
                                    max_entries = 3, flags = {"mmapable"}, name = "mm3"})
    local v = assert(m:mmap())
    v[2] = 0xdeadbeef
    assert.equal(0xdeadbeef, m:lookup(2))
    m:update(1, 99)
    assert.equal(99, v[1])
    do
      local w <close> = assert(m:mmap())     -- <close> unmaps it
      assert.equal(99, w[1])
    end
    m:close()
    assert.has_error(function() return v[1] end, "libbpf.mmap_view: map 'mm3' is closed")

    local f = assert(bpf.map_create{type = "array", key_size = 4, value_size = 8,
                                    max_entries = 2, flags = {"mmapable"}})
    f:update(0, 5)
    assert(f:freeze())
    local r = assert(f:mmap())
    assert.equal(5, r[0])
    assert.has_error(function() r[0] = 6 end)
    assert.matches("read%-only", tostring(r))
    f:close()
  end)
end)
