-- print(ev) of a decoded struct prints what it holds (issue 19): ring and
-- perf buffer records, map values, obj.vars structs print as
-- `{seq=10, pid=4242, ...}`, members in declaration order, through one
-- metatable per struct type set when the record is decoded.
local bpf = require "libbpf"
local H = require "helpers"

local EVENT = '{seq=%d, pid=4242, kind=%d, comm="lua-libbpf"}'

local function emit(obj, count, start)
  assert(obj.progs.emit:test_run{ctx = string.pack("I4I4I4I4", count, start, 0, 0)})
end

describe("a decoded struct", function()
  local obj
  before_each(function()
    obj = assert(bpf.open(H.obj("events")))
    assert(obj:load())
  end)
  after_each(function() obj:close() end)

  it("from a ring buffer prints its members in declaration order", function()
    local seen = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(ev)
      seen[#seen + 1] = ev
    end, {type = "struct event"}))
    emit(obj, 2, 10)
    assert.equal(2, rb:poll(100))
    assert.equal(EVENT:format(10, 0), tostring(seen[1]))
    assert.equal(EVENT:format(11, 1), tostring(seen[2]))
    -- one metatable per type, shared by every record
    assert.equal(getmetatable(seen[1]), getmetatable(seen[2]))
    assert.same({"seq", "pid", "kind", "comm"}, getmetatable(seen[1]).__members)
    -- still a plain table: fields read, written, listed as before
    seen[1].note = "x"
    local keys = {}
    for k in pairs(seen[2]) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.same({"comm", "kind", "pid", "seq"}, keys)
    assert.equal(EVENT:format(10, 0):gsub("}$", ', note="x"}'), tostring(seen[1]))
  end)

  it("from a perf buffer and from a batch prints the same way", function()
    local seen = {}
    local pb <close> = assert(bpf.perfbuf(obj.maps.samples, {type = "struct event",
      on_sample = function(_, ev) seen[#seen + 1] = tostring(ev) end}))
    assert(obj.progs.perf_emit:test_run{ctx = string.pack("I8I8I8", 1, 20, 0),
                                        flags = 1, cpu = 0})   -- BPF_F_TEST_RUN_ON_CPU
    H.wait_until(function() pb:poll(10) return #seen == 1 end, 5, "the perf sample")
    assert.equal(EVENT:format(20, 0), seen[1])
    local batch = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function(b)
      for i = 1, #b do batch[i] = tostring(b[i]) end
    end, {type = "struct event", batch = true}))
    emit(obj, 2, 30)
    rb:poll(100)
    assert.same({EVENT:format(30, 0), EVENT:format(31, 1)}, batch)
  end)

  it("from a map or a global shows nested structs, unions and arrays inline", function()
    local typed <close> = assert(bpf.open(H.obj("typed")))
    assert(typed:load())
    local m = typed.maps.events
    m[1] = {comm = "a", pid = 7, delta = -5, big = -1, flag = true, color = 2, lo = 5, mid = 100,
            sbits = -3, ["in"] = {a = 65535, b = -2}, hist = {1, 0, 0, 4}, u = {as_u32 = 0x04030201},
            x = 10, y = 7}
    local want = '{comm="a", pid=7, delta=-5, big=-1, flag=true, color=2, lo=5, mid=100, sbits=-3, ' ..
                 '["in"]={a=65535, b=-2}, hist={1, 0, 0, 4}, u={as_u32=67305985, bytes={1, 2, 3, 4}}, ' ..
                 'x=10, y=7}'
    assert.equal(want, tostring(m:lookup(1)))
    assert.equal(want, tostring(m[1]))
    -- a record written back is encoded as any table
    m[2] = m[1]
    assert.equal(want, tostring(m[2]))
    local iter <close> = assert(bpf.open(H.obj("iter_task")))
    assert.equal('{pid=0, ppid=0, threads=0, comm="", kthread=0, pad=0}', tostring(iter.vars.last_rec))
  end)

  it("escapes bytes that are not printable and cuts long arrays with ...", function()
    local btf = bpf.cdef[[
      struct in { int a[3]; char c[6]; };
      struct s { struct in x; long big[40]; unsigned short w; };
    ]]
    local m = bpf.map_create{type = "array", key_size = 4, value_size = 352, max_entries = 1}
    m:set_type{key = "__u32", value = "struct s", btf = btf}
    m[0] = {x = {a = {1, 2, 3}, c = 'q"\1\255\n'}, big = {[40] = 9}, w = 3}
    assert.equal('{x={a={1, 2, 3}, c="q\\"\\x01\\xff\\n"}, big={0, 0, 0, 0, 0, 0, 0, 0, ' ..
                 '0, 0, 0, 0, 0, 0, 0, 0, ...}, w=3}', tostring(m[0]))
  end)

  it("keeps printing after its object closed, and a new object's records get their own metatable", function()
    local rb = assert(bpf.ringbuf(obj.maps.events, function() end, {type = "struct event"}))
    local keep
    rb:close()
    rb = assert(bpf.ringbuf(obj.maps.events, function(ev) keep = ev end, {type = "struct event"}))
    emit(obj, 1, 40)
    rb:poll(100)
    rb:close()
    obj:close()
    collectgarbage()
    assert.equal(EVENT:format(40, 0), tostring(keep))
    -- a different struct from a new object (its codecs may reuse addresses)
    local typed <close> = assert(bpf.open(H.obj("typed")))
    assert(typed:load())
    typed.maps.events[3] = {pid = 9}
    assert.matches("^{comm=\"\", pid=9, ", tostring(typed.maps.events[3]))
    assert.equal(EVENT:format(40, 0), tostring(keep))
    obj = assert(bpf.open(H.obj("events")))   -- for after_each
  end)
end)
