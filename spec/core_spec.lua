-- Core: objects, maps, programs, links on the real kernel.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end) -- keep libbpf's warnings out of the test output

-- Load, and count only the execs this process starts (other work on the
-- machine may run /bin/true too).
local function load(obj)
  assert(obj:load())
  if obj.maps.target_pid then obj.maps.target_pid[0] = H.pid() end
  return obj
end

local function exec_count(map)
  return map:lookup(0) or 0
end

describe("an object", function()
  it("opens, lists maps and programs, prints what it is", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    assert.equal("counter", obj.name)
    assert.equal("libbpf", obj.format)
    assert.truthy(obj.maps.exec_counts)
    assert.truthy(obj.progs.count_exec)
    local names = {}
    for name in pairs(obj.progs) do names[#names + 1] = name end
    table.sort(names)
    assert.same({"count_exec", "xdp_pass"}, names)
    assert.matches("^libbpf.object%(counter, libbpf, not loaded, 4 maps, 2 programs%)$", tostring(obj))
    local m = obj.maps.exec_counts
    assert.equal("hash", m.type)
    assert.equal(4, m.key_size)
    assert.equal(8, m.value_size)
    assert.equal(1024, m.max_entries)
    assert.equal(-1, m.fd)
    local p = obj.progs.count_exec
    assert.equal("tracepoint", p.type)
    assert.equal("tracepoint/sched/sched_process_exec", p.section)
    assert.is_true(p.autoload)
  end)

  it("counts execs of /bin/true through a tracepoint", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    load(obj)
    assert.is_true(obj.maps.exec_counts.fd >= 0)
    local link = assert(obj.progs.count_exec:attach_tracepoint("sched", "sched_process_exec"))
    assert.matches("tracepoint sched/sched_process_exec", tostring(link))
    H.run("/bin/true", 5)
    assert.equal(5, exec_count(obj.maps.exec_counts))
    assert.equal(5, obj.maps.exec_counts[0])
  end)

  it("shares a map with a second object through reuse_fd", function()
    local a <close> = assert(bpf.open(H.obj("counter")))
    load(a)
    local b <close> = assert(bpf.open(H.obj("counter"), {name = "counter_b"}))
    assert.equal("counter_b", b.name)
    assert(b.maps.exec_counts:reuse_fd(a.maps.exec_counts))
    load(b)
    assert(b.progs.count_exec:attach())
    H.run("/bin/true", 3)
    -- b's program counted into a's map: both handles see the same map
    assert.equal(3, exec_count(a.maps.exec_counts))
    assert.equal(a.maps.exec_counts:info().id, b.maps.exec_counts:info().id)
  end)

  it("attaches every auto-attachable program with obj:attach()", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    load(obj)
    local links = assert(obj:attach())
    assert.truthy(links.count_exec)
    assert.is_nil(links.xdp_pass) -- "xdp" says nothing about where to attach
    H.run("/bin/true", 2)
    assert.equal(2, exec_count(obj.maps.exec_counts))
  end)

  it("runs an XDP program with test_run and gets XDP_PASS", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    load(obj)
    local r = assert(obj.progs.xdp_pass:test_run{data = string.rep("\0", 64), ["repeat"] = 10, data_out = true})
    assert.equal(2, r.retval)
    assert.equal(64, #r.data)
    assert.is_true(r.duration_ns >= 0)
    assert.equal(10, obj.maps.xdp_counts[0])
  end)

  it("opens from a buffer", function()
    local obj <close> = assert(bpf.open_buffer(H.read(H.obj("counter")), {name = "buf"}))
    assert.equal("buf", obj.name)
    load(obj)
    assert.equal(2, obj.progs.xdp_pass:test_run{data = string.rep("\0", 64)}.retval)
  end)
end)

describe("a map", function()
  local obj
  before_each(function()
    obj = assert(bpf.open(H.obj("counter")))
    load(obj)
  end)
  after_each(function() obj:close() end)

  it("updates, looks up, deletes with integer keys and values", function()
    local m = obj.maps.exec_counts
    assert.is_true(m:update(7, 700))
    assert.equal(700, m:lookup(7))
    m[8] = 800
    assert.equal(800, m[8])
    assert.is_nil(m:lookup(9))
    local nilv, msg, errno = m:update(7, 1, "noexist")
    assert.is_nil(nilv)
    assert.matches("update of map 'exec_counts' failed: File exists", msg)
    assert.equal(17, errno)
    assert.is_true(m:delete(7))
    assert.is_false(m:delete(7))
    m[8] = nil
    assert.is_nil(m[8])
  end)

  it("iterates with pairs and keys, and lookup_and_delete", function()
    local m = obj.maps.exec_counts
    for i = 1, 50 do m[i] = i * 10 end
    local seen = {}
    for k, v in pairs(m) do seen[k] = v end
    for i = 1, 50 do assert.equal(i * 10, seen[i]) end
    local keys = m:keys()
    assert.equal(50, #keys)
    assert.equal(30, m:lookup_and_delete(3))
    assert.is_nil(m[3])
  end)

  it("takes raw bytes of the exact size and returns raw bytes on request", function()
    local m = obj.maps.raw_kv
    local k, v = string.rep("k", 16), string.rep("v", 16)
    assert(m:update(k, v))
    assert.equal(v, m:lookup(k))
    assert.equal(string.pack("<I8", 5), (function()
      obj.maps.exec_counts[1] = 5
      return obj.maps.exec_counts:lookup(1, {raw = true})
    end)())
  end)

  it("refuses a wrong-size key with a message naming the size", function()
    assert.has_error(function() obj.maps.raw_kv:lookup("short") end,
      "libbpf.map: key is a string of 5 bytes, expected 16")
    assert.has_error(function() obj.maps.exec_counts:lookup({}) end)
    assert.has_error(function() obj.maps.exec_counts:lookup(1, {bogus = true}) end,
      "lookup: unknown option 'bogus'")
  end)

  it("pins and unpins", function()
    local path = "/sys/fs/bpf/lua_libbpf_spec_pin_" .. H.pid()
    finally(function() os.remove(path) end)
    assert(obj.maps.exec_counts:pin(path))
    assert.truthy(io.open(path))
    assert(obj.maps.exec_counts:unpin(path))
    assert.is_nil(io.open(path))
  end)

  it("reports info from the kernel", function()
    local info = assert(obj.maps.exec_counts:info())
    assert.equal("hash", info.type)
    assert.equal("exec_counts", info.name)
    assert.is_true(info.id > 0)
  end)
end)

describe("setters before load", function()
  it("change the map the kernel creates", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    assert(obj.maps.exec_counts:set_max_entries(4096))
    load(obj)
    assert.equal(4096, obj.maps.exec_counts:info().max_entries)
    assert.has_error(function() obj.maps.exec_counts:set_max_entries(1) end,
      "libbpf.map: set_max_entries: map 'exec_counts' is already created (call it before obj:load())")
  end)

  it("turn a program's autoload off", function()
    local obj <close> = assert(bpf.open(H.obj("refused")))
    assert(obj.progs.bad_deref:set_autoload(false))
    load(obj)
    assert.equal(-1, obj.progs.bad_deref.fd)
    assert.is_true(obj.progs.fine.fd >= 0)
  end)

  it("keep the verifier log of a successful load when asked", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    assert(obj:load{log_level = 1})
    assert.matches("processed %d+ insns", obj.progs.xdp_pass:log())
  end)
end)

describe("errors", function()
  it("a missing file returns nil, message, ENOENT", function()
    local o, msg, errno = bpf.open("/nonexistent/x.bpf.o")
    assert.is_nil(o)
    assert.equal("open '/nonexistent/x.bpf.o' failed: No such file or directory", msg)
    assert.equal(2, errno)
  end)

  it("garbage bytes and a truncated ELF are refused with a message", function()
    local o, msg, errno = bpf.open_buffer("not an ELF file at all")
    assert.is_nil(o)
    assert.matches("open '<buffer>' failed", msg)
    assert.equal(22, errno)
    local elf = H.read(H.obj("counter"))
    for _, n in ipairs{4, 64, 200, #elf // 2, #elf - 10} do
      o, msg = bpf.open_buffer(elf:sub(1, n))
      if o then o:close() else assert.matches("failed", msg) end
    end
  end)

  it("an unknown option key raises", function()
    assert.has_error(function() bpf.open(H.obj("counter"), {nmae = "x"}) end, "open: unknown option 'nmae'")
    local obj <close> = assert(bpf.open(H.obj("counter")))
    assert.has_error(function() obj:load{loglevel = 1} end, "load: unknown option 'loglevel'")
  end)

  it("a verifier refusal names the program and quotes the log", function()
    local obj <close> = assert(bpf.open(H.obj("refused")))
    local ok, msg, errno = obj:load()
    assert.is_nil(ok)
    assert.equal(13, errno) -- EACCES, not ENOSPC
    assert.matches("^load 'bad_deref' failed: Permission denied\n", msg)
    assert.matches("invalid mem access", msg)
    local log = obj.progs.bad_deref:log()
    assert.matches("invalid mem access", log)
    assert.is_true(#log >= #msg - 60)
  end)

  it("after a failed load the object says so and asks to be opened again", function()
    local obj <close> = assert(bpf.open(H.obj("refused")))
    assert.is_nil(obj:load())
    assert.is_false(obj.loaded)
    assert.matches("^libbpf.object%(refused, libbpf, load failed, ", tostring(obj))
    assert.error_matches(function() obj:load() end,
      "libbpf.object: load: the last load failed: open the object again %(bpf.open%) to retry")
    assert.error_matches(function() obj:attach() end, "the object's load failed: open it again")
    local again <close> = assert(bpf.open(H.obj("refused")))
    assert(again.progs.bad_deref:set_autoload(false))
    assert(again:load())
  end)

  it("a closed object makes every child raise", function()
    local obj = assert(bpf.open(H.obj("counter")))
    load(obj)
    local m, p = obj.maps.exec_counts, obj.progs.xdp_pass
    obj:close()
    obj:close() -- twice is fine
    assert.has_error(function() return m:lookup(0) end, "libbpf.map: object is closed")
    assert.has_error(function() return m.fd end, "libbpf.map: object is closed")
    assert.has_error(function() p:test_run{} end, "libbpf.program: object is closed")
    assert.has_error(function() obj:load() end, "libbpf.object: object is closed")
    assert.equal("libbpf.map (closed)", tostring(m))
    assert.equal("libbpf.object (closed)", tostring(obj))
  end)

  it("misuse before load raises", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    assert.has_error(function() obj.maps.exec_counts:lookup(0) end,
      "libbpf.map: map 'exec_counts' is not created yet (call obj:load())")
    assert.has_error(function() obj.progs.xdp_pass:test_run{} end,
      "libbpf.program: test_run: program 'xdp_pass' is not loaded (call obj:load())")
    assert.has_error(function() obj:attach() end,
      "libbpf.object: attach: object is not loaded yet (call obj:load())")
  end)
end)

describe("lifetimes", function()
  it("a link stays attached after its variable is collected", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    load(obj)
    obj.progs.count_exec:attach() -- result dropped on purpose
    H.gc()
    H.run("/bin/true", 3)
    assert.equal(3, exec_count(obj.maps.exec_counts))
  end)

  it("link:destroy() detaches", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    load(obj)
    local link = assert(obj.progs.count_exec:attach())
    H.run("/bin/true", 2)
    assert(link:destroy())
    H.run("/bin/true", 2)
    assert.equal(2, exec_count(obj.maps.exec_counts))
    assert.has_error(function() link:pin("/sys/fs/bpf/x") end, "libbpf.link: link is destroyed")
    assert(link:destroy()) -- twice is fine
  end)

  it("closing the object detaches its links", function()
    local a <close> = assert(bpf.open(H.obj("counter")))
    load(a)
    local b = assert(bpf.open(H.obj("counter")))
    assert(b.maps.exec_counts:reuse_fd(a.maps.exec_counts))
    load(b)
    local link = assert(b.progs.count_exec:attach())
    H.run("/bin/true", 2)
    b:close()
    assert.matches("destroyed", tostring(link))
    H.run("/bin/true", 2)
    assert.equal(2, exec_count(a.maps.exec_counts))
  end)

  it("collecting the object detaches its links", function()
    local a <close> = assert(bpf.open(H.obj("counter")))
    load(a)
    do
      local b = assert(bpf.open(H.obj("counter")))
      assert(b.maps.exec_counts:reuse_fd(a.maps.exec_counts))
      load(b)
      assert(b.progs.count_exec:attach())
    end
    H.gc()
    H.run("/bin/true", 2)
    assert.equal(0, exec_count(a.maps.exec_counts))
  end)

  it("a child keeps its object alive", function()
    local m
    do
      local obj = assert(bpf.open(H.obj("counter")))
      load(obj)
      m = obj.maps.exec_counts
    end
    H.gc()
    assert(m:update(1, 11))
    assert.equal(11, m[1])
  end)

  it("never crashes whatever order handles are dropped, closed and collected", function()
    H.gc()
    local before = H.fd_count()
    for round = 1, 30 do
      local obj = assert(bpf.open(H.obj("counter")))
      load(obj)
      local handles = {obj.maps.exec_counts, obj.progs.count_exec, obj.maps.xdp_counts,
                       obj.progs.count_exec:attach(), obj.progs.count_exec:attach()}
      if round % 3 == 0 then handles[4]:destroy() end
      if round % 2 == 0 then obj:close() end
      if round % 5 == 0 then handles = nil end
      obj = nil -- luacheck: ignore 311
      if round % 4 == 0 then H.gc() end
      if handles and round % 7 == 0 then
        for _, h in ipairs(handles) do pcall(tostring, h) end
      end
    end
    H.gc()
    assert.equal(before, H.fd_count())
  end)
end)
describe("a fuzzed object", function()
  it("never crashes open_buffer + load, and leaks no fd", function()
    local elf = H.read(H.obj("counter"))
    math.randomseed(20261126)
    H.gc()
    local before = H.fd_count()
    local opened, loaded = 0, 0
    for _ = 1, 400 do
      local bytes = {elf:byte(1, -1)}
      for _ = 1, math.random(1, 8) do
        local at = math.random(1, #bytes)
        bytes[at] = math.random(0, 255)
      end
      local s = string.char(table.unpack(bytes))
      local obj = bpf.open_buffer(s)
      if obj then
        opened = opened + 1
        if obj:load() then loaded = loaded + 1 end
        obj:close()
      end
    end
    H.gc()
    assert.equal(before, H.fd_count())
    assert.is_true(opened > 0) -- some mutations are harmless
  end)
end)
