-- Ctrl-C during a wait means the same in a plain `lua5.4 script.lua` as in
-- the lbpf REPL (issue 19): rb:poll, pb:poll and bpf.sleep return
-- `nil, "interrupted", EINTR` (`false, "interrupted"` for the sleep), so
-- the cleanup written after them runs. The same lines run as a script (a
-- real SIGINT sent to the process once it sleeps in the kernel's wait) and
-- are typed into the REPL on a pseudo-terminal (Ctrl-C typed there, a
-- SIGINT from the terminal).
local H = require "helpers"
local pty = require "pty_session"

local SETUP = {
  "obj = assert(bpf.open('" .. H.obj("events") .. "'))",
  "ok = assert(obj:load())",
  "rb = assert(bpf.ringbuf(obj.maps.events, function() end, {type = 'struct event'}))",
  "pb = assert(bpf.perfbuf(obj.maps.samples, {on_sample = function() end}))",
  "print('pid', bpf.getpid())",
}

-- /proc/PID/syscall of a process waiting in epoll_pwait (281; the polls
-- unblock the stop signals there, csrc/interrupt.c) with a timeout of
-- `ms`, or in bpf.sleep's ppoll (no fds: not the REPL's wait for a key)
local function epoll_wait(ms) return ("^281 %%S+ %%S+ %%S+ 0x%x "):format(ms) end
local SLEEP = "^271 0x0 0x0 "

-- each: the line that waits and then cleans up, the system call it waits
-- in, and what the line prints
local CASES = {
  {name = "a ring buffer poll", wait = epoll_wait(20000),
   line = "print('result:', rb:poll(20000)) rb:close() print('cleanup ran:', rb)",
   result = "result:\tnil\tinterrupted\t4"},
  {name = "a perf buffer poll", wait = epoll_wait(20000),
   line = "print('result:', pb:poll(20000)) pb:close() print('cleanup ran:', pb)",
   result = "result:\tnil\tinterrupted\t4"},
  {name = "bpf.sleep", wait = SLEEP,
   line = "print('result:', bpf.sleep(20)) obj:close() print('cleanup ran:', obj)",
   result = "result:\tfalse\tinterrupted"},
}

local function write_script(lines)
  return H.tmpfile("bpf = require 'libbpf'\n", table.concat(lines, "\n"), "\n")
end

local function blocked_in(pid, syscall)
  H.wait_until(function()
    return H.slurp("/proc/" .. pid .. "/syscall"):match(syscall)
  end, 10, ("pid %d to wait in %s"):format(pid, syscall), function()
    return "syscall=" .. H.slurp("/proc/" .. pid .. "/syscall")
  end)
end

