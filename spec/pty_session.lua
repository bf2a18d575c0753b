-- A command on a pseudo-terminal, as a user types into it: script(1) gives
-- it a pty (so lbpf uses readline, and Ctrl-C is a real SIGINT from the
-- terminal), keys go in through a FIFO one step at a time and the screen is
-- read back. Used by repl_pty_spec and interrupt_spec.
local H = require "helpers"

local ROOT = assert(os.getenv("PWD"))
local M = {}

--- Start `cmd` (run from the checkout's root) on a pty; waits for `ready`
-- (a pattern) on the screen. Returns s with s.screen(), s.expect(pattern,
-- what), s.type(text), s.finish() -> exit status, s.cleanup(pid).
function M.session(cmd, ready)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local fifo, out, rc = dir .. "/in", dir .. "/screen", dir .. "/rc"
  assert(os.execute("mkfifo " .. fifo))
  assert(os.execute(("cd %s && (TERM=dumb script -qfec %q %s < %s > /dev/null 2>&1; echo $? > %s) &")
    :format(ROOT, cmd, out, fifo, rc)))
  local keys = assert(io.open(fifo, "w"))
  local s = {seen = 0}
  function s.screen() return H.slurp(out) or "" end
  -- Wait until `pattern` shows up after what earlier waits consumed;
  -- returns its captures.
  function s.expect(pattern, what)
    local found
    H.wait_until(function()
      found = table.pack(s.screen():find(pattern, s.seen + 1))
      return found[1] ~= nil
    end, 10, what or pattern, function() return "screen:\n" .. s.screen() end)
    s.seen = found[2]
    return table.unpack(found, 3, found.n)
  end
  function s.type(text)
    keys:write(text)
    keys:flush()
  end
  function s.finish()
    if s.code then return s.code end
    pcall(keys.close, keys)
    H.wait_until(function() return (H.slurp(rc) or "") ~= "" end, 10, "the command to end",
      function() return "screen:\n" .. s.screen() end)
    s.code = tonumber(H.slurp(rc))
    os.execute("rm -rf " .. dir)
    return s.code
  end
  -- For `finally`: end the session, killing process `pid` (the command's,
  -- when known) if it does not end on EOF.
  function s.cleanup(pid)
    if s.code then return end
    if pid and not pcall(s.finish) then os.execute("kill -KILL " .. pid .. " 2>/dev/null") end
    pcall(s.finish)
  end
  s.expect(ready, "the first prompt")
  return s
end

return M
