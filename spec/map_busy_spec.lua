-- Calls that hold a map's fd (or its object's codecs) while Lua code runs
-- mark the map busy (lbpf_map_busy): m:close() or obj:close() from that
-- code raises "in use" rather than closing an fd the call goes on to use,
-- whose number the next open takes (the call would then act on another
-- map). m:pop/m:peek/m:dump run an option table's metamethods, m:keys
-- decodes (allocations run finalizers).
local bpf = require "libbpf"
local H = require "helpers"

local function queue(name, ...)
  local q = assert(bpf.map_create{type = "queue", key_size = 0, value_size = 4,
                                  max_entries = 4, name = name})
  for _, x in ipairs{...} do assert(q:push(x)) end
  return q
end

describe("a map closed by Lua code a call runs", function()
  it("m:pop and m:peek with options whose __index closes the map raise, taking nothing", function()
    for _, how in ipairs{"pop", "peek"} do
      local q = queue("mine", 1)
      local other
      -- closes q and makes another queue, which gets q's fd number
      local opts = setmetatable({}, {__index = function()
        if not other then
          q:close()
          other = queue("other", 42)
        end
      end})
      assert.error_matches(function() q[how](q, opts) end,
                           "libbpf.map: map 'mine' is in use", 1, true)
      assert.is_nil(other)
      assert.equal(1, q:peek())        -- nothing taken, still open
      q:close()                        -- the call returned: it closes
      assert.matches("closed", tostring(q))
    end
  end)

  it("m:dump with options whose __index closes the map raises, listing nothing of another map", function()
    local m = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4,
                                    max_entries = 8, name = "md"})
    assert(m:update(1, 1))
    local other
    local opts = setmetatable({}, {__index = function()
      if not other then
        m:close()
        other = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4,
                                      max_entries = 8, name = "other"})
        assert(other:update(42, 42))
      end
    end})
    assert.error_matches(function() m:dump(opts) end, "libbpf.map: map 'md' is in use", 1, true)
    assert.is_nil(other)
    assert.same({[1] = 1}, m:dump())
    m:close()
  end)

  it("m:pop on an object's queue with options whose __index closes the object raises", function()
    local obj = assert(bpf.open(H.obj("qstack")))
    finally(function() obj:close() end)
    assert(obj:load())
    local q = obj.maps.jobs_q
    assert(obj.progs.push_jobs:test_run{ctx = string.pack("I8I8I8I8", 5, 0, 0, 0)})
    local opts = setmetatable({}, {__index = function() obj:close() end})
    assert.error_matches(function() q:pop(opts) end, "libbpf.object: object is in use", 1, true)
    assert.equal(5, q:pop().id)
  end)

  it("m:keys refuses to let a finalizer close the map while it decodes", function()
    local N = 20000
    local m = assert(bpf.map_create{type = "hash", key_size = 12, value_size = 4,
                                    max_entries = N, name = "mk"})
    finally(function() m:close() end)
    for i = 1, N do assert(m:update(string.pack("I4I8", 1, i), i)) end
    local keys = m.keys                      -- (fetching it allocates)
    -- its N key strings make the collector run: a few calls at most
    local other
    local t, tried = H.finalizer_during(function() return keys(m) end, function()
      local r = {pcall(m.close, m)}
      other = bpf.map_create{type = "hash", key_size = 12, value_size = 4,
                             max_entries = 4, name = "other"}
      if other then other:update(string.pack("I4I8", 2, 99), 1) end
      return table.unpack(r)
    end)
    if other then other:close() end
    assert.is_table(tried, "no finalizer ran during m:keys")
    assert.is_false(tried[1])
    assert.matches("libbpf.map: map 'mk' is in use", tried[2], 1, true)
    assert.equal(N, #t)
    for _, k in ipairs(t) do assert.equal(1, (string.unpack("I4", k))) end
  end)
end)
