-- Event streams under misuse (issue 13, items 2, 3, 4, 5, 11, 12, 14):
-- closed objects, recycled fds, big char arrays, hostile arguments. Calls
-- that crashed the process run in a child lua5.4, so that a regression
-- fails the spec instead of killing busted.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local BIG = "<I4c4096I4c5000I4"       -- struct big: head, path, mid, name, tail
local PATH = ("/p"):rep(2047)          -- 4094 bytes, then NULs
local NAME = ("n"):rep(4999)

local function loaded(name)
  local obj = assert(bpf.open(H.obj(name or "events")))
  assert(obj:load())
  return obj
end

local function big_record(i)
  return BIG:pack(0x11111111 + i, PATH .. "\0\0", 0x22222222 + i, NAME .. "\0",
                  0x33333333 + i)
end

--- Emit one struct big (number i) into harden_events' bigring.
local function emit_big(obj, i)
  local r = assert(obj.progs.emit_big:test_run{ctx = big_record(i)})
  assert.equal(0, r.retval)
end

--- Emit `count` struct event records into events.bpf.o's ring `ring`.
local function emit(obj, count, ring)
  local r = assert(obj.progs.emit:test_run{
    ctx = string.pack("I4I4I4I4", count, 0, 0, ring or 0)})
  assert.equal(count, r.retval)
end

--- Run Lua source `src` in a child lua5.4 (same module paths); returns its
-- output (stdout and stderr) and exit status. `arg[1]` is spec/bpf/.
local function child(src)
  local path = H.tmpfile('local bpf = require "libbpf"\nbpf.set_print(function() end)\n', src)
  local p = io.popen(("lua5.4 %s %s 2>&1; echo \"exit=$?\""):format(path, H.bpfdir))
  local out = p:read("a")
  p:close()
  os.remove(path)
  local rc = tonumber(out:match("exit=(%d+)%s*$"))
  return out:gsub("exit=%d+%s*$", ""), rc
end

