-- Queues, stacks and bloom filters of an object decode and encode their
-- values with the value type of their definition (`__type(value, struct
-- job)`): libbpf creates queues and stacks without BTF, as the kernel
-- refuses it for them, so after load the map itself has no value type and
-- the type comes from the `.maps` definition in the object's BTF. Maps with
-- no BTF at all keep raw bytes and integers. (spec/bpf/qstack.bpf.c)
local bpf = require "libbpf"
local pretty = require "libbpf.pretty"
local H = require "helpers"

local JOB = "struct job { __u32 id; enum job_state { JOB_NEW = 1, JOB_RUNNING = 2, " ..
            "JOB_DONE = 3 } state; __u64 cost; char tag[8]; };"

-- the BPF program pushes one job per id to every map (the first JOB_NEW,
-- the others JOB_RUNNING), as a tracepoint would
local function push_jobs(obj, ...)
  local ids = {...}
  local r = assert(obj.progs.push_jobs:test_run{
    ctx = string.pack("I8I8I8I8", ids[1] or 0, ids[2] or 0, ids[3] or 0, ids[4] or 0)})
  assert.equal(#ids, r.retval)
end

-- a job as the BPF program makes it
local function job(id, state)
  return {id = id, state = state, cost = id * 1000, tag = "bpf"}
end

-- the raw bytes of a job
local function job_bytes(id, state, cost, tag)
  return string.pack("I4I4I8c8", id, state, cost, tag .. ("\0"):rep(8 - #tag))
end

describe("a queue or stack of an object", function()
  local obj
  before_each(function()
    obj = assert(bpf.open(H.obj("qstack")))
    assert(obj:load())
  end)
  after_each(function() obj:close() end)

  it("gives the structs a BPF program pushed as decoded tables from pop and peek", function()
    local q, s = obj.maps.jobs_q, obj.maps.jobs_s
    push_jobs(obj, 5, 6, 7)
    local head = q:peek()
    assert.same(job(5, 1), head)
    assert.same({"id", "state", "cost", "tag"}, getmetatable(head).__members)
    assert.equal('{id=5, state=JOB_NEW, cost=5000, tag="bpf"}', tostring(head))
    assert.same({job(5, 1), job(6, 2), job(7, 2)}, {q:pop(), q:pop(), q:pop()})
    assert.is_nil(q:pop())
    local top = s:peek()
    assert.equal('{id=7, state=JOB_RUNNING, cost=7000, tag="bpf"}', tostring(top))
    assert.same({job(7, 2), job(6, 2), job(5, 1)}, {s:pop(), s:pop(), s:pop()})
    assert.is_nil(s:peek())
  end)

  it("names an enum value (m:enum_names) while pop still gives the integer", function()
    push_jobs(obj, 5, 6)
    local st = obj.maps.states
    assert.same({[1] = "JOB_NEW", [2] = "JOB_RUNNING", [3] = "JOB_DONE"}, st:enum_names().value)
    assert.is_nil(obj.maps.jobs_q:enum_names().value)
    assert.equal(1, st:pop())
    assert.equal(2, st:pop())
  end)

  it("takes a table (an enum member by name) from push, and raw bytes still", function()
    local q, s = obj.maps.jobs_q, obj.maps.jobs_s
    assert.is_true(q:push{id = 9, state = "JOB_DONE", cost = 90, tag = "lua"})
    assert.is_true(q:push(job_bytes(10, 2, 100, "raw")))
    assert.is_true(s:push{id = 11, state = 1})
    assert.equal(job_bytes(9, 3, 90, "lua"), q:peek{raw = true})
    assert.same({id = 9, state = 3, cost = 90, tag = "lua"}, q:pop())
    assert.same({id = 10, state = 2, cost = 100, tag = "raw"}, q:pop())
    assert.same({id = 11, state = 1, cost = 0, tag = ""}, s:pop())
    assert.is_true(obj.maps.states:push("JOB_DONE"))
    assert.equal(3, obj.maps.states:pop())
    assert.has_error(function() q:push{id = 1, nope = 2} end)
    assert.has_error(function() q:push(5) end)
  end)

  it("takes a table in a bloom filter that the BPF program then finds", function()
    local seen = obj.maps.seen
    local function may_hold(id, state, cost)
      return obj.progs.check_seen:test_run{ctx = string.pack("I8I8I8", id, state, cost)}.retval
    end
    assert.equal(0, may_hold(9, 2, 77))
    assert.is_true(seen:push{id = 9, state = "JOB_RUNNING", cost = 77, tag = "lua"})
    assert.equal(1, may_hold(9, 2, 77))
    assert.equal(0, may_hold(9, 2, 78))
  end)

  it("shows its head decoded in pretty.map (the REPL's :dump), an enum by name", function()
    push_jobs(obj, 5, 6)
    assert.matches('queue: head = {id=5, state=JOB_NEW, cost=5000, tag="bpf"} %(the rest',
                   pretty.map(obj.maps.jobs_q), 1, false)
    assert.matches('stack: head = {id=6, state=JOB_RUNNING, cost=6000, tag="bpf"} %(the rest',
                   pretty.map(obj.maps.jobs_s), 1, false)
    assert.matches("queue: head = JOB_NEW %(the rest", pretty.map(obj.maps.states))
    -- peeking took nothing
    assert.equal(5, obj.maps.jobs_q:pop().id)
  end)

  it("explains why m:dump() cannot list it", function()
    push_jobs(obj, 5)
    local t, err, errno = obj.maps.jobs_q:dump()
    assert.is_nil(t)
    assert.matches("dump of map 'jobs_q' failed %(a queue or stack cannot be listed " ..
                   "without taking its values: m:peek%(%), m:pop%(%)%)", err)
    assert.equal(22, errno)
    t, err = obj.maps.seen:dump()
    assert.is_nil(t)
    assert.matches("a bloom filter cannot be listed", err, 1, true)
    assert.equal(5, obj.maps.jobs_q:pop().id)
  end)
end)

describe("the REPL's :dump of a queue", function()
  it("prints its head decoded", function()
    local file = os.tmpname()
    finally(function() os.remove(file) end)
    local f = assert(io.open(file, "w"))
    f:write("obj:load()\n",
            "obj.progs.push_jobs:test_run{ctx = string.pack('I8I8I8I8', 5, 6, 0, 0)}\n",
            ":dump jobs_s\n", ":dump states\n")
    f:close()
    local p = io.popen(("lua5.4 lua/lbpf %s < %s 2>&1"):format(H.obj("qstack"), file))
    local out = p:read("a")
    p:close()
    assert.matches('libbpf.map%(jobs_s, stack, key=0 value=24, max=8, fd=%d+%) stack: head = ' ..
                   '{id=6, state=JOB_RUNNING, cost=6000, tag="bpf"}', out)
    assert.matches("libbpf.map%(states, queue, key=0 value=4, max=8, fd=%d+%) queue: head = JOB_NEW", out)
  end)
end)

describe("a queue without BTF", function()
  it("created by bpf.map_create gives and takes raw bytes, or integers of 4 bytes", function()
    local q <close> = assert(bpf.map_create{type = "queue", key_size = 0, value_size = 24,
                                            max_entries = 4, name = "rawq"})
    local bytes = job_bytes(1, 2, 3, "x")
    assert.is_true(q:push(bytes))
    assert.equal(bytes, q:peek())
    assert.has_error(function() q:push{id = 1} end,
                     "libbpf.map: value must be a string of 24 bytes, got table")
    assert.is_nil(q:enum_names().value)
    -- a type named for it decodes
    q:set_type{value = "struct job", btf = bpf.cdef(JOB)}
    assert.same({id = 1, state = 2, cost = 3, tag = "x"}, q:pop())
    local s <close> = assert(bpf.map_create{type = "stack", key_size = 0, value_size = 4,
                                            max_entries = 4})
    assert.is_true(s:push(7))
    assert.equal(7, s:pop())
  end)

  it("of a legacy iproute2 object (no BTF) gives raw bytes, or an integer of 4 bytes", function()
    local obj <close> = assert(bpf.open("spec/bpf/legacy/iproute2_queue.o"))
    assert(obj:load())
    assert.equal(2, obj.progs.xdp_push:test_run{data = ("\0"):rep(64)}.retval) -- XDP_PASS
    local q, s = obj.maps.samples, obj.maps.lengths
    assert.equal(string.pack("I4I4I8", 64, 0x51, 128), q:peek())
    assert.equal(64, s:pop())
    assert.has_error(function() q:push{len = 1} end,
                     "libbpf.map: value must be a string of 16 bytes, got table")
    assert.is_true(s:push(9))
    assert.equal(9, s:peek())
    -- a type named for it decodes
    assert.same({len = 64, magic = 0x51, twice = 128},
                q:pop{type = "struct sample",
                      btf = bpf.cdef"struct sample { __u32 len, magic; __u64 twice; };"})
  end)

  it("opened by fd (the kernel holds no BTF for it) gives raw bytes", function()
    local obj <close> = assert(bpf.open(H.obj("qstack")))
    assert(obj:load())
    push_jobs(obj, 5)
    local copy <close> = assert(bpf.map_from_fd(obj.maps.jobs_q.fd))
    assert.equal(job_bytes(5, 1, 5000, "bpf"), copy:peek())
    assert.same({id = 5, state = 1, cost = 5000, tag = "bpf"},
                copy:pop{type = "struct job", btf = obj:btf()})
  end)
end)
