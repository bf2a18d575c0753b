-- The lbpf REPL driven through a pipe, as a user would type into it.
local H = require "helpers"
local repl = require "libbpf.repl"

-- Run lbpf with `input` on stdin; returns stdout+stderr and the exit status.
local function lbpf(input, args)
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write(input)
  f:close()
  local p = io.popen(("lua5.4 lua/lbpf %s < %s 2>&1; echo \"rc=$?\"")
    :format(args or H.obj("counter"), file))
  local out = p:read("a")
  p:close()
  os.remove(file)
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return out:gsub("rc=%d+\n$", ""), rc
end

describe("lbpf", function()
  it("loads an object, prints a map's contents and survives an error", function()
    local out, rc = lbpf(table.concat({
      "obj",
      "obj:load()",
      "obj.maps.target_pid[0] = bpf.getpid()", -- only this REPL's execs count
      "error('marked-error-17')",
      "obj.progs.count_exec:attach()",
      "for _ = 1, 3 do os.execute('/bin/true') end",
      ":dump exec_counts",
      "print('still-alive')",
      "",
    }, "\n"))
    assert.equal(0, rc)
    assert.matches("libbpf.object%(counter, libbpf, not loaded, %d+ maps, 2 programs%)", out)
    assert.matches("libbpf.object%(counter, libbpf, loaded, %d+ maps, 2 programs%)", out)
    assert.matches("stdin:1: marked%-error%-17", out)
    assert.matches("libbpf.link%(tracepoint/sched/sched_process_exec, fd=%d+%)", out)
    assert.matches("libbpf.map%(exec_counts, hash, key=4 value=8, max=1024, fd=%d+%) {\n  %[0%] = 3,\n}", out)
    assert.matches("still%-alive", out)
  end)

  it("loads with :load, lists maps, pretty-prints tables, continues statements", function()
    local out, rc = lbpf(table.concat({
      ":load",
      ":maps",
      "t = {pid = 1, comm = 'init', args = {'a', 'b'}}",
      "t",
      "for i = 1, 2 do",
      "  print('line', i)",
      "end",
      "obj.maps.nosuch:lookup(1)",
      "obj.maps.exec_counts:update(7, 70)",
      "obj.maps.exec_counts[7]",
      ":quit",
      "print('not-reached')",
      "",
    }, "\n"))
    assert.equal(0, rc)
    assert.matches("libbpf.object%(counter, libbpf, loaded", out)
    -- :maps lists them sorted by name, one a line
    assert.matches("\nlibbpf.map%(exec_counts, hash, key=4 value=8, max=1024, fd=%d+%)\n" ..
                   "libbpf.map%(raw_kv, hash, key=16 value=16, max=16, fd=%d+%)\n", out)
    assert.matches("\nlibbpf.map%(xdp_counts, array, key=4 value=8, max=4, fd=%d+%)\n", out)
    assert.matches('{\n  args = {\n    "a",\n    "b",\n  },\n  comm = "init",\n  pid = 1,\n}', out)
    assert.matches("line\t1\nline\t2\n", out)
    assert.matches("attempt to index a nil value %(field 'nosuch'%)", out)
    assert.matches("\ntrue\n70\n", out)
    assert.not_matches("not%-reached", out)
  end)

  it(":dump shows enum keys, values and struct members by name, values without one as numbers", function()
    local out, rc = lbpf(table.concat({
      "obj:load()",
      "obj.maps.kinds[7] = 2",
      "obj.maps.kinds[8] = 9",
      "obj.maps.by_kind:update('EV_FORK', 30)",
      "obj.maps.by_kind[5] = 50",
      "obj.maps.procs[1] = {pid = 1, kind = 1}",
      "obj.maps.procs[2] = {pid = 22, kind = 7}",
      ":dump kinds",
      ":dump obj.maps.by_kind",
      ":dump procs",
      "obj.maps.kinds[7]",
      "",
    }, "\n"), H.obj("enums"))
    assert.equal(0, rc)
    assert.matches("libbpf.map%(kinds, hash, key=4 value=4, max=16, fd=%d+%) {\n" ..
                   "  %[7%] = EV_EXIT,\n  %[8%] = 9,\n}\n", out)
    assert.matches("libbpf.map%(by_kind, hash, key=4 value=8, max=16, fd=%d+%) {\n" ..
                   "  %[EV_FORK%] = 30,\n  %[5%] = 50,\n}\n", out)
    assert.matches("libbpf.map%(procs, hash, key=4 value=8, max=16, fd=%d+%)\n" ..
                   "KEY  pid  kind\n1    1    EV_EXEC\n2    22   7\n", out)
    -- a value read back is still the integer
    assert.matches("\n2    22   7\n2\n", out)
  end)

  it("reports a system failure as values and a misuse as an error, and goes on", function()
    local out, rc = lbpf("obj:load()\nobj:load()\nbpf.open('/nonexistent.bpf.o')\nprint('alive')\n")
    assert.equal(0, rc)
    assert.matches("object is already loaded", out)
    assert.matches("nil\t\"open '/nonexistent.bpf.o' failed: No such file or directory\"\t2", out)
    assert.matches("alive", out)
  end)

  it("exits with status 1 when the object cannot be opened", function()
    local out, rc = lbpf("", "/nonexistent.bpf.o")
    assert.equal(1, rc)
    assert.matches("lbpf: open '/nonexistent.bpf.o' failed", out)
  end)

  it("keeps running when Ctrl-C interrupts a running expression or a read", function()
    -- each SIGINT goes once lbpf is where the spec means to interrupt it:
    -- in the busy loop (it said so), then blocked reading its next line
    local child = H.spawn("lua5.4 lua/lbpf " .. H.obj("counter"))
    finally(child.cleanup)
    child:send('x = 0\nio.stderr:write("looping\\n") while true do x = x + 1 end\n')
    child:wait_output("looping\n")
    child:signal("INT")
    child:wait_output("interrupted\n")
    child:wait_blocked("pipe_read")
    child:signal("INT")
    child:wait_output("^C\n")
    child:send('print("alive", x > 0)\n')
    assert.equal(0, child:finish(10))
    assert.matches("alive\ttrue", child:output())
  end)
end)