describe("an event stream whose object was closed", function()
  -- item 3, fuzz F5 and F11
  it("prints as closed instead of reading freed libbpf memory", function()
    local out, rc = child([[
      local o = assert(bpf.open(arg[1] .. "events.bpf.o")); assert(o:load())
      local rb = assert(bpf.ringbuf(o.maps.events, function() end))
      local pb = assert(bpf.perfbuf(o.maps.samples, {on_sample = function() end}))
      local u = assert(bpf.user_ringbuf(o.maps.commands))
      print(tostring(rb), tostring(pb), tostring(u))
      o:close()
      print(tostring(rb)); print(tostring(pb)); print(tostring(u))
      print(select(2, pcall(rb.poll, rb, 0)))
      print(tostring(rb))
    ]])
    assert.equal(0, rc, out)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.matches("^libbpf.ringbuf%(events, epoll_fd=%d+%)\tlibbpf.perfbuf%(samples, %d+ cpus, "
                   .. "lost=0%)\tlibbpf.user_ringbuf%(commands%)$", lines[1])
    assert.same({"libbpf.ringbuf (closed)", "libbpf.perfbuf (closed)",
                 "libbpf.user_ringbuf (closed)"}, {lines[2], lines[3], lines[4]})
    assert.matches("ring buffer is closed %(the object of its map was closed%)", lines[5])
    assert.equal("libbpf.ringbuf (closed)", lines[6])
    assert.equal(6, #lines, out)
  end)
end)

describe("an event stream made with options whose __index closes the object", function()
  -- item 14: the map's BTF and fd number died with it
  it("raises instead of using the closed object's BTF or fd", function()
    local makers = {
      ringbuf = function(o, opts) return bpf.ringbuf(o.maps.events, function() end, opts) end,
      add = function(o, opts)
        local rb = assert(bpf.ringbuf(o.maps.events2, function() end))
        return rb:add(o.maps.events, function() end, opts)
      end,
      perfbuf = function(o, opts)
        rawset(opts, "on_sample", print)
        return bpf.perfbuf(o.maps.samples, opts)
      end,
      user_ringbuf = function(o, opts) return bpf.user_ringbuf(o.maps.commands, opts) end,
    }
    local whats = {ringbuf = "ringbuf", add = "ringbuf", perfbuf = "perfbuf",
                   user_ringbuf = "user_ringbuf"}
    for what, make in pairs(makers) do
      for _, key in ipairs{"type", "batch", "pages", "on_lost"} do
        local o = loaded()
        local closed = false
        local opts = setmetatable({}, {__index = function(_, k)
          if k == key then o:close(); closed = true end
        end})
        local ok, err = pcall(make, o, opts)
        if closed then
          assert.is_false(ok, what .. " " .. key)
          assert.equal(("libbpf.%s: the object of its map was closed while the options were read")
                       :format(whats[what]), err:match("libbpf%.[%w_]+: .*"))
        else
          assert.is_true(ok, err)
          o:close()
        end
      end
    end
  end)
end)

describe("a perf buffer", function()
  -- item 2
  it("gives libbpf its own fd: freed after its object, it leaves a recycled fd's map alone", function()
    local obj = loaded()
    local fd = obj.maps.samples.fd
    local pb = assert(bpf.perfbuf(obj.maps.samples, {on_sample = function() end}))
    obj:close()
    local maps, victim = {}, nil
    for i = 1, 64 do      -- a hash map that gets the perf array's fd number
      maps[i] = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4,
                                      max_entries = 64})
      if maps[i].fd == fd then victim = maps[i] break end
    end
    assert(victim, "no new map got fd " .. fd)
    local ncpu = bpf.num_possible_cpus()
    for k = 0, ncpu + 1 do
      assert(victim:update(k, 100 + k))
    end
    pb:close()            -- libbpf deletes its keys 0..ncpu-1 from the fd it kept
    for k = 0, ncpu + 1 do
      assert.equal(100 + k, victim:lookup(k) or "deleted")
    end
    for _, m in ipairs(maps) do m:close() end
  end)

  it("closes its duplicate of the map fd", function()
    local obj <close> = loaded()
    H.gc()
    local before = H.fd_count()
    local pb = assert(bpf.perfbuf(obj.maps.samples, {on_sample = function() end}))
    assert.is_true(H.fd_count() > before)
    pb:close()
    assert.equal(before, H.fd_count())
    local failed = select(2, bpf.perfbuf(obj.maps.samples, {on_sample = print, pages = 1 << 40}))
    assert.matches("perf buffer on map 'samples' failed", failed)
    assert.equal(before, H.fd_count())
  end)

  -- fuzz F3 (item 12)
  it("checks that its field getter is given a perf buffer", function()
    local out, rc = child([[
      local index = debug.getregistry()["libbpf.perfbuf"].__index
      print(pcall(index, {}, "lost"))
      print(pcall(index, io.stdout, "lost"))
      local o = assert(bpf.open(arg[1] .. "events.bpf.o"))
      print(pcall(index, o.maps.samples, "lost"))
    ]])
    assert.equal(0, rc, out)
    local n = 0
    for l in out:gmatch("[^\n]+") do
      n = n + 1
      assert.matches("^false\t.*libbpf.perfbuf expected, got %a+", l)
    end
    assert.equal(3, n, out)
  end)

  -- item 11: the decoder runs inside the poll's loop (once libbpf's); an
  -- error there (here: Lua stack exhausted by a deeply nested type) must
  -- end the poll cleanly
  it("decodes under protection inside the poll's loop", function()
    local obj <close> = loaded("harden_events")
    local got = {}
    local pb <close> = assert(bpf.perfbuf(obj.maps.deep_samples, {type = "struct d30",
      on_sample = function(_, d) got[#got + 1] = d end}))
    local function sample()
      assert(obj.progs.emit_deep:test_run{ctx = string.rep("\0", 8),
                                            flags = 1, cpu = 0})
    end
    -- poll with the Lua stack filled to near its limit: calls that cannot
    -- even start fail with "stack overflow" (or unpack refuses) and no
    -- traceback; the first that starts fails inside, with poll's traceback
    local filler = {}
    for i = 1, 1000000 do filler[i] = false end
    sample()
    local n = 1000000
    local ok, err
    repeat
      n = n - 4
      ok, err = pcall(function() return pb:poll(1000, table.unpack(filler, 1, n)) end)
      err = tostring(err)
    until ok or err:find("stack traceback:", 1, true)
      or not (err:find("stack overflow", 1, true) or err:find("too many results", 1, true))
    assert.is_false(ok)
    assert.matches("stack overflow", err)
    assert.matches("stack traceback:", err)
    assert.equal(0, #got)
    -- the poll ended cleanly: the next one works (was: "called from one of
    -- its own callbacks", the poll left half done). The sample being
    -- decoded when the error came counts as consumed; when the poll failed
    -- before it reached the sample (its own protected call could not
    -- start), the sample is still there: 1 or 2 now, none lost, none twice
    sample()
    local n2 = pb:poll(1000)
    assert.is_true(n2 == 1 or n2 == 2, n2)
    assert.equal(n2, #got)
    assert.equal(0, pb:consume())
    for i = 1, n2 do
      local v = got[i]
      for _ = 1, 30 do v = v.a end        -- struct d30 .a -> d29 ... -> d0
      assert.equal(7, v.x)
    end
  end)

  -- item 14
  it("refuses a timeout beyond an int", function()
    local obj <close> = loaded()
    local pb <close> = assert(bpf.perfbuf(obj.maps.samples, {on_sample = function() end}))
    for _, ms in ipairs{2^32, 2^31, math.maxinteger, -2^31 - 1, math.mininteger} do
      assert.error_matches(function() pb:poll(math.tointeger(ms)) end,
        "bad argument #1 to 'poll' %(timeout out of range%)")
    end
    assert.equal(0, pb:poll(0))
  end)
end)

describe("a ring buffer", function()
  -- item 5
  it("reads char arrays of 4096 bytes and more through views and columns", function()
    local obj <close> = loaded("harden_events")
    local seen = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.bigring, function(ev)
      seen[#seen + 1] = {ev.head, ev.path, ev.mid, ev.name, ev.tail}
    end, {type = "struct big", view = true}))
    emit_big(obj, 0)
    assert.equal(1, rb:poll(1000))
    assert.same({0x11111111, PATH, 0x22222222, NAME, 0x33333333}, seen[1])
    local cols = {}
    local rbb <close> = assert(bpf.ringbuf(obj.maps.bigring, function(b)
      for _, f in ipairs{"head", "path", "mid", "name", "tail"} do cols[f] = b:column(f) end
    end, {type = "struct big", batch = true}))
    rb:close()
    emit_big(obj, 1)
    emit_big(obj, 2)
    assert.equal(2, rbb:poll(1000))
    assert.same({head = {0x11111112, 0x11111113}, path = {PATH, PATH},
                 mid = {0x22222223, 0x22222224}, name = {NAME, NAME},
                 tail = {0x33333334, 0x33333335}}, cols)
  end)

  -- item 14 (and issue 15)
  it("b:column(field, nil) makes a new table, as without the argument", function()
    local out, rc = child([[
      local o = assert(bpf.open(arg[1] .. "events.bpf.o")); assert(o:load())
      local cols
      local rb = assert(bpf.ringbuf(o.maps.events, function(b)
        cols = {b:column("pid", nil), b:column("kind"), b:column("seq", nil)}
      end, {type = "struct event", batch = true}))
      assert(o.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 3, 10, 0, 0)})
      print(rb:poll(1000))
      print(table.concat(cols[1], ","), table.concat(cols[2], ","), table.concat(cols[3], ","))
    ]])
    assert.equal(0, rc, out)
    assert.equal("3\n4242,4242,4242\t0,1,2\t10,11,12\n", out)
  end)

  -- item 14
  it("refuses a timeout beyond an int and waits on any negative one", function()
    local obj <close> = loaded()
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function() end))
    for _, ms in ipairs{2^32, 2^31, math.maxinteger, -2^31 - 1, math.mininteger} do
      local t0 = H.now()
      assert.error_matches(function() rb:poll(math.tointeger(ms)) end,
        "bad argument #1 to 'poll' %(timeout out of range%)")
      assert.is_true(H.now() - t0 < 0.5)
    end
    emit(obj, 2)
    assert.equal(2, rb:poll(-7))            -- negative: until records come
  end)

  -- item 4
  it("refuses b[i] after the batch callback closed the object", function()
    local out, rc = child([[
      local o = assert(bpf.open(arg[1] .. "events.bpf.o")); assert(o:load())
      local rb = assert(bpf.ringbuf(o.maps.events, function(b)
        local first = b[1].seq
        o:close()
        collectgarbage(); collectgarbage()
        print(first, pcall(function() return b[2] end))
        print(pcall(function() return b:column("seq") end))
        print(pcall(function() return #b end))
      end, {type = "struct event", batch = true}))
      assert(o.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 3, 5, 0, 0)})
      print(pcall(rb.poll, rb, 1000))
    ]])
    assert.equal(0, rc, out)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.matches("^5\tfalse\t.*libbpf.ringbuf_batch: the object of its map was closed$",
                   lines[1])
    assert.matches("^false\t.*libbpf.ringbuf_batch: the object of its map was closed$",
                   lines[2])
    assert.equal("true\t3", lines[3])      -- the count needs no decoding
    assert.matches("^false\t.*ring buffer is closed %(the object of its map was closed%)$",
                   lines[4])
    assert.equal(4, #lines, out)
  end)

  -- item 14
  it("stops before decoding a map whose object an earlier callback closed", function()
    local out, rc = child([[
      local o1 = assert(bpf.open(arg[1] .. "events.bpf.o")); assert(o1:load())
      local o2 = assert(bpf.open(arg[1] .. "events.bpf.o")); assert(o2:load())
      local calls = {0, 0}
      local rb = assert(bpf.ringbuf(o1.maps.events, function(ev)
        calls[1] = calls[1] + 1
        o2:close()
        collectgarbage(); collectgarbage()
      end, {type = "struct event"}))
      rb:add(o2.maps.events, function(ev) calls[2] = calls[2] + 1; print(ev.seq) end,
             {type = "struct event"})
      assert(o1.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 1, 0, 0, 0)})
      assert(o2.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 2, 0, 0, 0)})
      print(pcall(rb.poll, rb, 1000))
      print(calls[1], calls[2])
    ]])
    assert.equal(0, rc, out)
    assert.matches("^false\t.*ring buffer is closed %(the object of its map was closed%)\n1\t0\n$",
                   out)
  end)
end)

describe("a user ring buffer", function()
  -- item 12: sizes are checked before the 32-bit reserve, not truncated
  it("refuses a record larger than its ring before reserving", function()
    local obj <close> = loaded()
    local u <close> = assert(bpf.user_ringbuf(obj.maps.commands))
    local ok, msg, errno = u:write(string.rep("x", (1 << 14) + 1))
    assert.is_nil(ok)
    assert.equal("libbpf.user_ringbuf: record of 16385 bytes does not fit in map "
                 .. "'commands' (16384 bytes)", msg)
    assert.equal(7, errno)                -- E2BIG
    assert.error_matches(function() u:reserve(1 << 32 | 8) end,
      "bad argument #1 to 'reserve' %(size out of range%)")
    assert(u:write(string.pack("I8I4I4", 5, 1, 0)))
    assert(obj.progs.drain:test_run{})
    assert.same({1, 5, 1}, {obj.maps.drained:lookup(0), obj.maps.drained:lookup(1),
                            obj.maps.drained:lookup(2)})
  end)
end)
