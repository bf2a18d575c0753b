-- Events: ring buffers, perf buffers and user ring buffers on the real
-- kernel, fed by spec/bpf/events.bpf.c programs run through test_run.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local EINTR, ENOSPC = 4, 28
local BPF_F_TEST_RUN_ON_CPU = 1
local EVENT = "I8I4I4c16"           -- struct event: seq, pid, kind, comm[16]
local COMM = "lua-libbpf" .. string.rep("\0", 6)

local function loaded()
  local obj = assert(bpf.open(H.obj("events")))
  assert(obj:load())
  return obj
end

--- Emit `count` ring buffer records numbered from `start` (ring 0 = events).
local function emit(obj, count, start, ring)
  local r = assert(obj.progs.emit:test_run{
    ctx = string.pack("I4I4I4I4", count, start or 0, 0, ring or 0)})
  assert.equal(count, r.retval)             -- bpf_loop ran every iteration
end

--- Emit `count` perf samples (big ones when `big`) on `cpu`.
local function perf_emit(obj, count, start, big, cpu)
  assert(obj.progs.perf_emit:test_run{
    ctx = string.pack("I8I8I8", count, start or 0, big and 256 or 0),
    flags = BPF_F_TEST_RUN_ON_CPU, cpu = cpu or 0})
end

