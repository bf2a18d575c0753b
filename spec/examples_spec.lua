-- spec/examples_spec.lua: each example tool runs for a few seconds while the
-- spec triggers what it traces, and the marked event must show in its output.
-- the checkout (busted runs there; $PWD is wrong under `make -C`)
local ROOT = (function()
  local p = io.popen("pwd")
  local dir = p:read("l")
  p:close()
  return dir
end)()
local H = require "helpers"
local LUA = "lua5.4"
local TMP = os.tmpname()
os.remove(TMP)
os.execute("mkdir -p " .. TMP)

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok
end

local function slurp(path)
  local f = io.open(path)
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function wait_for(pred, seconds)
  for _ = 1, seconds * 10 do
    if pred() then return true end
    os.execute("sleep 0.1")
  end
  return false
end

-- Start an example in the background (a hard `timeout` guards the spec),
-- wait until it printed its header line (it is attached then), run
-- `trigger`, then wait for the tool to end on its own. Returns its output.
local function run_example(name, args, trigger, opts)
  opts = opts or {}
  local out, rc = TMP .. "/" .. name .. ".out", TMP .. "/" .. name .. ".rc"
  os.remove(out)
  os.remove(rc)
  -- opts.exclusive: a kernel-wide name the tool takes, which other suites'
  -- runs wait for (helpers.lua's exclusive); its wait counts before ready
  local cmd = ("cd %s && ((%stimeout -s INT %d %s %s %s) > %s 2>&1; echo $? > %s) &")
    :format(opts.cwd or ROOT, opts.exclusive and H.exclusive(opts.exclusive) or "exec ",
            opts.timeout or 20, LUA, opts.script or ("examples/" .. name .. ".lua"), args, out, rc)
  sh(cmd)
  local ready = opts.ready or "\n"
  assert(wait_for(function() return slurp(out):find(ready, 1, true) end, opts.exclusive and 130 or 10),
    name .. " did not start: " .. slurp(out))
  if trigger then trigger() end
  assert(wait_for(function() return slurp(rc) ~= "" end, opts.timeout or 20),
    name .. " did not end: " .. slurp(out))
  return slurp(out), tonumber(slurp(rc))
end

local function mark(what)
  return ("lbpf%s%d"):format(what, math.random(100000, 999999))
end

-- a shell script named `name`: its comm is that name, which marks its events
local function marked_script(name, body)
  local path = TMP .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write("#!/bin/sh\n", body, "\n")
  f:close()
  sh("chmod +x " .. path)
  return path
end

local TOOLS = { "execsnoop", "opensnoop", "exitsnoop", "runqlat", "biolatency",
                "profile", "tcpstates", "bashreadline", "sockfilter", "tcpcc", "bootstrap", "task_iter" }

describe("examples", function()
  setup(function() sh("make -s mounts >/dev/null 2>&1") end)
  teardown(function() sh("rm -rf " .. TMP) end)

  it("each tool answers --help with its usage, from the checkout root and from examples/", function()
    for _, t in ipairs(TOOLS) do
      local p = io.popen(("cd %s && %s examples/%s.lua --help"):format(ROOT, LUA, t))
      local text = p:read("a")
      assert.is_true(p:close(), t .. " --help failed")
      assert.matches("^usage: " .. t, text)
      assert.matches("%-h, %-%-help", text)
      p = io.popen(("cd %s/examples && %s %s.lua -h"):format(ROOT, LUA, t))
      assert.are.equal(text, p:read("a"))
      p:close()
    end
  end)

  it("rejects an unknown option with exit status 2", function()
    local ok, how, code = os.execute(("cd %s && %s examples/execsnoop.lua --bogus 2>/dev/null")
      :format(ROOT, LUA))
    assert.is_nil(ok)
    assert.are.same({ "exit", 2 }, { how, code })
  end)

  it("execsnoop shows an exec with its full marked argv", function()
    local m = mark("exec")
    local out, rc = run_example("execsnoop", "--duration 3", function()
      sh(("/bin/true first %s third >/dev/null"):format(m))
    end)
    assert.are.equal(0, rc)
    assert.matches("PCOMM%s+PID%s+PPID%s+RET%s+ARGS", out)
    assert.matches("\ntrue%s+%d+%s+%d+%s+0 /bin/true first " .. m .. " third ?\n", out)
  end)

  it("execsnoop runs from inside examples/ and --demo prints its own execs", function()
    local out = run_example("execsnoop", "--duration 2 --demo", nil,
      { cwd = ROOT .. "/examples", script = "execsnoop.lua" })
    assert.matches("/bin/true marker 1", out)
  end)

  it("sockfilter prints the UDP packets its socket filter keeps on lo, and only those", function()
    local r, port = H.udp_receiver()
    finally(function() r:close() end)
    local out, rc = run_example("sockfilter", "-i lo -P udp -d 2", function()
      H.send_udp(port, 2, "sockfilter marker")
      H.drain_udp(r, 2)
    end)
    assert.are.equal(0, rc)
    assert.matches("IFACE%s+PROTO%s+SRC%s+DST%s+LEN", out)
    local line, n = "^lo%s+UDP%s+127%.0%.0%.1:%d+%s+127%.0%.0%.1:" .. port .. "%s+" .. (14 + 20 + 8 + 17) .. "$", 0
    for l in out:gmatch("[^\n]+") do
      if l:match(line) then n = n + 1 end
    end
    assert.equal(2, n, out)
    out = run_example("sockfilter", "-i lo -P tcp -d 1", function() H.send_udp(port, 1, "x") end)
    assert.is_nil(out:match("UDP"), out)
  end)

  it("opensnoop shows a failed open of a marked path", function()
    local path = TMP .. "/" .. mark("open")
    local out = run_example("opensnoop", "-d 3", function()
      sh("cat " .. path .. " 2>/dev/null")
    end)
    assert.matches("PID%s+COMM%s+FD%s+ERR%s+PATH", out)
    assert.matches("%d+%s+cat%s+%-1%s+2 " .. path:gsub("%p", "%%%0"), out)
  end)

  it("exitsnoop shows a marked process exiting with code 7", function()
    local name = mark("x")
    local script = marked_script(name, "exit 7")
    local out = run_example("exitsnoop", "-d 3", function() sh(script) end)
    assert.matches("PCOMM%s+PID%s+PPID%s+TID%s+AGE%(s%)%s+EXIT_CODE", out)
    assert.matches(name:sub(1, 15) .. "%s+%d+%s+%d+%s+%d+%s+[%d.]+%s+code 7", out)
  end)

  it("bootstrap decodes its header-only records: a marked exec, then its exit with code and lifetime", function()
    local name = mark("b")
    local script = marked_script(name, "exit 5")
    local out, rc = run_example("bootstrap", "-d 3", function() sh(script) end)
    assert.are.equal(0, rc, out)
    assert.matches("TIME%s+EVENT%s+COMM%s+PID%s+PPID%s+FILENAME/EXIT CODE", out)
    local comm = name:sub(1, 15):gsub("%p", "%%%0")
    local pid, ppid = out:match("\n%d%d:%d%d:%d%d EXEC  " .. comm .. "%s+(%d+)%s+(%d+)%s+"
                                .. script:gsub("%p", "%%%0") .. "\n")
    assert(pid, "no EXEC line for " .. script .. " in:\n" .. out)
    assert.matches("\n%d%d:%d%d:%d%d EXIT  " .. comm .. "%s+" .. pid .. "%s+" .. ppid
                   .. "%s+%[5%] %(%d+ms%)\n", out)
  end)

  it("task_iter decodes its iterator's records: a marked waiting shell, state and kernel stack", function()
    local name = mark("t")
    local script = marked_script(name, "sleep 30")
    local p = assert(io.popen(script .. " >/dev/null 2>&1 & echo $!"))
    local pid = tonumber(p:read("l"))
    p:close()
    finally(function() sh("kill " .. pid .. " 2>/dev/null; pkill -P " .. pid .. " 2>/dev/null") end)
    -- the shell waits for its sleep child once it is running
    assert(wait_for(function() return slurp("/proc/" .. pid .. "/wchan"):match("wait") end, 10))
    local out, rc = run_example("task_iter", "-s -p " .. pid)
    assert.are.equal(0, rc, out)
    assert.matches("^PID%s+TID%s+STATE%s+COMM\n", out)
    local comm = name:sub(1, 15):gsub("%p", "%%%0")
    local stack = out:match("\n" .. pid .. "%s+" .. pid .. "%s+S%s+" .. comm .. "\n(.*)$")
    assert(stack, "no line of pid " .. pid .. " in:\n" .. out)
    assert.matches("^    [%w_.]+%+0x%x+\n", stack)
    assert.matches("\n    [%w_.]*wait[%w_.]*%+0x%x+\n", stack)
  end)

  it("runqlat -P prints a log2 histogram for a marked process that sleeps", function()
    local name = mark("rq")
    local script = marked_script(name, "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.05; done")
    local out = run_example("runqlat", "-P 2 1", function() sh(script) end,
      { ready = "Hit Ctrl-C" })
    assert.matches("pid = %d+ " .. name:sub(1, 15), out)
    assert.matches("\n%s+usecs%s+: count%s+distribution\n", out)
    assert.matches("%d+ %-> %d+%s+: %d+%s+|%**%s*|", out)
  end)

  it("biolatency prints a histogram of direct writes to disk", function()
    local file = TMP .. "/" .. mark("bio")
    local out = run_example("biolatency", "2 1", function()
      sh(("dd if=/dev/zero of=%s bs=4k count=64 oflag=direct,sync status=none"):format(file))
    end, { ready = "Hit Ctrl-C" })
    assert.matches("\n%s+usecs%s+: count%s+distribution\n", out)
    assert.matches("%d+ %-> %d+%s+: [1-9]%d*%s+|%*+", out)
  end)

  it("profile -f folds the stacks of a marked busy process", function()
    local name = mark("cpu")
    local script = marked_script(name, "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
    -- under make asan every malloc unwinds its stack (fast_unwind_on_malloc=0):
    -- reading /proc/kallsyms's 200k symbols then takes tens of seconds
    local out = run_example("profile", "-f -F 99 3", function() sh(script .. " &") end,
      { ready = "", timeout = os.getenv("LBPF_ASAN") and 90 or 20 })
    assert.matches("\n" .. name:sub(1, 15) .. ";[^\n]* %d+\n", "\n" .. out)
  end)

  it("tcpstates shows a connection to a marked local port", function()
    local port = math.random(20000, 29999)
    local out = run_example("tcpstates", "-d 3 -4", function()
      sh(([[python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', %d)); s.listen(1)
c = socket.create_connection(('127.0.0.1', %d)); a, _ = s.accept()
c.close(); a.close(); s.close()"]]):format(port, port))
    end)
    assert.matches("SKADDR%s+PID%s+COMM%s+LADDR", out)
    assert.matches("127%.0%.0%.1%s+%d+%s+127%.0%.0%.1%s+" .. port .. "%s+SYN_SENT%s+%->%s+ESTABLISHED", out)
  end)

  -- its map is a `.struct_ops.link` one, which libbpf < 1.3 cannot load
  -- (LIBBPF=system, 1.1.2): there it says so and exits 1
  local major, minor = require("libbpf").libbpf_version:match("^(%d+)%.(%d+)")
  if tonumber(major) == 1 and tonumber(minor) < 3 then
    it("tcpcc says it needs libbpf >= 1.3 (built with " .. major .. "." .. minor .. ")", function()
      local out, rc = run_example("tcpcc", "--bytes 2000000", nil, { ready = "tcpcc: " })
      assert.are.equal(1, rc, out)
      assert.matches("tcpcc: needs libbpf >= 1.3 for its .struct_ops.link map (built with "
        .. major .. "." .. minor .. ")\n", out, 1, true)
    end)
  else
    it("tcpcc registers its BPF congestion control, a connection on lo runs its callbacks, it is gone after", function()
      local out, rc = run_example("tcpcc", "--bytes 2000000", nil, { ready = "registered", exclusive = "lbpf_reno" })
      assert.are.equal(0, rc, out)
      assert.matches("^lbpf_reno registered: yes\n", out)
      assert.matches("\nsent 2000000 bytes over TCP on lo with lbpf_reno\n", out)
      -- both ends of the connection started and ended with it
      assert.matches("\ninit +2\n", out)
      assert.matches("\nrelease +2\n", out)
      local calls, acked = tonumber(out:match("\ncong_avoid +(%d+)")), tonumber(out:match("\nacked +(%d+)"))
      assert.is_true(calls > 0 and acked >= calls, out)
      assert.matches("\nlbpf_reno registered: no\n$", out)
    end)
  end

  it("bashreadline shows a marked line typed into an interactive bash", function()
    local m = mark("rl")
    local out = run_example("bashreadline", "-d 4", function()
      sh(("printf 'echo %s\\nexit\\n' | script -qec 'bash --norc --noprofile -i' /dev/null >/dev/null 2>&1")
        :format(m))
    end)
    assert.matches("TIME%s+PID%s+COMMAND", out)
    assert.matches("%d%d:%d%d:%d%d%s+%d+%s+echo " .. m, out)
  end)
end)
