-- Map handles index without a C call (issue 17): each handle has its own
-- metatable whose __index is a table of the methods, falling back to a
-- closure over the handle for fields and keys (csrc/lbpf.c lbpf_class_bind,
-- csrc/map.c map_index). What that must keep: method and field names win
-- over keys, other keys go through lookup/update, misspelt names still say
-- "did you mean", every checker knows a map handle (and no other class
-- takes one), and dropped handles are collected.
local bpf = require "libbpf"
local H = require "helpers"

local function hash(key_size, value_size)
  return assert(bpf.map_create{type = "hash", key_size = key_size,
                               value_size = value_size, max_entries = 16})
end

describe("a map handle's index", function()
  it("finds methods before keys: m.lookup is the method even with a key 'lookup'", function()
    local m <close> = hash(6, 4)                 -- 6-byte keys: "lookup" is one
    assert(m:update("lookup", 5))
    assert(m:update("update", 6))
    assert.is_function(m.lookup)
    assert.is_function(m.update)
    assert.equal(5, m:lookup("lookup"))
    assert.equal(6, m:lookup("update"))
    -- keys that are no name go through lookup
    assert(m:update("abcdef", 7))
    assert.equal(7, m.abcdef)
    assert.is_nil(m.ghijkl)
  end)

  it("finds fields before keys: m.name is the field even with a key 'name'", function()
    local m <close> = hash(4, 4)
    m.name = nil                                   -- no such key: silent
    assert(m:update("name", 7))
    assert(m:update("type", 8))
    assert.equal("", m.name)                       -- map_create gave no name
    assert.equal("hash", m.type)
    assert.equal(4, m.key_size)
    assert.equal(7, m:lookup("name"))
    assert.equal(8, m:lookup("type"))
  end)

  it("m[k] = v updates, m[k] reads, m[k] = nil deletes, through every form", function()
    local obj <close> = assert(bpf.open(H.obj("typed")))
    assert(obj:load())
    local m = obj.maps.counts                     -- u32 -> u64, with BTF
    m[3] = 9
    assert.equal(9, m[3])
    assert.equal(9, m:lookup(3))
    m[3] = 10                                      -- overwrites
    assert.equal(10, m[3])
    assert(m:update(4, 16))
    assert.equal(16, m[4])
    local seen = {}
    for k, v in pairs(m) do seen[k] = v end
    assert.same({[3] = 10, [4] = 16}, seen)
    assert.same({[3] = 10, [4] = 16}, m:dump())
    m[3] = nil
    assert.is_nil(m[3])
    assert.is_nil(m:lookup(3))
    m[3] = nil                                     -- absent: silent
    -- out of range for the key: the general path raises, naming the key
    assert.has_error(function() m[2^40] = 1 end)
    assert.has_error(function() return m[-1 << 40] end)
    -- a method taken from one handle acts on the handle it is given
    local other <close> = hash(4, 8)
    assert(other:update(3, 33))
    local lookup, update = m.lookup, m.update
    assert.equal(33, lookup(other, 3))
    assert(update(other, 5, 55))
    assert.equal(55, other[5])
    assert.is_nil(m[5])
    -- and on nothing else
    assert.error_matches(function() lookup(obj, 3) end,
      "libbpf.map expected, got libbpf.object")
  end)

  it("says 'did you mean' for misspelt methods and fields", function()
    local obj <close> = assert(bpf.open(H.obj("typed")))
    assert(obj:load())
    local m = obj.maps.counts
    assert.error_matches(function() return m:lokup(1) end,
      "no method 'lokup' on libbpf.map %(did you mean lookup%?%)")
    assert.error_matches(function() return m:updte(1, 2) end,
      "no method 'updte' on libbpf.map %(did you mean update%?%)")
    assert.error_matches(function() return m.max_entires end,
      "no field 'max_entires' on libbpf.map %(did you mean max_entries%?%)")
    -- a string key the map can take is looked up, near a name or not
    local s <close> = hash(5, 4)
    assert.is_nil(s.lokup)
    assert(s:update("lokup", 3))
    assert.equal(3, s.lokup)
  end)

  it("has its own metatable named libbpf.map, which every map checker takes", function()
    local obj <close> = assert(bpf.open(H.obj("typed")))
    assert(obj:load())
    local m, m2 = obj.maps.counts, obj.maps.untyped
    local mt = getmetatable(m)
    assert.equal("libbpf.map", mt.__name)
    assert.is_table(rawget(mt, "__index"))
    assert.are_not.equal(mt, getmetatable(m2))
    assert.are_not.equal(debug.getregistry()["libbpf.map"], mt)
    assert.matches("^libbpf.map%(counts, hash", tostring(m))
    -- checkers of other files: map-in-map values and inner_map=
    local inner <close> = assert(bpf.map_create{type = "array", key_size = 4,
                                                value_size = 4, max_entries = 1})
    local outer <close> = assert(bpf.map_create{type = "array_of_maps", key_size = 4,
                                                value_size = 4, max_entries = 2,
                                                inner_map = inner})
    assert(outer:update(0, inner))
    assert.equal(inner:info().id, outer[0])
    -- obj:close() finds its maps' views and releases them, m:info() checks
    assert.equal("counts", m:info().name)
  end)

  it("is refused where another class is expected, naming both, and takes no other class", function()
    local obj <close> = assert(bpf.open(H.obj("typed")))
    assert(obj:load())
    local m = obj.maps.counts
    local prog = next(obj.progs) and obj.progs[next(obj.progs)]
    assert.error_matches(function() prog.attach(m) end,
      "libbpf.program expected, got libbpf.map")
    assert.error_matches(function() bpf.map_create{type = "array_of_maps", key_size = 4,
                                                   value_size = 4, max_entries = 1,
                                                   inner_map = prog} end,
      "libbpf.map expected, got libbpf.program")
    assert.error_matches(function() m.lookup(prog, 1) end,
      "libbpf.map expected, got libbpf.program")
    assert.error_matches(function() getmetatable(m).__newindex(prog, 1, 2) end,
      "libbpf.map expected, got libbpf.program")
    assert.error_matches(function() m.dump(io.stdout) end,
      "libbpf.map expected, got FILE%*")
    -- the method table's fallback acts on its own handle, whatever it is given
    local fallback = getmetatable(getmetatable(m).__index).__index
    m[7] = 49
    assert.equal(49, fallback(prog, 7))
  end)

  it("is collected when dropped: 2000 map handles leave no fd and no memory", function()
    H.gc()
    local fds, kb = H.fd_count(), collectgarbage("count")
    local weak = setmetatable({}, {__mode = "v"})
    local strong = {}   -- luacheck: ignore 241
    for i = 1, 2000 do
      local m = hash(4, 4)
      m[i] = i                                     -- bound paths in use
      assert.equal(i, m:lookup(i))
      weak[i], strong[i] = m, m
    end
    assert.equal(fds + 2000, H.fd_count())
    strong = nil -- luacheck: ignore 311 (drop them all at once)
    H.gc()
    assert.is_nil(next(weak))
    assert.equal(fds, H.fd_count())
    assert.is_true(collectgarbage("count") < kb + 256,
      ("%.0f KiB before, %.0f KiB after"):format(kb, collectgarbage("count")))
    -- an object's maps go with the object
    for _ = 1, 50 do
      local obj = assert(bpf.open(H.obj("typed")))
      assert(obj:load())
      obj.maps.counts[1] = 1
      weak[#weak + 1] = obj.maps.counts
    end
    H.gc()
    assert.is_nil(next(weak))
    assert.equal(fds, H.fd_count())
  end)

  -- m:dump() reads into one buffer and makes the table at its final size,
  -- integer keys 1..n in its array part (csrc/map_bulk.c dump_table)
  it("m:dump() gives every key wherever it lands in the table, and maps past its buffer", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 8,
                                            max_entries = 64})
    local want = {}
    for _, k in ipairs{0, 1, 2, 3, 5, 8, 13, 21, 4294967295, 1 << 31, 100000} do
      m[k] = k * 7; want[k] = k * 7
    end
    assert.same(want, m:dump())
    for k = 1, 40 do m[k] = -k; want[k] = -k end   -- mostly 1..n now
    assert.same(want, m:dump())
    -- signed and narrow values through the codec-less path
    local s <close> = assert(bpf.map_create{type = "hash", key_size = 2, value_size = 1,
                                            max_entries = 8})
    s[65535] = 255; s[1] = 7
    assert.same({[65535] = 255, [1] = 7}, s:dump())
    -- 8 MiB of entries: more than the first buffer (4 MiB), which grows
    local big <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4096,
                                              max_entries = 4096})
    local function val(k) return ("%-8d"):format(k):rep(512) end
    for k = 1, 2000 do big[k] = val(k) end
    local n = 0
    for k, v in pairs(big:dump()) do n = n + 1; assert.equal(val(k), v) end
    assert.equal(2000, n)
  end)
end)
