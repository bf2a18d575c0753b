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
    local read, write = v.read, v.write        -- methods fetched while open
    step(obj)
    assert.equal(5, v[5])
    obj:close()
    assert.matches("closed", tostring(v))   -- unmapped by the close itself
    assert.has_error(function() return v[5] end, "libbpf.mmap_view: map 'nums' is closed")
    assert.has_error(function() v[5] = 1 end, "libbpf.mmap_view: map 'nums' is closed")
    assert.has_error(function() return #v end, "libbpf.mmap_view: map 'nums' is closed")
    assert.has_error(function() return v:read() end, "libbpf.mmap_view: map 'nums' is closed")
    assert.has_error(function() v:write(0, {1}) end, "libbpf.mmap_view: map 'nums' is closed")
    assert.has_error(function() return read(v) end, "libbpf.mmap_view: map 'nums' is closed")
    assert.has_error(function() write(v, 0, {1}) end, "libbpf.mmap_view: map 'nums' is closed")
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
    assert.has_error(function() v[1] = 1 end, "libbpf.mmap_view: map 'mm3' is closed")
    assert.has_error(function() return v:read(0, 1) end, "libbpf.mmap_view: map 'mm3' is closed")
    assert.matches("closed", tostring(v))

    local f = assert(bpf.map_create{type = "array", key_size = 4, value_size = 8,
                                    max_entries = 2, flags = {"mmapable"}, name = "f"})
    f:update(0, 5)
    assert(f:freeze())
    local r = assert(f:mmap())
    assert.equal(5, r[0])
    local ro = "libbpf.mmap_view: map 'f' is mapped read-only (frozen)"
    assert.has_error(function() r[0] = 6 end, ro)
    assert.has_error(function() r:write(0, {6}) end, ro)
    assert.equal(5, r[0])
    assert.same({5, 0}, r:read())
    assert.matches("read%-only", tostring(r))
    f:close()
  end)

  -- every scalar kind the BTF types: what v[i] = x stores m:lookup reads,
  -- what m:update stores v[i] and v:read read, as the same Lua integers
  local KINDS = {
    {"u8s", 8, false}, {"u16s", 16, false}, {"u32s", 32, false}, {"nums", 64, false},
    {"s8s", 8, true}, {"small", 16, true}, {"s32s", 32, true}, {"s64s", 64, true},
  }
  for _, kind in ipairs(KINDS) do
    local name, bits, signed = kind[1], kind[2], kind[3]
    it(("round-trips %s%d values (map '%s') with m:lookup and m:update"):format(
         signed and "s" or "u", bits, name), function()
      local obj <close> = assert(bpf.open(H.obj("mmap")))
      assert(obj:load())
      local m = obj.maps[name]
      local v = assert(m:mmap())
      local lo, hi   -- what the type holds, as Lua integers
      if signed then
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1   -- 64: mininteger, maxinteger
      else
        lo, hi = 0, bits == 64 and -1 or (1 << bits) - 1   -- u64's top: all bits, -1
      end
      for _, x in ipairs{lo, hi, 0, 1} do
        v[1] = x
        assert.equal(x, m:lookup(1))
        assert.equal(x, v[1])
        m:update(2, x)
        assert.equal(x, v[2])
        assert.equal(x, v:read(2, 1)[1])
      end
      if not signed and bits < 64 then
        v[1] = -1                                 -- all bits, read back unsigned
        assert.equal(hi, m:lookup(1))
        assert.equal(hi, v[1])
      end
      if bits < 64 then                           -- one past what the type holds
        v[3] = 7
        assert.has_error(function() v[3] = 1 << bits end)
        assert.has_error(function() v:write(0, {1, 2, 1 << bits}) end)
        assert.equal(7, v[3])
        assert.equal(0, v[0])                       -- v:write stored nothing
      end
      -- a string of the value's size is its bytes, as for m:update, even
      -- when it reads as a number
      local raw = ("12345678"):sub(1, bits // 8)
      v:write(0, {raw})
      v[1] = raw
      m:update(2, raw)
      assert.equal(m:lookup(2), v[0])
      assert.equal(m:lookup(2), v[1])
      assert.not_equal(tonumber(raw), v[0])
      v:write(0, {hi, lo, 5})
      local want = {}
      for i = 0, #v - 1 do want[i + 1] = m:lookup(i) end
      assert.same(want, v:read())
      assert.same({hi, lo, 5}, v:read(0, 3))
    end)
  end

  it("v:read and v:write copy runs of elements, as m:lookup and m:update see them", function()
    local obj <close> = assert(bpf.open(H.obj("mmap")))
    assert(obj:load())
    local m = obj.maps.nums
    local v = assert(m:mmap())
    step(obj)                                  -- nums[i] = i
    local all = v:read()
    assert.equal(8, #all)
    for i = 0, 7 do assert.equal(m:lookup(i), all[i + 1]) end
    assert.same({2, 3, 4}, v:read(2, 3))
    assert.same({6, 7}, v:read(6))             -- to the end
    assert.same({}, v:read(8))                 -- an empty run at the end
    assert.same({}, v:read(3, 0))
    assert.equal(v, v:write(5, {50, 60, 70}))  -- returns the view
    assert.same({0, 1, 2, 3, 4, 50, 60, 70}, v:read())
    for i = 5, 7 do assert.equal(i * 10, m:lookup(i)) end
    assert.has_error(function() v:write(6, {1, 2, 3}) end,
                     "libbpf.mmap_view: elements 6..8 out of range 0..7 of map 'nums'")
    assert.has_error(function() return v:read(-1, 2) end,
                     "libbpf.mmap_view: elements -1..0 out of range 0..7 of map 'nums'")
    assert.has_error(function() return v:read(4, 5) end,
                     "libbpf.mmap_view: elements 4..8 out of range 0..7 of map 'nums'")
    assert.has_error(function() v:write(0, {1, "x", 3}) end)
    assert.same({0, 1, 2, 3, 4, 50, 60, 70}, v:read())   -- untouched by the failed write
    assert.has_error(function() return v.read(42) end)   -- self must be a view
    assert.has_error(function() return v.nope end,
                     "libbpf.mmap_view: index must be an integer, got string")
    assert.equal(3, v[3.0])                    -- integral floats index as integers
  end)

  it("v:read decodes struct values as m:lookup does, v:write encodes them", function()
    local obj <close> = assert(bpf.open(H.obj("mmap")))
    assert(obj:load())
    local m = obj.maps.recs
    local v = assert(m:mmap())
    v:write(0, {{a = 41, b = 300, tag = "hello"}})
    step(obj)
    local t = v:read()
    assert.equal(3, #t)
    for i = 0, 2 do assert.same(m:lookup(i), t[i + 1]) end
    assert.same({a = 42, b = -300, tag = "hello"}, t[2])
    assert.has_error(function() v:write(1, {{a = 1}, {nope = 1}}) end)
    assert.same({a = 42, b = -300, tag = "hello"}, v[1])   -- nothing stored
  end)

  it("reads long runs one element at a time when they do not fit the stack", function()
    local m = assert(bpf.map_create{type = "array", key_size = 4, value_size = 1,
                                    max_entries = 1100000, flags = {"mmapable"}, name = "big"})
    local v = assert(m:mmap())
    v[1099999] = 9
    local t = v:read()                         -- more than LUAI_MAXSTACK values
    assert.equal(1100000, #t)
    assert.equal(9, t[1100000])
    assert.equal(0, t[1])
    m:close()
  end)

  it("unmaps views at garbage collection: no mapping left behind", function()
    local m = assert(bpf.map_create{type = "array", key_size = 4, value_size = 8,
                                    max_entries = 1024, flags = {"mmapable"}, name = "gcv"})
    collectgarbage()
    collectgarbage()
    local before = H.bpf_mappings()
    for i = 1, 300 do
      local v = assert(m:mmap())
      v[i] = i
    end
    assert.is_true(H.bpf_mappings() > before)  -- they were there
    collectgarbage()
    collectgarbage()
    assert.equal(before, H.bpf_mappings())
    assert.equal(300, m:lookup(300))
    m:close()
  end)

  it("refuses to let the encoder's Lua code close the object, storing nothing", function()
    for _, how in ipairs{"v[i] = x", "v:write"} do
      local obj = assert(bpf.open(H.obj("mmap")))
      assert(obj:load())
      local v = assert(obj.maps.pairs:mmap())
      v[0] = {v = {1, 2}}
      assert.same({v = {1, 2}}, v[0])
      -- encoding the array member takes its length: __len tries to close
      -- the object (its codecs) and collect them while they are in use
      local evil = setmetatable({}, {__len = function()
        obj:close(); collectgarbage(); collectgarbage(); return 2
      end})
      assert.error_matches(function()
        if how == "v:write" then v:write(0, {{v = evil}}) else v[0] = {v = evil} end
      end, "object is in use")
      assert.same({v = {1, 2}}, v[0])
      obj:close()
      assert.matches("closed", tostring(v))
    end
  end)

  -- a standalone map has no object to keep busy: its own count does it
  local function standalone(name, n, flags)
    local m = assert(bpf.map_create{type = "array", key_size = 4, value_size = 8,
                                    max_entries = n, flags = flags, name = name})
    m:set_type{value = "struct s", btf = bpf.cdef"struct s { __u32 v[2]; };"}
    return m
  end

  it("refuses to let the encoder's Lua code close a standalone map, storing nothing", function()
    for _, how in ipairs{"v[i] = x", "v:write", "m:update"} do
      local m = standalone("sa", 4, {"mmapable"})
      local v = assert(m:mmap())
      v[0] = {v = {1, 2}}
      -- __len closes the map mid-encode and makes another map, which gets
      -- the closed fd's number: m:update would write into that map, a view
      -- would find its memory unmapped
      local other
      local evil = setmetatable({}, {__len = function()
        m:close(); collectgarbage(); collectgarbage()
        other = assert(bpf.map_create{type = "array", key_size = 4, value_size = 8,
                                      max_entries = 4, name = "other"})
        return 2
      end, __index = function() return 7 end})
      assert.error_matches(function()
        if how == "v:write" then v:write(0, {{v = evil}})
        elseif how == "m:update" then m:update(0, {v = evil})
        else v[0] = {v = evil} end
      end, "libbpf.map: map 'sa' is in use", 1, true)
      assert.is_nil(other)
      assert.same({v = {1, 2}}, v[0])        -- nothing stored, still mapped
      assert.same({v = {1, 2}}, m:lookup(0))
      m:close()                              -- the call returned: it closes
      assert.matches("closed", tostring(v))
    end
  end)

  it("refuses to let a finalizer close a standalone map while v:read decodes", function()
    local N = 20000
    local m = standalone("sr", N, {"mmapable"})
    local v = assert(m:mmap())
    v[N - 1] = {v = {5, 6}}
    local read = v.read                      -- (fetching it allocates)
    -- its N decoded structs make the collector run: a few reads at most
    local t, tried = H.finalizer_during(function() return read(v) end,
                                        function() return pcall(m.close, m) end)
    assert.is_table(tried, "no finalizer ran during v:read")
    assert.is_false(tried[1])
    assert.matches("libbpf.map: map 'sr' is in use", tried[2], 1, true)
    assert.equal(N, #t)
    assert.same({v = {5, 6}}, t[N])
    m:close()
    assert.matches("closed", tostring(v))
  end)

  it("a close unmaps the views of that map or object only", function()
    local obj = assert(bpf.open(H.obj("mmap")))
    assert(obj:load())
    local a = assert(bpf.map_create{type = "array", key_size = 4, value_size = 8,
                                    max_entries = 2, flags = {"mmapable"}, name = "ma"})
    local b = assert(bpf.map_create{type = "array", key_size = 4, value_size = 8,
                                    max_entries = 2, flags = {"mmapable"}, name = "mb"})
    local va, va2, vb = assert(a:mmap()), assert(a:mmap()), assert(b:mmap())
    local vn, vr = assert(obj.maps.nums:mmap()), assert(obj.maps.recs:mmap())
    a:close()
    assert.matches("closed", tostring(va))
    assert.matches("closed", tostring(va2))
    vb[1] = 5                                  -- b's and the object's still mapped
    vn[1] = 6
    assert.same({0, 5}, vb:read())
    assert.equal(6, obj.maps.nums:lookup(1))
    obj:close()
    assert.matches("closed", tostring(vn))
    assert.matches("closed", tostring(vr))
    assert.equal(5, vb[1])
    -- a view's own metatable does not make another value a view
    local fake = setmetatable({}, getmetatable(vb))
    assert.error_matches(function() return vb.read(fake) end, "libbpf.mmap_view expected")
    b:close()
    assert.matches("closed", tostring(vb))
  end)

  it("v:read() of an array too long to pack on the stack still reads every element", function()
    local N = 600000   -- {...} would need twice N stack slots: over Lua's limit
    local m <close> = assert(bpf.map_create{type = "array", key_size = 4, value_size = 4,
                                            max_entries = N, flags = {"mmapable"}})
    local v = assert(m:mmap())
    v[N - 1] = 77
    local t = v:read()
    assert.equal(N, #t)
    assert.equal(77, t[N])
  end)

  it("survives hostile arguments to every entry of real views, closed or not", function()
    local obj = assert(bpf.open(H.obj("mmap")))
    assert(obj:load())
    local views = {}
    for _, name in ipairs{"nums", "small", "recs", "pairs", "u8s", "s64s"} do
      views[#views + 1] = assert(obj.maps[name]:mmap())
    end
    local ro = assert(bpf.map_create{type = "array", key_size = 4, value_size = 8,
                                     max_entries = 2, flags = {"mmapable"}})
    assert(ro:freeze())
    views[#views + 1] = assert(ro:mmap())
    local HOSTILE = {0, -1, 1, 2, 7, 8, math.maxinteger, math.mininteger, 0 / 0, math.huge,
                     -math.huge, 0.5, 2 ^ 63, "", "1", "\255\255\255\255\255\255\255\255",
                     ("x"):rep(300), {}, {1, 2, 3}, {a = 1, tag = "t", v = {1, 2}},
                     {{a = 1}, {v = {}}}, setmetatable({}, {__len = function() return 1 << 40 end}),
                     setmetatable({}, {__index = function() error("boom") end}),
                     true, print, views[1]}
    local read, write = views[1].read, views[1].write   -- fetched while open
    local calls = 0
    local function try(f, ...) calls = calls + 1; pcall(f, ...) end
    for round = 1, 2 do
      for _, v in ipairs(views) do
        for _, a in ipairs(HOSTILE) do
          try(function() return v[a] end)
          try(function() v[a] = a end)
          try(function() v[0] = a end)
          try(read, v, a)
          try(read, v, 0, a)
          try(read, a)
          try(write, v, a, {a})
          try(write, v, 0, a)
          try(write, a, 0, {1})
          for _, b in ipairs{0, 1, -1, 1 << 31, math.maxinteger} do
            try(read, v, b, a)
            try(write, v, b, {a, a})
          end
        end
        try(function() return #v end)
        try(tostring, v)
      end
      if round == 1 then obj:close(); ro:close() end   -- the same after close
    end
    assert.is_true(calls > 2000)
    collectgarbage()
  end)

  it("the class's template in the registry is no view", function()
    local mt = debug.getregistry()["libbpf.mmap_view"]
    assert.has_error(function() return mt.__index({}, 0) end, "libbpf.mmap_view: not a view")
    assert.has_error(function() mt.__newindex({}, 0, 1) end, "libbpf.mmap_view: not a view")
    assert.equal("libbpf.mmap_view", mt.__tostring({}))
    mt.__gc({})
  end)
end)

