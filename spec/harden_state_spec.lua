-- Issue 13, items 11, 12 (parts), 13 and 14 (parts): libbpf's print
-- callback, process-global state, signals and objects closed in the middle
-- of a call. Real objects, real hooks; children started with a readiness
-- handshake, every wait bounded.
local bpf = require "libbpf"
local H = require "helpers"

local LUA = "lua5.4"

-- A Lua script in a temporary file (children run it with lua5.4).
local function script(src) return H.tmpfile(src) end

local function counter()
  local obj = assert(bpf.open(H.obj("counter")))
  assert(obj:load())
  return obj
end

local function attach_obj()
  local obj = assert(bpf.open(H.obj("attach")))
  assert(obj:load())
  return obj
end

-- an options table whose __index closes `obj` (once), for item 14
local function closing(obj, t)
  return setmetatable(t or {}, {__index = function() obj:close() end})
end

-- an array whose __len closes `obj` while the codec encodes it
local function closing_array(obj)
  return setmetatable({}, {__len = function() obj:close() return 2 end,
                           __index = function() return 7 end})
end

describe("libbpf's print callback (item 11)", function()
  after_each(function() bpf.set_print(function() end) end)

  it("brings messages of an attach to the Lua printer, on the calling coroutine", function()
    local obj <close> = counter()
    local got = {}
    bpf.set_print(function(level, msg)
      got[#got + 1] = {level = level, msg = msg, co = coroutine.running()}
    end)
    local co = coroutine.create(function()
      return obj.progs.count_exec:attach_tracepoint("nosuch_cat", "nosuch_tp")
    end)
    local ok, link, err = coroutine.resume(co)
    assert.is_true(ok, link)
    assert.is_nil(link)
    assert.matches("nosuch_cat/nosuch_tp", err)
    assert.is_true(#got >= 1, "no message reached the printer")
    for _, g in ipairs(got) do
      assert.equal("warn", g.level)
      assert.equal(co, g.co, "printer ran on another thread: " .. g.msg)
    end
    assert.matches("nosuch_tp", got[#got].msg)
  end)

  it("brings messages of a failed load to the printer", function()
    local obj <close> = assert(bpf.open(H.obj("refused")))
    local got = {}
    bpf.set_print(function(_, msg) got[#got + 1] = msg end)
    assert.is_nil((obj:load()))
    assert.matches("failed to load", table.concat(got))
  end)

  it("brings messages of BTF loading to the printer", function()
    local got = {}
    bpf.set_print(function(_, msg) got[#got + 1] = msg end, "debug")
    assert.is_nil((bpf.btf_parse("/etc/hostname")))
    assert.matches("failed to get EHDR from /etc/hostname", table.concat(got))
  end)

  it("raises the printer's error after libbpf returned", function()
    local obj <close> = counter()
    bpf.set_print(function() error("printer says no") end)
    local ok, err = pcall(obj.progs.count_exec.attach_tracepoint, obj.progs.count_exec,
                          "nosuch_cat", "nosuch_tp")
    assert.is_false(ok)
    assert.matches("libbpf printer: .*printer says no", err)
    bpf.set_print(function() end)
    -- the call completed (nothing half-done): the object works on
    local link = assert(obj.progs.count_exec:attach())
    assert(link:destroy())
  end)

  it("is silenced by bpf.set_print(nil)", function()
    local path = script([[
      local bpf = require "libbpf"
      bpf.set_print(nil)
      local obj = assert(bpf.open("]] .. H.obj("counter") .. [["))
      assert(obj:load())
      assert(not obj.progs.count_exec:attach_tracepoint("nosuch_cat", "nosuch_tp"))
      obj:close()
      print("done")
    ]])
    finally(function() os.remove(path) end)
    local p = io.popen(LUA .. " " .. path .. " 2>&1")
    local out = p:read("a")
    p:close()
    assert.equal("done\n", out)
  end)

  it("cannot let the printer close the object in the middle of a load", function()
    local obj = assert(bpf.open(H.obj("counter")))
    bpf.set_print(function() obj:close() end, "debug")
    local ok, err = pcall(obj.load, obj)
    bpf.set_print(function() end)
    assert.is_false(ok)
    assert.matches("object is in use", err)
    assert.is_true(obj.loaded)
    assert(obj.progs.count_exec:attach()):destroy()
    obj:close()
  end)
end)

describe("the REPL's SIGINT helper (item 11)", function()
  it("hooks the main thread, not the coroutine that installed it", function()
    local path = script([[
      local path = package.searchpath("libbpf.core", package.cpath)
      local sig = assert(package.loadlib(path, "luaopen_libbpf_sigint"))()
      local co = coroutine.create(function() assert(sig.install()) end)
      assert(coroutine.resume(co))
      co = nil
      collectgarbage() collectgarbage()
      sig.arm(true)
      local pid = io.open("/proc/self/stat"):read("n")
      local ok, err = pcall(function()
        -- in the background: system() ignores SIGINT while it waits
        os.execute("(sleep 0.2; kill -INT " .. pid .. ") >/dev/null 2>&1 &")
        local t = os.clock()
        while os.clock() - t < 3 do end
      end)
      print(ok and "not interrupted" or err)
    ]])
    finally(function() os.remove(path) end)
    local p = io.popen(LUA .. " " .. path .. " 2>&1")
    local out = p:read("a")
    p:close()
    assert.matches("interrupted!", out)
  end)
end)

describe("bpf.open(path) (item 12)", function()
  it("opens the bytes it read and checked, never the path again", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir .. " && mkfifo " .. dir .. "/counter.bpf.o"))
    local fifo = dir .. "/counter.bpf.o"
    -- the FIFO gives counter.bpf.o to the first reader, events.bpf.o to a second
    assert(os.execute(("(cat %s > %s; cat %s > %s) >/dev/null 2>&1 &")
      :format(H.obj("counter"), fifo, H.obj("events"), fifo)))
    finally(function()
      os.execute(("timeout 2 cat %s > /dev/null 2>&1; rm -rf %s"):format(fifo, dir))
    end)
    local obj <close> = assert(bpf.open(fifo))
    assert.equal("counter", obj.name)
    assert.is_not_nil(obj.progs.count_exec)
  end)

  it("keeps the options of an open by path", function()
    local obj <close> = assert(bpf.open(H.obj("counter"), {name = "renamed"}))
    assert.equal("renamed", obj.name)
    local o2 <close> = assert(bpf.open(H.obj("counter"), {kconfig = "CONFIG_X=y"}))
    assert.equal("counter", o2.name)
  end)
end)

describe("an object closed while a call uses it (item 14)", function()
  local msg = "libbpf.object: object is in use"

  it("obj:load(opts) whose __index closes the object raises", function()
    local obj = assert(bpf.open(H.obj("counter")))
    local ok, err = pcall(obj.load, obj, closing(obj))
    assert.is_false(ok)
    assert.matches(msg, err, 1, true)
    assert(obj:load())
    obj:close()
  end)

  it("is free again once a coroutine that raised in the middle of a call is collected", function()
    local obj = assert(bpf.open(H.obj("counter")))
    local co = coroutine.create(function()
      obj:load(setmetatable({}, {__index = function() error("no options today") end}))
    end)
    local ok, err = coroutine.resume(co)
    assert.is_false(ok)
    assert.matches("no options today", err)
    -- the dead coroutine still holds the call: the object is in use
    assert.error_matches(function() obj:close() end, "object is in use")
    co = nil  -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    obj:close()
    assert.equal("libbpf.object (closed)", tostring(obj))
  end)

  it("m:update with a value whose __index closes the object raises", function()
    local obj <close> = assert(bpf.open(H.obj("harden_state")))
    assert(obj:load())
    local m = obj.maps.recs   -- hash: u32 -> struct rec {n, vals[4]}
    local ok, err = pcall(m.update, m, 1, {n = 1, vals = closing_array(obj)})
    assert.is_false(ok)
    assert.matches(msg, err, 1, true)
    assert.is_nil(m:lookup(1))
    ok, err = pcall(m.lookup, m, 1, closing(obj, {}))
    assert.is_false(ok)
    assert.matches(msg, err, 1, true)
    assert(m:update(1, {n = 1, vals = {1, 2}}))
    assert.same({1, 2, 0, 0}, m:lookup(1).vals)
  end)

  it("obj.vars.x = value whose __index closes the object raises", function()
    local obj <close> = assert(bpf.open(H.obj("harden_state")))
    local name = "last_rec"   -- a struct rec global
    local value = obj.vars[name]
    assert.equal("table", type(value))
    local ok, err = pcall(function() obj.vars[name] = {vals = closing_array(obj)} end)
    assert.is_false(ok)
    assert.matches(msg, err, 1, true)
    assert.same(value, obj.vars[name])
  end)

  it("prog:test_run(opts) whose __index closes the object raises", function()
    local obj <close> = attach_obj()
    local p = obj.progs.xdp_udp
    local ok, err = pcall(p.test_run, p, closing(obj, {data = ("\0"):rep(64)}))
    assert.is_false(ok)
    assert.matches(msg, err, 1, true)
    assert(p:test_run{data = ("\0"):rep(64)})
  end)

  it("prog:attach_tc(opts) whose __index closes the object raises, attaching nothing", function()
    local obj = attach_obj()
    finally(function() obj:close() os.execute("tc qdisc del dev lo clsact 2>/dev/null") end)
    local ok, err = pcall(obj.progs.tc_udp.attach_tc, obj.progs.tc_udp,
                          closing(obj, {ifname = "lo"}))
    assert.is_false(ok)
    assert.matches(msg, err, 1, true)
    assert.equal("", H.tc_filters("lo", "ingress"))
  end)
end)

describe("a stop signal (item 13)", function()
  local function assert_clean_lo()
    assert.equal("", H.tc_filters("lo", "ingress"))
    assert.is_nil(H.qdiscs("lo"):match("clsact"), H.qdiscs("lo"))
  end

  for _, how in ipairs{"sleep", "poll"} do
    it("ends a tool in tool." .. how .. " within 1 s, its tc filter and qdisc gone", function()
      local h = H.spawn(LUA .. " spec/tools/tc_tool.lua " .. how)
      finally(function()
        h.cleanup()
        os.execute("tc qdisc del dev lo clsact 2>/dev/null")
      end)
      h:wait_output("ready")
      assert.matches("tc_udp", H.tc_filters("lo", "ingress"))
      local t = H.now()
      h:signal("TERM")
      local rc = h:finish(5)
      assert.is_true(H.now() - t < 1, ("took %.2f s"):format(H.now() - t))
      assert.equal(0, rc, h.output())
      assert.matches("stopped by SIGTERM", h.output())
      assert_clean_lo()
    end)
  end

  it("ends examples/execsnoop.lua within 1 s with status 0, its links gone", function()
    local h = H.spawn(LUA .. " examples/execsnoop.lua")
    finally(h.cleanup)
    h:wait_output("PCOMM")
    local t = H.now()
    h:signal("TERM")
    local rc = h:finish(5)
    assert.is_true(H.now() - t < 1, ("took %.2f s"):format(H.now() - t))
    assert.equal(0, rc, h.output())
  end)

  it("ends the REPL cleanly: its object closes, the tc filter goes", function()
    local h = H.spawn(LUA .. " lua/lbpf -p " .. H.obj("attach"))
    finally(function()
      h.cleanup()
      os.execute("tc qdisc del dev lo clsact 2>/dev/null")
    end)
    h:send('bpf.set_print(function() end)\n')
    h:send('obj:load(); l = obj.progs.tc_udp:attach_tc{ifname = "lo"}; print("re" .. "ady")\n')
    h:wait_output("ready")
    assert.matches("tc_udp", H.tc_filters("lo", "ingress"))
    local t = H.now()
    h:signal("TERM")
    local rc = h:finish(5)
    assert.is_true(H.now() - t < 1, ("took %.2f s"):format(H.now() - t))
    assert.equal(0, rc, h.output())
    assert_clean_lo()
  end)
end)

describe("bpf.sleep", function()
  after_each(function() bpf.watch_signals(false) end)

  it("sleeps in this process, and a watched signal ends it early", function()
    local t = H.now()
    assert.is_true(bpf.sleep(0.1))
    assert.is_true(H.now() - t >= 0.1)
    assert(bpf.watch_signals{"SIGUSR1"})
    local pid = H.pid()
    os.execute(("(sleep 0.2; kill -USR1 %d) >/dev/null 2>&1 &"):format(pid))
    t = H.now()
    local ok, sig = bpf.sleep(10)
    assert.is_false(ok)
    assert.equal("SIGUSR1", sig)
    assert.is_true(H.now() - t < 2)
    assert.equal("SIGUSR1", bpf.signaled())
    -- the signal stays: the next sleep returns at once
    assert.is_false((bpf.sleep(10)))
    assert(bpf.watch_signals(false))
    assert.is_nil(bpf.signaled())
  end)

  it("refuses negative and NaN durations", function()
    assert.error_matches(function() bpf.sleep(-1) end, "finite number >= 0")
    assert.error_matches(function() bpf.sleep(0 / 0) end, "finite number >= 0")
    assert.error_matches(function() bpf.watch_signals{"SIGKILL"} end, "cannot watch")
  end)
end)
