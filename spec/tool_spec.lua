-- libbpf.tool's command line (GNU style) and what the example tools make
-- of it: combined flags, inline values, `--`, sub-second durations that
-- are kept, bad values refused with a clear message, plain-text filters.
local H = require "helpers"

local ROOT = assert(os.getenv("PWD"))

-- Run tool.parse on `args` (a shell word list) in a child: its printed
-- options (sorted key=value lines), stderr, and exit status.
local function parse(args)
  local script = [[
    local tool = require "libbpf.tool"
    local opts = tool.parse(arg, {name = "t", options = {
      {"-T", "--timestamp"}, {"-x", "--failed"},
      {"-p", "--pid", arg = "PID", type = "integer"},
      {"-d", "--duration", arg = "SECS", type = "duration"},
      {"-n", "--name", arg = "NAME"}}})
    local keys = {}
    for k, v in pairs(opts) do keys[#keys + 1] = tostring(k) .. "=" .. tostring(v) end
    table.sort(keys)
    print(table.concat(keys, " "))
  ]]
  local f = os.tmpname()
  local h = assert(io.open(f, "w"))
  h:write(script)
  h:close()
  local p = io.popen(("cd %s && LUA_PATH='lua/?.lua;;' lua5.4 %s %s 2>&1; echo \"rc=$?\"")
    :format(ROOT, f, args))
  local out = p:read("a")
  p:close()
  os.remove(f)
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return (out:gsub("rc=%d+\n$", "")), rc
end

describe("tool.parse", function()
  it("combines short flags and takes values inline or next", function()
    assert.equal("failed=true timestamp=true\n", (parse("-Tx")))
    assert.equal("pid=42\n", (parse("-p42")))
    assert.equal("pid=42 timestamp=true\n", (parse("-Tp 42")))
    assert.equal("pid=42\n", (parse("--pid=42")))
    assert.equal("pid=42\n", (parse("--pid 42")))
    assert.equal("duration=0.5\n", (parse("-d 0.5")))
  end)

  it("ends options at -- and keeps negative numbers as positional arguments", function()
    assert.equal("1=-x 2=--pid timestamp=true\n", (parse("-T -- -x --pid")))
    assert.equal("1=-5\n", (parse("-5")))
  end)

  it("refuses what it cannot take, saying what and exiting 2", function()
    local cases = {
      {"-Tz", "unknown option '%-z'"},
      {"--bogus", "unknown option '%-%-bogus'"},
      {"--timestamp=1", "%-%-timestamp takes no value"},
      {"-p", "%-p needs an argument"},
      {"-p x", "%-%-pid expects an integer, got 'x'"},
      {"-d 0", "%-%-duration expects a positive number of seconds, got '0'"},
      {"-d -1", "%-%-duration expects a positive number of seconds, got '%-1'"},
      {"-d soon", "%-%-duration expects a positive number of seconds, got 'soon'"},
    }
    for _, c in ipairs(cases) do
      local out, rc = parse(c[1])
      assert.equal(2, rc, c[1] .. ": " .. out)
      assert.matches("^t: " .. c[2] .. "\ntry 't %-%-help'\n$", out)
    end
  end)
end)

describe("example tools", function()
  -- Run a tool for `args`: the time from its header (printed once it is
  -- attached and about to poll) to its exit, and its output.
  local function timed(tool, args)
    local p = io.popen(("cd %s && exec timeout -s KILL 10 lua5.4 examples/%s.lua %s 2>&1")
      :format(ROOT, tool, args))
    local first = p:read("L")
    local t0 = H.now()
    local rest = p:read("a")
    local took = H.now() - t0
    local ok = p:close()
    return (first or "") .. rest, ok, took
  end

  -- Detaching at exit costs the kernel tens of milliseconds a tracepoint
  -- (opensnoop has four): the same for every -d, so -d 0.5 and -d 0.05 are
  -- compared, and must differ by their 0.45 s within 0.2 s.
  it("poll for a sub-second -d: 0.5 s within 0.2 s", function()
    for _, tool in ipairs{"execsnoop", "opensnoop", "exitsnoop", "tcpstates"} do
      local out, ok, short = timed(tool, "-d 0.05")
      assert.is_true(ok, tool .. ": " .. out)
      local long
      out, ok, long = timed(tool, "-d 0.5")
      assert.is_true(ok, tool .. ": " .. out)
      assert.is_true(math.abs(long - short - 0.45) <= 0.2,
        ("%s: -d 0.5 ran %.2f s after its header, -d 0.05 %.2f s"):format(tool, long, short))
    end
  end)

  it("take -n as plain text: a name with '-' in it matches", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    finally(function() os.execute("rm -rf " .. dir) end)
    local name = "lbpf-x" .. math.random(1000, 9999) -- '-' is a pattern operator
    local script = dir .. "/" .. name
    local f = assert(io.open(script, "w"))
    f:write("#!/bin/sh\nexit 0\n")
    f:close()
    assert(os.execute("chmod +x " .. script))
    local out_file = dir .. "/out"
    os.execute(("cd %s && (timeout -s INT 10 lua5.4 examples/execsnoop.lua -n %s -d 3 > %s 2>&1 &)")
      :format(ROOT, name, out_file))
    H.wait_until(function() return H.slurp(out_file):find("\n") end, 10, "execsnoop to start")
    os.execute(script)
    H.wait_until(function() return H.slurp(out_file):find(name, 1, true) end, 10,
      "the marked exec in execsnoop's output", function() return H.slurp(out_file) end)
  end)
end)