local function lines(...)
  local t = {}
  for _, part in ipairs{...} do
    for _, l in ipairs(type(part) == "table" and part or {part}) do t[#t + 1] = l end
  end
  return t
end

-- lbpf on a pty with SETUP typed in: the session and the REPL's pid
local function repl()
  local s = pty.session("lua5.4 lua/lbpf", "lbpf> ")
  local pid
  finally(function() s.cleanup(pid) end)
  for _, l in ipairs(SETUP) do s.type(l .. "\n") end
  pid = tonumber(s.expect("pid\t(%d+)", "the REPL's pid"))
  return s, pid
end

describe("Ctrl-C during a wait", function()
  for _, case in ipairs(CASES) do
    describe(case.name, function()
      it("returns its interrupted result in a plain script, whose cleanup then runs (exit 0)", function()
        local script = write_script(lines(SETUP, case.line, "print('after the loop')"))
        local h = H.spawn("lua5.4 " .. script)
        finally(function() h.cleanup() os.remove(script) end)
        h:wait_output("pid\t", 10)
        blocked_in(h.pid, case.wait)
        h:signal("INT")
        assert.equal(0, h:finish(10))
        local out = h.output()
        assert.matches(case.result .. "\n", out, 1, true)
        assert.matches("cleanup ran:\t[^\n]*closed", out)
        assert.matches("after the loop", out, 1, true)
        assert.is_nil(out:find("interrupted!", 1, true))
      end)

      it("returns the same in the REPL, whose statement goes on to its cleanup", function()
        local s, pid = repl()
        s.type(case.line .. "\n")
        blocked_in(pid, case.wait)
        s.type("\3")
        s.expect(case.result:gsub("%p", "%%%0") .. "\r?\n", "the wait's result")
        s.expect("cleanup ran:\t[^\n]*closed[^\n]*\r?\nlbpf> ", "the cleanup, then a prompt")
        assert.is_nil(s.screen():find("interrupted!", 1, true))
        s.type("exit\n")
        assert.equal(0, s.finish())
      end)
    end)
  end

  -- a loop that ignores poll's result still stops on a second Ctrl-C
  local LOOP = "for i = 1, 1e9 do rb:poll(100) end print('not reached')"

  it("raises interrupted! on a second Ctrl-C in a script looping over polls (exit 1)", function()
    local script = write_script(lines(SETUP,
      "closer = setmetatable({}, {__close = function() print('closed on error') end})",
      "do local c <close> = closer; " .. LOOP .. " end"))
    local h = H.spawn("lua5.4 " .. script)
    finally(function() h.cleanup() os.remove(script) end)
    h:wait_output("pid\t", 10)
    blocked_in(h.pid, epoll_wait(100))
    h:signal("INT")
    require("socket").sleep(0.3)   -- the first one handled: the loop polls again
    blocked_in(h.pid, epoll_wait(100))
    h:signal("INT")
    assert.equal(1, h:finish(10))
    assert.matches("interrupted!", h.output(), 1, true)
    assert.matches("closed on error", h.output(), 1, true)
    assert.is_nil(h.output():find("not reached", 1, true))
  end)

  it("ends a loop over polls in the REPL on a second Ctrl-C, back at the prompt", function()
    local s, pid = repl()
    s.type(LOOP .. "\n")
    blocked_in(pid, epoll_wait(100))
    s.type("\3")
    require("socket").sleep(0.3)   -- the first one handled: the loop polls again
    blocked_in(pid, epoll_wait(100))
    s.type("\3")
    s.expect("interrupted\r?\nlbpf> ", "the interruption and a prompt")
    assert.is_nil(s.screen():find("\nnot reached"))
    s.type("print(rb:close(), 'still here')\n")
    s.expect("still here", "the session to go on")
    s.type("exit\n")
    assert.equal(0, s.finish())
  end)

  it("ends a tool's main loop the same way in a script and in the REPL, which keeps its Ctrl-C", function()
    local loop = "tool = require 'libbpf.tool' tool.run(function() print('result:', " ..
                 "tool.poll_for(rb, 20)) end) rb:close() print('cleanup ran:', rb)"
    local script = write_script(lines(SETUP, loop))
    local h = H.spawn("lua5.4 " .. script)
    finally(function() h.cleanup() os.remove(script) end)
    h:wait_output("pid\t", 10)
    blocked_in(h.pid, epoll_wait(100))
    h:signal("INT")
    assert.equal(0, h:finish(10))
    assert.matches("result:\tfalse\n", h.output(), 1, true)
    assert.matches("cleanup ran:\t[^\n]*closed", h.output())

    local s, pid = repl()
    s.type(loop .. "\n")
    blocked_in(pid, epoll_wait(100))
    s.type("\3")
    s.expect("result:\tfalse\r?\n", "the tool loop's end")
    s.expect("cleanup ran:\t[^\n]*closed[^\n]*\r?\nlbpf> ", "the cleanup, then a prompt")
    -- the REPL's own Ctrl-C is back: a half-typed statement is dropped
    s.type("for i = 1, 3 do\n")
    s.expect(">> ", "the continuation prompt")
    s.type("\3")
    s.expect("%^C\r?\nlbpf> ", "^C and a fresh prompt")
    s.type("exit\n")
    assert.equal(0, s.finish())
  end)
end)
