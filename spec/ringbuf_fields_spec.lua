-- bpf.ringbuf(map, cb, {type=, fields={...}}): the chosen members of each
-- record passed as the callback's arguments, no table; records from
-- spec/bpf/events.bpf.c's emit program run through test_run.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local function loaded()
  local obj = assert(bpf.open(H.obj("events")))
  assert(obj:load())
  return obj
end

local function emit(obj, count, start)
  local r = assert(obj.progs.emit:test_run{ctx = string.pack("I4I4I4I4", count, start or 0, 0, 0)})
  assert.equal(count, r.retval)
end

describe("a ring buffer with fields=", function()
  it("passes the chosen members of every record as arguments, in the order asked", function()
    local obj <close> = loaded()
    local got, nargs = {}, {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(...)
      nargs[#nargs + 1] = select("#", ...)
      got[#got + 1] = {...}
    end, {type = "struct event", fields = {"pid", "seq", "comm", "kind"}}))
    emit(obj, 1000, 50)
    assert.equal(1000, rb:poll(1000))
    assert.equal(1000, #got)
    for i, g in ipairs(got) do
      local seq = 49 + i
      if g[1] ~= 4242 or g[2] ~= seq or g[3] ~= "lua-libbpf" or g[4] ~= (i - 1) & 3 or nargs[i] ~= 4 then
        error(("record %d: %s %s %s %s (%d args)"):format(i, g[1], g[2], g[3], g[4], nargs[i]))
      end
    end
  end)

  it("reads one field as cheaply as the callback's signature allows", function()
    local obj <close> = loaded()
    local sum, n = 0, 0
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(seq)
      sum, n = sum + seq, n + 1
    end, {type = "struct event", fields = {"seq"}}))
    emit(obj, 100, 1)
    assert.equal(100, rb:poll(1000))
    assert.equal(100, n)
    assert.equal(5050, sum)
  end)

  it("stops on a non-zero return and re-raises a callback's error", function()
    local obj <close> = loaded()
    local seen = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(seq)
      seen[#seen + 1] = seq
      if seq == 2 then return 1 end
      if seq == 4 then error("boom at " .. seq) end
    end, {type = "struct event", fields = {"seq"}}))
    emit(obj, 6)
    assert.equal(3, rb:poll(100))
    assert.error_matches(function() rb:poll(100) end, "boom at 4")
    assert.equal(1, rb:consume())
    assert.same({0, 1, 2, 3, 4, 5}, seen)
  end)

  it("raises naming every unknown field, and for options it cannot go with", function()
    local obj <close> = loaded()
    local cb = function() end
    assert.has_error(function()
      bpf.ringbuf(obj.maps.events, cb, {type = "struct event", fields = {"pid", "nope", "zz"}})
    end, "libbpf.ringbuf: fields: struct event has no integer, bool or char[] member 'nope', 'zz'")
    assert.has_error(function()
      bpf.ringbuf(obj.maps.events, cb, {fields = {"pid"}})
    end, "libbpf.ringbuf: fields= needs records of a struct type (type=\"struct x\"), not 'untyped'")
    assert.has_error(function()
      bpf.ringbuf(obj.maps.events, cb, {type = "struct event", fields = {}})
    end, "libbpf.ringbuf: fields must be a list of 1..64 member names")
    assert.has_error(function()
      bpf.ringbuf(obj.maps.events, cb, {type = "struct event", fields = {"pid", 3}})
    end, "libbpf.ringbuf: fields[2] must be a string, got number")
    for _, o in ipairs({{batch = true}, {view = true}, {raw = true}}) do
      o.type, o.fields = "struct event", {"seq"}
      assert.has_error(function() bpf.ringbuf(obj.maps.events, cb, o) end,
                       "libbpf.ringbuf: fields= cannot go with batch=, view= or raw=")
    end
  end)

  it("takes fields= per map in add()", function()
    local obj <close> = loaded()
    local a, b = {}, {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(seq) a[#a + 1] = seq end,
                                          {type = "struct event", fields = {"seq"}}))
    rb:add(obj.maps.events2, function(ev) b[#b + 1] = ev.seq end, {type = "struct event"})
    emit(obj, 2, 10)
    assert(obj.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 3, 20, 0, 1)})
    assert.equal(5, rb:poll(100))
    assert.same({10, 11}, a)
    assert.same({20, 21, 22}, b)
  end)
end)

describe("a perf buffer with fields=", function()
  it("passes the CPU, then the chosen members of every sample", function()
    local obj <close> = loaded()
    local got = {}
    local pb <close> = assert(bpf.perfbuf(obj.maps.samples, {type = "struct event",
      fields = {"seq", "pid", "comm"},
      on_sample = function(...) got[#got + 1] = table.pack(...) end}))
    assert(obj.progs.perf_emit:test_run{ctx = string.pack("I8I8I8", 300, 10, 0),
                                        flags = 1, cpu = 0})   -- BPF_F_TEST_RUN_ON_CPU
    local n = 0
    H.wait_until(function()
      n = n + assert(pb:poll(100))
      return n >= 300
    end, 10, "300 perf samples", function() return n .. " arrived" end)
    assert.equal(300, #got)
    for i, g in ipairs(got) do
      if g.n ~= 4 or g[1] ~= 0 or g[2] ~= 9 + i or g[3] ~= 4242 or g[4] ~= "lua-libbpf" then
        error(("sample %d: %s %s %s %s (%d args)"):format(i, g[1], g[2], g[3], g[4], g.n))
      end
    end
  end)

  it("raises naming unknown fields and refuses view=/raw= with fields=", function()
    local obj <close> = loaded()
    assert.has_error(function()
      bpf.perfbuf(obj.maps.samples, {type = "struct event", fields = {"sequence"}, on_sample = print})
    end, "libbpf.perfbuf: fields: struct event has no integer, bool or char[] member 'sequence'")
    assert.has_error(function()
      bpf.perfbuf(obj.maps.samples, {type = "struct event", fields = {"seq"}, view = true,
                                     on_sample = print})
    end, "libbpf.perfbuf: fields= cannot go with view= or raw=")
  end)
end)
