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
    local want = '{comm="a", pid=7, delta=-5, big=-1, flag=true, color=COLOR_GREEN, lo=5, mid=100, ' ..
                 'sbits=-3, ' ..
                 '["in"]={a=65535, b=-2}, hist={1, 0, 0, 4}, u={as_u32=67305985, bytes={1, 2, 3, 4}}, ' ..
                 'x=10, y=7}'
    assert.equal(want, tostring(m:lookup(1)))
    assert.equal(want, tostring(m[1]))
    -- a record written back is encoded as any table
    m[2] = m[1]
    assert.equal(want, tostring(m[2]))
    -- the decoded value stays an integer; only its display is a name
    assert.equal(2, m[1].color)
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

  it("shows a member of an enum type by its enumerator's name, an unknown value as its number", function()
    local enums <close> = assert(bpf.open(H.obj("enums")))
    assert(enums:load())
    local seen = {}
    local rb <close> = assert(bpf.ringbuf(enums.maps.events, function(ev) seen[#seen + 1] = ev end,
                                          {type = "struct exec_event"}))
    -- kinds 1 (EV_EXEC), 9 (no enumerator), 3 (EV_FORK, whose alias EV_CLONE comes after it)
    assert(enums.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 1, 9, 3, 0)})
    assert.equal(3, rb:poll(100))
    local EV = '{pid=4242, kind=%s, prio=PRIO_HIGH, ["in"]={sign=SIGN_NEG, n=%d}, hist={EV_EXEC, %s}, ' ..
               'bits=EV_EXIT, mode=5, comm="sh"}'
    assert.equal(EV:format("EV_EXEC", 0, "EV_EXEC"), tostring(seen[1]))
    assert.equal(EV:format("9", 1, "9"), tostring(seen[2]))
    assert.equal(EV:format("EV_FORK", 2, "EV_FORK"), tostring(seen[3]))
    -- decoded values stay integers: scripts compare them with numbers
    assert.equal(1, seen[1].kind)
    assert.equal(200, seen[1].prio)
    assert.equal(3, seen[3].hist[2])
    -- a map value of a struct with an enum member, an enum written by name
    enums.maps.procs[1] = {pid = 1, kind = "EV_EXIT"}
    assert.equal("{pid=1, kind=EV_EXIT}", tostring(enums.maps.procs[1]))
    assert.equal(2, enums.maps.procs[1].kind)
    -- and a global before load prints the same way
    local unloaded <close> = assert(bpf.open(H.obj("enums")))
    assert.equal('{pid=0, kind=0, prio=PRIO_LOW, ["in"]={sign=SIGN_ZERO, n=0}, hist={0, 0}, bits=0, ' ..
                 'mode=0, comm=""}', tostring(unloaded.vars._exec_event_type))
  end)

  it("names signed, 64-bit and 1-byte enums as decoding reads them", function()
    local btf = bpf.cdef[[
      enum s { S_NEG = -2, S_POS = 5 };
      enum big { B_SMALL = 1, B_HUGE = 0x100000000 };
      enum __attribute__((packed)) tiny { T_A = 250 };
      struct r { enum s s; enum big b; enum tiny t; };
    ]]
    local m <close> = bpf.map_create{type = "array", key_size = 4, value_size = 24, max_entries = 2}
    m:set_type{key = "__u32", value = "struct r", btf = btf}
    m[0] = {s = "S_NEG", b = "B_HUGE", t = "T_A"}
    m[1] = {s = -3, b = 2, t = 251}
    assert.equal("{s=S_NEG, b=B_HUGE, t=T_A}", tostring(m[0]))
    assert.equal("{s=-3, b=2, t=251}", tostring(m[1]))
    assert.same({-2, 0x100000000, 250}, {m[0].s, m[0].b, m[0].t})
    local v <close> = bpf.map_create{type = "array", key_size = 4, value_size = 4, max_entries = 1}
    v:set_type{key = "__u32", value = "enum s", btf = btf}
    assert.same({[-2] = "S_NEG", [5] = "S_POS"}, v:enum_names().value)
  end)

  it("names the enum key and value of a map with m:enum_names()", function()
    local enums <close> = assert(bpf.open(H.obj("enums")))
    local before = enums.maps.kinds:enum_names()
    assert.equal("EV_EXIT", before.value[2])
    assert.is_nil(before.key)
    assert(enums:load())
    local kinds, by_kind = enums.maps.kinds:enum_names(), enums.maps.by_kind:enum_names()
    assert.same({"EV_EXEC", "EV_EXIT", "EV_FORK"}, kinds.value)
    assert.is_nil(kinds.key)
    assert.same({"EV_EXEC", "EV_EXIT", "EV_FORK"}, by_kind.key)
    assert.is_nil(by_kind.value)
    assert.same({}, enums.maps.procs:enum_names())
    assert.same({"EV_EXEC", "EV_EXIT", "EV_FORK"}, enums.maps.last_kind:enum_names().value)
    -- a map without BTF
    local m <close> = bpf.map_create{type = "array", key_size = 4, value_size = 4, max_entries = 1}
    assert.same({}, m:enum_names())
  end)
end)