describe("lbpf and ring buffers", function()
  it("keeps running when Ctrl-C interrupts a ring buffer poll loop", function()
    local child = H.spawn("lua5.4 lua/lbpf " .. H.obj("events"))
    finally(child.cleanup)
    child:send('obj:load()\nrb = bpf.ringbuf(obj.maps.events, function() end)\nrb\n')
    child:send('io.stderr:write("polling\\n") while true do assert(rb:poll(1000)) end\n')
    child:wait_output("polling\n")
    child:wait_blocked("epoll_wait")
    child:signal("INT")
    child:wait_output("interrupted\n")
    child:send('print("alive", rb:poll(10))\n')
    assert.equal(0, child:finish(10))
    local out = child:output()
    assert.matches("libbpf.ringbuf%(events", out)
    assert.matches("alive\t0", out)
  end)
end)
describe("lbpf completion", function()
  local bpf = require "libbpf"
  local obj

  before_each(function() obj = assert(bpf.open(H.obj("counter"))) end)
  after_each(function() obj:close() end)

  it("completes map names, fields and methods of handles, globals and commands", function()
    local state = repl.new({obj = obj})
    local env = state.env
    assert.same({"obj.maps.exec_counts"}, repl.complete(env, "obj.maps.ex"))
    assert.same({"obj:load"}, repl.complete(env, "obj:lo"))
    local m = repl.complete(env, "obj.maps.exec_counts:")
    for _, n in ipairs(repl.complete(env, "obj.maps.exec_counts.")) do m[#m + 1] = n end
    for _, want in ipairs({"obj.maps.exec_counts:lookup", "obj.maps.exec_counts:update",
                           "obj.maps.exec_counts.max_entries"}) do
      assert.is_truthy(table.concat(m, " "):find(want, 1, true), want)
    end
    assert.same({"obj.progs.count_exec"}, repl.complete(env, "obj.progs.co"))
    assert.same({"bpf"}, repl.complete(env, "bp"))
    assert.same({":load"}, repl.complete(env, ":lo"))
    assert.same({}, repl.complete(env, "nosuch.x"))
  end)
end)