describe("a ring buffer", function()
  it("delivers 100,000 records complete and in order", function()
    local obj <close> = loaded()
    local n, bad = 0, nil
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(ev)
      local seq, pid, kind, comm = ev.seq, ev.pid, ev.kind, ev.comm .. string.rep("\0", 16 - #ev.comm)
      if not bad and (seq ~= n or pid ~= 4242 or kind ~= n & 3 or comm ~= COMM) then
        bad = string.format("record %d: seq=%d pid=%d kind=%d", n, seq, pid, kind)
      end
      n = n + 1
    end, {type = "struct event"}))
    local total = 0
    for batch = 0, 9 do
      emit(obj, 10000, batch * 10000)
      total = total + assert(rb:poll(1000))
    end
    assert.is_nil(bad)
    assert.equal(100000, n)
    assert.equal(100000, total)
    assert.equal(0, rb:consume())
  end)

  it("decodes records by BTF type", function()
    local obj <close> = loaded()
    local got = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.events,
      function(ev) got[#got + 1] = ev end, {type = "struct event"}))
    emit(obj, 3, 40)
    assert.equal(3, rb:poll(100))
    assert.same({seq = 42, pid = 4242, kind = 2, comm = "lua-libbpf"}, got[3])
  end)

  it("hands a reusable view whose fields are read through the BTF plan", function()
    local obj <close> = loaded()
    local seqs, views, kept = {}, {}, nil
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(ev)
      seqs[#seqs + 1] = ev.seq
      assert.equal(4242, ev.pid)
      assert.equal("lua-libbpf", ev.comm)
      assert.equal(32, #ev)
      assert.is_nil(ev.nosuchfield)
      views[ev] = true
      kept = ev
    end, {type = "struct event", view = true}))
    emit(obj, 5, 100)
    assert.equal(5, rb:poll(100))
    assert.same({100, 101, 102, 103, 104}, seqs)
    local nviews = 0
    for _ in pairs(views) do nviews = nviews + 1 end
    assert.equal(1, nviews)                 -- one view, reused
    assert.error_matches(function() return kept.seq end, "outside its callback")
    assert.matches("outside its callback", tostring(kept))
  end)

  it("gives the exact bytes with raw=true", function()
    local obj <close> = loaded()
    local got = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.events,
      function(ev) got[#got + 1] = ev end, {type = "struct event", raw = true}))
    emit(obj, 2, 7)
    assert.equal(2, rb:poll(100))
    assert.equal(string.pack(EVENT, 7, 4242, 0, COMM), got[1])
    assert.equal(string.pack(EVENT, 8, 4242, 1, COMM), got[2])
  end)

  it("stops consuming when the callback returns a non-zero integer", function()
    local obj <close> = loaded()
    local seqs = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(ev)
      local seq = string.unpack("I8", ev)
      seqs[#seqs + 1] = seq
      if seq == 3 then return 1 end
      return true -- not an integer: carry on
    end, {raw = true}))
    emit(obj, 10)
    assert.equal(4, rb:poll(100))
    assert.same({0, 1, 2, 3}, seqs)
    assert.equal(6, rb:consume())           -- the rest is still there
    assert.equal(10, #seqs)
  end)

  it("raises a callback's error from poll with its traceback, and stops", function()
    local obj <close> = loaded()
    local seen = 0
    local function handler(ev)
      seen = seen + 1
      if string.unpack("I8", ev) == 2 then error("boom at record 2") end
    end
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, handler, {raw = true}))
    emit(obj, 10)
    local ok, err = pcall(rb.poll, rb, 100)
    assert.is_false(ok)
    assert.matches("boom at record 2", err)
    assert.matches("stack traceback:", err)
    assert.matches("events_spec.lua:%d+: in", err)
    assert.equal(3, seen)
    assert.equal(7, rb:consume())           -- usable afterwards, nothing lost
  end)

  it("reads several maps in one poller with add()", function()
    local obj <close> = loaded()
    local a, b = 0, 0
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function() a = a + 1 end))
    assert.equal(rb, rb:add(obj.maps.events2, function() b = b + 1 end, {raw = true}))
    emit(obj, 3, 0, 0)
    emit(obj, 4, 0, 1)
    assert.equal(7, rb:consume())
    assert.equal(3, a)
    assert.equal(4, b)
    assert.matches("^libbpf.ringbuf%(events, events2, epoll_fd=%d+%)$", tostring(rb))
    assert.equal("anon_inode:[eventpoll]", H.fd_target(rb:epoll_fd()))
  end)

  it("returns nil, 'interrupted', EINTR when a signal arrives during poll", function()
    -- in a child: lua5.4's SIGINT handler raises "interrupted!" on the main
    -- thread only, so the poll runs in a coroutine to see poll's own result.
    -- The signal goes once the child said "ready" and sleeps in epoll_wait.
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local bpf = require "libbpf"
      bpf.set_print(function() end)
      local obj = assert(bpf.open(arg[1])); assert(obj:load())
      local rb = assert(bpf.ringbuf(obj.maps.events, function() end))
      coroutine.wrap(function()
        io.stderr:write("ready\n")
        local t0 = os.time()
        local n, msg, code = rb:poll(20000)
        print(tostring(n), msg, code, os.time() - t0)
        io.stdout:flush()
      end)()
    ]])
    f:close()
    local child = H.spawn(("LUA_PATH='lua/?.lua;;' LUA_CPATH='./?.so;;' lua5.4 %s %s")
      :format(script, H.obj("events")))
    finally(function() child:cleanup(); os.remove(script) end)
    child:wait_output("ready\n", 10)
    child:wait_blocked("epoll_wait", 10)
    child:signal("INT")
    child:finish(10) -- status 1: lua5.4 raises "interrupted!" once back on the main thread
    local n, msg, code, secs = child:output():match("(%S+)\t(%S+)\t(%d+)\t(%d+)")
    assert.equal("nil", n, child:output())
    assert.equal("interrupted", msg)
    assert.equal(EINTR, tonumber(code))
    assert.is_true(tonumber(secs) < 10)
  end)

  it("is safe when its object is closed first: it raises 'closed' on use", function()
    local obj = loaded()
    local rb = assert(bpf.ringbuf(obj.maps.events, function() end))
    emit(obj, 2)
    obj:close()
    assert.error_matches(function() rb:poll(0) end, "ring buffer is closed")
    assert.error_matches(function() rb:consume() end, "ring buffer is closed")
    rb:close()
    rb:close()
    assert.equal("libbpf.ringbuf (closed)", tostring(rb))
  end)

  it("keeps its object alive while reachable", function()
    local rb
    do
      local obj = loaded()
      local n = 0
      rb = assert(bpf.ringbuf(obj.maps.events, function() n = n + 1 end))
      emit(obj, 3)
    end
    H.gc()
    assert.equal(3, rb:poll(100))
    rb:close()
    assert.error_matches(function() rb:poll(0) end, "libbpf.ringbuf: ring buffer is closed")
  end)

  it("closes from inside its own callback", function()
    local obj <close> = loaded()
    local rb
    local n = 0
    rb = assert(bpf.ringbuf(obj.maps.events, function() n = n + 1; rb:close() end))
    emit(obj, 5)
    assert.equal(1, rb:poll(100))
    assert.equal(1, n)
    assert.error_matches(function() rb:poll(0) end, "ring buffer is closed")
  end)

  it("skips records the program discarded", function()
    local obj <close> = loaded()
    local seqs = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.events,
      function(ev) seqs[#seqs + 1] = string.unpack("I8", ev) end, {raw = true}))
    local r = assert(obj.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 9, 0, 3, 0)})
    assert.equal(9, r.retval)
    assert.equal(6, rb:consume())           -- 0, 3 and 6 were discarded
    assert.same({1, 2, 4, 5, 7, 8}, seqs)
    assert.equal(0, rb:consume())
  end)

  it("keeps records in order across the end of a small ring", function()
    local obj <close> = loaded()
    local want, bad = 0, nil
    local rb <close> = assert(bpf.ringbuf(obj.maps.events2, function(ev)
      local seq = string.unpack("I8", ev)
      if seq ~= want and not bad then bad = ("got %d, wanted %d"):format(seq, want) end
      want = want + 1
    end, {raw = true}))
    for round = 0, 19 do                  -- 20 x 40 KB through a 64 KiB ring
      emit(obj, 1000, round * 1000, 1)
      assert.equal(1000, rb:consume())
    end
    assert.is_nil(bad)
    assert.equal(20000, want)
  end)

  describe("with batch=", function()
    it("hands the records to one callback per batch, each in the source's shape", function()
      local obj <close> = loaded()
      local sizes, seqs, kept = {}, {}, nil
      local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(b)
        sizes[#sizes + 1] = #b
        for i, ev in ipairs(b) do
          assert.equal("table", type(ev))
          assert.equal(4242, ev.pid)
          seqs[#seqs + 1] = ev.seq
          assert.equal(i, #seqs - (#sizes - 1) * 1000)
        end
        assert.is_nil(b[#b + 1])
        assert.is_nil(b[0])
        kept = b
      end, {type = "struct event", batch = 1000}))
      emit(obj, 2500)
      assert.equal(2500, rb:consume())
      assert.same({1000, 1000, 500}, sizes)
      for i = 1, 2500 do assert.equal(i - 1, seqs[i]) end
      assert.error_matches(function() return #kept end, "used outside its callback")
      assert.error_matches(function() return kept[1] end, "used outside its callback")
      assert.matches("outside its callback", tostring(kept))
    end)

    it("gives exact bytes in raw mode and skips discarded records", function()
      local obj <close> = loaded()
      local got = {}
      local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(b)
        for i = 1, #b do got[#got + 1] = b[i] end
      end, {raw = true, batch = true}))
      local r = assert(obj.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 4, 7, 2, 0)})
      assert.equal(4, r.retval)
      assert.equal(2, rb:poll(100))         -- 8 and 10 were discarded
      assert.same({string.pack(EVENT, 7, 4242, 0, COMM), string.pack(EVENT, 9, 4242, 2, COMM)},
                  got)
    end)

    it("reads one field of every record with b:column, into a reused table", function()
      local obj <close> = loaded()
      local col, comms, lens = {}, nil, {}
      local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(b)
        local seq = b:column("seq", col)
        assert.equal(col, seq)
        lens[#lens + 1] = #seq
        for i = 1, #seq do assert.equal(b[i].seq, seq[i]) end
        comms = b:column("comm")
      end, {type = "struct event", batch = 300}))
      emit(obj, 700, 5)
      assert.equal(700, rb:consume())
      assert.same({300, 300, 100}, lens)
      assert.equal(100, #col)               -- entries past the last batch were cleared
      assert.equal(605, col[1])
      assert.equal(699 + 5, col[100])
      assert.equal("lua-libbpf", comms[1])
    end)

    it("names the problem when a column cannot be read", function()
      local obj <close> = loaded()
      local function fails(opts, field, pattern)
        local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(b)
          b:column(field)
        end, opts))
        emit(obj, 1)
        local ok, err = pcall(rb.consume, rb)
        assert.is_false(ok)
        assert.matches(pattern, err)
      end
      fails({type = "struct event", batch = true}, "nope",
            "struct event has no field 'nope' of integer, bool or char%[%] type")
      fails({raw = true, batch = true}, "seq", "column%(%) needs records of a struct type")
    end)

    it("stops after a batch whose callback returns non-zero, and raises its errors", function()
      local obj <close> = loaded()
      local calls = 0
      local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(b)
        calls = calls + 1
        if calls == 1 then return 1 end
        if calls == 2 then error("boom in batch of " .. #b) end
      end, {raw = true, batch = 4}))
      emit(obj, 10)
      assert.equal(4, rb:consume())         -- the first batch, then stop
      local ok, err = pcall(rb.consume, rb)
      assert.is_false(ok)
      assert.matches("boom in batch of 4", err)
      assert.matches("stack traceback:", err)
      assert.equal(2, rb:consume())         -- the failed batch counts as consumed
      assert.equal(3, calls)
    end)

    it("is closed safely from inside a batch callback, by itself or by its object", function()
      local obj = loaded()
      local rb, calls = nil, 0
      rb = assert(bpf.ringbuf(obj.maps.events, function(b)
        calls = calls + 1
        assert.equal(2, #b)
        rb:close()
      end, {raw = true, batch = 2}))
      emit(obj, 5)
      assert.equal(2, rb:poll(100))
      assert.equal(1, calls)
      assert.error_matches(function() rb:poll(0) end, "ring buffer is closed")
      local rb2 = assert(bpf.ringbuf(obj.maps.events, function(b)
        calls = calls + 1
        obj:close()
        return #b
      end, {raw = true, batch = 2}))
      assert.error_matches(function() rb2:consume() end,
        "ring buffer is closed %(the object of its map was closed%)")
      assert.equal(2, calls)
      assert.error_matches(function() rb2:consume() end, "ring buffer is closed")
      H.gc()
    end)

    it("checks its value", function()
      local obj <close> = loaded()
      local f = function() end
      for _, bad in ipairs{0, -1, 65537} do
        assert.error_matches(function() bpf.ringbuf(obj.maps.events, f, {batch = bad}) end,
          "batch must be true, false or 1..65536 records")
      end
      assert.error_matches(function() bpf.ringbuf(obj.maps.events, f, {batch = "x"}) end,
        "batch")
      local calls = 0
      local rb <close> = assert(bpf.ringbuf(obj.maps.events, function() calls = calls + 1 end,
                                            {batch = false}))
      emit(obj, 2)
      assert.equal(2, rb:consume())
      assert.equal(2, calls)                -- false: one callback per record
    end)
  end)

  it("refuses misuse with messages that name the problem", function()
    local obj <close> = loaded()
    local f = function() end
    assert.error_matches(function() bpf.ringbuf(obj.maps.samples, f) end,
      "map 'samples' is a perf_event_array map, not a ringbuf map")
    assert.error_matches(function() bpf.ringbuf(obj.maps.events, f, {tpye = "x"}) end,
      "tpye")
    assert.error_matches(function() bpf.ringbuf(obj.maps.events, f, {type = "struct nope"}) end,
      "type 'struct nope' is not in the BTF")
    assert.error_matches(function() bpf.ringbuf(obj.maps.events, 42) end, "function expected")
    local unloaded <close> = assert(bpf.open(H.obj("events")))
    assert.error_matches(function() bpf.ringbuf(unloaded.maps.events, f) end, "not loaded")
  end)

  it("does not leak fds", function()
    local obj <close> = loaded()
    H.gc()
    local before, mapped = H.fd_count(), H.bpf_mappings()
    for _ = 1, 20 do
      local rb = assert(bpf.ringbuf(obj.maps.events, function() end, {batch = true}))
      rb:close()
      local pb = assert(bpf.perfbuf(obj.maps.samples, {on_sample = function() end}))
      pb:close()
      local _ = bpf.ringbuf(obj.maps.events, function() end) -- dropped: __gc
    end
    H.gc()
    assert.equal(before, H.fd_count())
    assert.equal(mapped, H.bpf_mappings())   -- the rings are unmapped too
  end)
