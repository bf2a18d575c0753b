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

  it("exitsnoop_inline answers --help", function()
    local p = io.popen(("XDG_CACHE_HOME=%s/xdg %s examples/exitsnoop_inline.lua --help"):format(dir, LUA))
    local text = p:read("a")
    assert.is_true(p:close())
    assert.matches("^usage: exitsnoop_inline", text)
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
end)
