-- spec/examples_inline_spec.lua: the example tools written as one Lua file
-- with their BPF C inline (bpf.compile, issue 16) run like the two-file
-- ones: the spec triggers a marked event and the tool must show it. Each
-- run gets a fresh compile cache (XDG_CACHE_HOME), so the first start
-- really compiles.
local H = require "helpers"

local LUA = "lua5.4"

local function tmpdir()
  local p = io.popen("mktemp -d /tmp/lbpf-inline-spec.XXXXXX")
  local d = p:read("l")
  p:close()
  return d
end

-- Start examples/NAME.lua in the background with a fresh cache (a hard
-- `timeout` guards the spec), wait for its header line (attached then), run
-- `trigger`, wait for it to end. Returns its output and exit code.
local function run_inline(dir, name, args, trigger, ready)
  local out, rc = dir .. "/out", dir .. "/rc"
  assert(os.execute(("(XDG_CACHE_HOME=%s/xdg timeout -s INT 30 %s examples/%s.lua %s > %s 2>&1; "
    .. "echo $? > %s) &"):format(dir, LUA, name, args, out, rc)))
  H.wait_until(function() return H.slurp(out):find(ready, 1, true) end, 20,
               name .. " to start", function() return H.slurp(out) end)
  trigger()
  H.wait_until(function() return H.slurp(rc) ~= "" end, 30, name .. " to end",
               function() return H.slurp(out) end)
  return H.slurp(out), tonumber(H.slurp(rc))
end

describe("inline examples", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("each inline tool answers --help", function()
    for _, t in ipairs({"exitsnoop_inline", "runqlat_inline", "tcpstates_inline"}) do
      local p = io.popen(("XDG_CACHE_HOME=%s/xdg %s examples/%s.lua --help"):format(dir, LUA, t))
      local text = p:read("a")
      assert.is_true(p:close(), t)
      assert.matches("^usage: " .. t, text)
    end
  end)

  it("exitsnoop_inline shows a marked process exiting with code 7", function()
    local name = ("lbpfxi%d"):format(math.random(100000, 999999))
    local script = dir .. "/" .. name
    local f = assert(io.open(script, "w"))
    f:write("#!/bin/sh\nexit 7\n")
    f:close()
    os.execute("chmod +x " .. script)
    local out, rc = run_inline(dir, "exitsnoop_inline", "-d 3", function() os.execute(script) end,
                               "EXIT_CODE")
    assert.equal(0, rc, out)
    assert.matches("PCOMM%s+PID%s+PPID%s+TID%s+AGE%(s%)%s+EXIT_CODE", out)
    assert.matches(name:sub(1, 15) .. "%s+%d+%s+%d+%s+%d+%s+[%d.]+%s+code 7", out)
    -- compiled into this run's own cache
    assert.is_true(H.exists(dir .. "/xdg/lua-libbpf"))
  end)

  it("runqlat_inline -P prints a log2 histogram for a marked process that sleeps", function()
    local name = ("lbpfrqi%d"):format(math.random(100000, 999999))
    local script = dir .. "/" .. name
    local f = assert(io.open(script, "w"))
    f:write("#!/bin/sh\nfor i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.05; done\n")
    f:close()
    os.execute("chmod +x " .. script)
    local out, rc = run_inline(dir, "runqlat_inline", "-P 2 1", function() os.execute(script) end,
                               "Hit Ctrl-C")
    assert.equal(0, rc, out)
    assert.matches("pid = %d+ " .. name:sub(1, 15), out)
    assert.matches("\n%s+usecs%s+: count%s+distribution\n", out)
    assert.matches("%d+ %-> %d+%s+: %d+%s+|%**%s*|", out)
  end)

  it("tcpstates_inline shows a connection to a marked local port", function()
    local port = math.random(20000, 29999)
    local out, rc = run_inline(dir, "tcpstates_inline", "-d 3 -4", function()
      os.execute(([[python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', %d)); s.listen(1)
c = socket.create_connection(('127.0.0.1', %d)); a, _ = s.accept()
c.close(); a.close(); s.close()"]]):format(port, port))
    end, "\n")
    assert.equal(0, rc, out)
    assert.matches("SKADDR%s+PID%s+COMM%s+IP%s+LADDR", out)
    assert.matches("127%.0%.0%.1%s+%d+%s+127%.0%.0%.1%s+" .. port .. "%s+SYN_SENT%s+%->%s+ESTABLISHED", out)
  end)
end)
