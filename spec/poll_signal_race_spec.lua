-- A stop signal that lands just before a wait blocks in the kernel ends the
-- wait at once: rb:poll, pb:poll, bpf.sleep and sock:recv check the
-- interrupt state with the stop signals blocked and wait in epoll_pwait or
-- ppoll, which unblock them atomically (csrc/interrupt.c). Before, a SIGINT
-- that came after a poll's snapshot but before its epoll_wait was noticed
-- only when the timeout ran out.
--
-- The window is a few instructions wide, so gdb holds the process in it: a
-- breakpoint on the libc wait functions (or on sigprocmask, the start of
-- the blocked section), a real SIGINT sent to the process there (kill),
-- then continue. The script times its wait. The SIGINT goes to lua5.4's
-- own handler (interrupt.c puts its handler in front of it), as when a user
-- presses Ctrl-C, or to bpf.watch_signals' (os.c), as in the tools.
local H = require "helpers"

local GDB = "/usr/bin/gdb"
-- under make asan, the real interpreter and the sanitizer runtime
local LUA = os.getenv("LBPF_ASAN_LUA") or "lua5.4"
local ASAN_PRELOAD = os.getenv("LBPF_ASAN_LUA") and os.getenv("LBPF_ASAN_PRELOAD")
local WAIT_MS = 8000          -- each wait's timeout; interrupted, it returns at once
local LIMIT = WAIT_MS / 2000  -- seconds: "at once", with room for a loaded machine

local function have_gdb()
  return os.execute(GDB .. " -batch -nx -ex 'python import os' >/dev/null 2>&1")
end

local write = H.tmpfile

-- the wait under test, timed: prints "result: <its results> elapsed: <s>"
local PRELUDE = [[
local bpf = require "libbpf"
local gettime = require("socket").gettime
local obj = assert(bpf.open(arg[1]))
assert(obj:load())
local function timed(f, ...)
  local t0 = gettime()
  local r = table.pack(f(...))
  local dt = gettime() - t0
  for i = 1, r.n do r[i] = tostring(r[i]) end
  print(("result: %s elapsed: %.3f"):format(table.concat(r, "\t", 1, r.n), dt))
end
]]

local CASES = {
  {name = "rb:poll", result = "nil\tinterrupted\t4", code = [[
local rb = assert(bpf.ringbuf(obj.maps.events, function() end))
timed(rb.poll, rb, WAIT_MS)
rb:close()]]},
  -- SIGINT watched by bpf.watch_signals (os.c's handler), as in the tools
  {name = "pb:poll", result = "nil\tinterrupted\t4", code = [[
assert(bpf.watch_signals())
local pb = assert(bpf.perfbuf(obj.maps.samples, {on_sample = function() end}))
timed(pb.poll, pb, WAIT_MS)
pb:close()]]},
  {name = "bpf.sleep", result = "false\tinterrupted", code = [[
timed(bpf.sleep, WAIT_MS / 1000)]]},
  -- watched too: lua5.4's handler would raise "interrupted!" after it (a
  -- failed recv does not report the interrupt as the polls do)
  {name = "sock:recv", result = "nil\trecv on packet socket 'lo': Interrupted system call\t4", code = [[
assert(bpf.watch_signals())
local sock = assert(bpf.packet_socket("lo", {protocol = "ip"}))
timed(sock.recv, sock, WAIT_MS / 1000)
sock:close()]]},
}

-- where gdb holds the process while the SIGINT is sent
local WHERE = {
  {name = "at the wait's entry (epoll_pwait, ppoll; epoll_wait, poll before the fix)",
   breaks = {"epoll_wait", "epoll_pwait", "ppoll", "poll"}},
  {name = "before the stop signals are blocked (sigprocmask)", breaks = {"sigprocmask"}},
}

-- run `code` under gdb: SIGINT sent at the first hit of a breakpoint;
-- the script's output and gdb's
local function run_under_gdb(code, breaks)
  local script = write(PRELUDE .. "local WAIT_MS = " .. WAIT_MS .. "\n" .. code ..
                       "\nobj:close()\nprint('done')\n")
  local cmds = {"set pagination off", "set confirm off",
                "handle SIGINT nostop noprint pass", "set breakpoint pending on"}
  if ASAN_PRELOAD then   -- what spec/asan/lua5.4 (a script gdb cannot run) does
    cmds[#cmds + 1] = "set startup-with-shell off"
    cmds[#cmds + 1] = "set environment LD_PRELOAD " .. ASAN_PRELOAD
    -- LeakSanitizer cannot run under ptrace; the rest of ASan and UBSan can
    cmds[#cmds + 1] = "set environment ASAN_OPTIONS " ..
                      (os.getenv("ASAN_OPTIONS") or "") .. ":detect_leaks=0"
  end
  for _, b in ipairs(breaks) do cmds[#cmds + 1] = "break " .. b end
  for _, c in ipairs{"run",
                     -- held at the breakpoint: a real SIGINT, as from kill(1)
                     "python import os, signal; os.kill(gdb.selected_inferior().pid, signal.SIGINT)",
                     "delete", "continue"} do
    cmds[#cmds + 1] = c
  end
  local cmdfile = write(table.concat(cmds, "\n") .. "\n")
  finally(function() os.remove(script) os.remove(cmdfile) end)
  local p = assert(io.popen(("timeout -s KILL %d %s -batch -nx -x %s --args %s %s %s 2>&1")
    :format(WAIT_MS / 1000 * 3 + 30, GDB, cmdfile, LUA, script, H.obj("events"))))
  local out = p:read("a")
  p:close()
  return out
end

describe("a SIGINT just before a wait blocks", function()
  if not have_gdb() then
    it("needs gdb (with Python) at " .. GDB, function() pending("no usable " .. GDB) end)
    return
  end
  for _, case in ipairs(CASES) do
    for _, where in ipairs(WHERE) do
      it(("ends %s at once, with its interrupted result: signal %s"):format(case.name, where.name), function()
        local out = run_under_gdb(case.code, where.breaks)
        assert.matches("\nBreakpoint %d", out)   -- it was held in the window
        local result, dt = out:match("result: ([^\n]*) elapsed: ([%d.]+)")
        assert(result, "no result in the output:\n" .. out)
        assert.equal(case.result, result)
        assert(tonumber(dt) < LIMIT, ("%s took %s s (timeout %d ms): the signal waited for the " ..
          "timeout\n%s"):format(case.name, dt, WAIT_MS, out))
        assert.matches("\ndone\n", out, 1, true)   -- the script went on to its cleanup
      end)
    end
  end
end)