end)

describe("a perf buffer", function()
  it("delivers 1,000 samples with an integer CPU number", function()
    local obj <close> = loaded()
    local seqs, cpus = {}, {}
    local pb <close> = assert(bpf.perfbuf(obj.maps.samples, {type = "struct event",
      on_sample = function(cpu, ev)
        cpus[#cpus + 1] = cpu
        assert.equal(4242, ev.pid)
        seqs[#seqs + 1] = ev.seq
      end}))
    local p = io.popen("nproc")
    local cpu = tonumber(p:read("l")) - 1    -- the last CPU, 0 on a 1-CPU machine
    p:close()
    perf_emit(obj, 500, 0, false, 0)
    local n = assert(pb:poll(1000))
    perf_emit(obj, 500, 500, false, cpu)
    H.wait_until(function()
      n = n + assert(pb:poll(100))
      return n >= 1000
    end, 10, "1000 perf samples", function() return n .. " arrived" end)
    assert.equal(1000, n)
    assert.equal(1000, #seqs)
    for i = 1, 1000 do
      assert.equal(i - 1, seqs[i])
      assert.equal("integer", math.type(cpus[i]))
      assert.equal(i <= 500 and 0 or cpu, cpus[i])
    end
    assert.equal(0, pb.lost)
  end)

  it("reports lost samples to on_lost when the buffer is too small", function()
    local obj <close> = loaded()
    local got, lost, lost_cpu = 0, 0, nil
    local pb <close> = assert(bpf.perfbuf(obj.maps.samples, {pages = 1, raw = true,
      on_sample = function(_, ev) got = got + 1; assert.equal(256 + 4, #ev) end,
      on_lost = function(cpu, n) lost = lost + n; lost_cpu = cpu end}))
    perf_emit(obj, 200, 0, true, 0)          -- 200 * 292 bytes into 4 KiB
    pb:poll(100)
    perf_emit(obj, 1, 200, true, 0)          -- the kernel reports the loss before it
    pb:poll(100)
    assert.is_true(lost > 0)
    assert.equal(0, lost_cpu)
    assert.equal(201, got + lost)
    assert.equal(lost, pb.lost)
  end)

  it("raises a sample callback's error from poll", function()
    local obj <close> = loaded()
    local pb <close> = assert(bpf.perfbuf(obj.maps.samples, {
      on_sample = function() error({code = 7}) end}))
    perf_emit(obj, 3)
    local ok, err = pcall(pb.poll, pb, 100)
    assert.is_false(ok)
    assert.same({code = 7}, err)             -- non-string errors pass unchanged
  end)

  it("checks its options and is closed with its object", function()
    local obj = loaded()
    assert.error_matches(function() bpf.perfbuf(obj.maps.samples, {}) end, "on_sample")
    assert.error_matches(function()
      bpf.perfbuf(obj.maps.samples, {on_sample = print, pages = 3}) end, "power of 2")
    assert.error_matches(function()
      bpf.perfbuf(obj.maps.samples, {on_sample = print, page = 4}) end, "page")
    local pb = assert(bpf.perfbuf(obj.maps.samples, {on_sample = print}))
    assert.matches("^libbpf.perfbuf%(samples, %d+ cpus, lost=0%)$", tostring(pb))
    assert.equal("anon_inode:[eventpoll]", H.fd_target(pb:epoll_fd()))
    obj:close()
    assert.error_matches(function() pb:poll(0) end, "perf buffer is closed")
  end)
end)

describe("a user ring buffer", function()
  local function drained(obj)
    return obj.maps.drained:lookup(0), obj.maps.drained:lookup(1), obj.maps.drained:lookup(2)
  end

  it("carries records written from Lua to the BPF program", function()
    local obj <close> = loaded()
    local ur <close> = assert(bpf.user_ringbuf(obj.maps.commands, {type = "struct command"}))
    assert.is_true(ur:write(string.pack("I8I4I4", 40, 1, 0)))
    assert.is_true(ur:write(string.pack("I8I4I4", 2, 9, 0)))
    local r = assert(obj.progs.drain:test_run{})
    assert.equal(2, r.retval)                -- records drained
    local n, sum, last = drained(obj)
    assert.equal(2, n)
    assert.equal(42, sum)
    assert.equal(9, last)
  end)

  it("reserves, submits and discards samples", function()
    local obj <close> = loaded()
    local ur <close> = assert(bpf.user_ringbuf(obj.maps.commands))
    local s = assert(ur:reserve(16))
    assert.equal(16, #s)
    local d = assert(ur:reserve(16))
    ur:submit(s, string.pack("I8I4", 5, 3))
    ur:discard(d)
    assert.error_matches(function() ur:submit(s) end, "already submitted")
    assert(obj.progs.drain:test_run{})
    local n, sum, last = drained(obj)
    assert.equal(1, n)
    assert.equal(5, sum)
    assert.equal(3, last)
  end)

  it("encodes a table by BTF", function()
    local obj <close> = loaded()
    local ur <close> = assert(bpf.user_ringbuf(obj.maps.commands, {type = "struct command"}))
    assert.is_true(ur:write({value = 11, op = 4}))
    assert(obj.progs.drain:test_run{})
    local n, sum, last = drained(obj)
    assert.same({1, 11, 4}, {n, sum, last})
  end)

  it("says when it is full and when its object is closed", function()
    local obj = loaded()
    local ur = assert(bpf.user_ringbuf(obj.maps.commands))
    local ok, msg, code
    for _ = 1, 10000 do
      ok, msg, code = ur:write(string.rep("x", 16))
      if not ok then break end
    end
    assert.is_nil(ok)
    assert.matches("reserve of 16 bytes on map 'commands' failed", msg)
    assert.equal(ENOSPC, code)
    obj:close()
    assert.error_matches(function() ur:write("x") end, "closed")
  end)
end)
