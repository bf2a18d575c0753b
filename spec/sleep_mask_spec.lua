-- bpf.sleep ends on a signal watched by bpf.watch_signals even when the
-- process started with that signal blocked (a parent's signal mask, which
-- exec keeps): the sleep unblocks the watched signals while it waits, and
-- one already pending ends it at once. (Before, interrupt.c's wait kept
-- the inherited mask and the sleep ran its whole time.)
local SLEEP = 8   -- seconds; ended by the signal, it returns at once

-- a parent that blocks SIGTERM starts lua5.4, then sends it SIGTERM once
-- the child is ready (`pending`: before the sleep begins, else during it)
local PARENT = [[
import signal, subprocess, sys, time
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
pending = sys.argv[1] == "pending"
child = subprocess.Popen(["lua5.4", "-e", """
local bpf = require "libbpf"
local gettime = require("socket").gettime
assert(bpf.watch_signals())
io.write("ready\\n"); io.flush()
if %s then io.read("l") end
local t0 = gettime()
local ok, sig = bpf.sleep(%d)
print(("%%s %%s %%.3f"):format(ok, sig, gettime() - t0))
""" % ("true" if pending else "false", ]] .. SLEEP .. [[)],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "ready"
time.sleep(0.3)
child.send_signal(signal.SIGTERM)
if pending:
    child.stdin.write("go\n"); child.stdin.flush()
out, _ = child.communicate(timeout=]] .. (SLEEP * 3) .. [[)
print(out.strip())
]]

describe("bpf.sleep in a process started with its watched signal blocked", function()
  for _, when in ipairs{"during", "pending"} do
    it("ends on SIGTERM sent " .. (when == "pending" and "before it begins" or "while it sleeps"), function()
      local path = os.tmpname()
      finally(function() os.remove(path) end)
      local f = assert(io.open(path, "w"))
      f:write(PARENT)
      f:close()
      local p = assert(io.popen("python3 " .. path .. " " .. when .. " 2>&1"))
      local out = p:read("a")
      p:close()
      local ok, sig, dt = out:match("^(%S+) (%S+) ([%d.]+)%s*$")
      assert.equal("false", ok, out)
      assert.equal("SIGTERM", sig, out)
      assert.is_true(tonumber(dt) < SLEEP / 2, out)
    end)
  end
end)
