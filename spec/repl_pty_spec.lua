-- The lbpf REPL on a pseudo-terminal, as a user types into it: script(1)
-- gives it a pty (so readline is used, and Ctrl-C is a real SIGINT from
-- the terminal), keys are written one step at a time and the screen is
-- read back.
local H = require "helpers"

local ROOT = assert(os.getenv("PWD"))

-- A session: `lbpf <args>` under script(1), fed through a FIFO.
local function session(args)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local fifo, out, rc = dir .. "/in", dir .. "/screen", dir .. "/rc"
  assert(os.execute("mkfifo " .. fifo))
  local cmd = ("lua5.4 lua/lbpf %s"):format(args)
  assert(os.execute(("cd %s && (TERM=dumb script -qfec %q %s < %s > /dev/null 2>&1; echo $? > %s) &")
    :format(ROOT, cmd, out, fifo, rc)))
  local keys = assert(io.open(fifo, "w"))
  local s = {seen = 0}
  function s.screen() return H.slurp(out) or "" end
  -- Wait until `pattern` shows up after what earlier waits consumed.
  function s.expect(pattern, what)
    local at
    H.wait_until(function()
      local _, e = s.screen():find(pattern, s.seen + 1)
      at = e
      return e ~= nil
    end, 10, what or pattern, function() return "screen:\n" .. s.screen() end)
    s.seen = at
  end
  function s.type(text)
    keys:write(text)
    keys:flush()
  end
  function s.finish()
    pcall(keys.close, keys)
    H.wait_until(function() return (H.slurp(rc) or "") ~= "" end, 10, "lbpf to end",
      function() return "screen:\n" .. s.screen() end)
    local code = tonumber(H.slurp(rc))
    os.execute("rm -rf " .. dir)
    return code
  end
  s.expect("lbpf> ", "the first prompt")
  return s
end

for _, mode in ipairs{{name = "readline", flag = ""}, {name = "plain", flag = "-p "}} do
  describe("lbpf on a terminal (" .. mode.name .. ")", function()
    it("Ctrl-C drops a half-typed statement and gives a fresh prompt; exit leaves quietly", function()
      local s = session(mode.flag .. H.obj("counter"))
      s.type("for i = 1, 3 do\n")
      s.expect(">> ", "the continuation prompt")
      s.type("print('inside', i)\n")
      s.expect(">> ", "a second continuation prompt")
      s.type("\3")
      s.expect("%^C\r?\nlbpf> ", "^C and a fresh prompt")
      s.type("print('after' .. 'wards')\n")
      s.expect("afterwards", "the next statement to run on its own")
      assert.is_nil(s.screen():find("inside", 1, true) and s.screen():find("inside%s+%d"))
      s.type("exit\n")
      assert.equal(0, s.finish())
    end)

    it("help prints the commands, and help(x) the reference entry of a handle or function", function()
      local s = session(mode.flag .. H.obj("counter"))
      s.type("help\n")
      s.expect(":dump NAME", "the command list")
      s.type("help(obj.maps.exec_counts)\n")
      s.expect("Members: :lookup :update", "the map class entry")
      s.type("help(bpf.open)\n")
      s.expect("Open a BPF ELF object file", "the entry of bpf.open")
      s.type(":help map:lookup\n")
      s.expect("Look a key up", "the entry of map:lookup")
      s.type("quit\n")
      assert.equal(0, s.finish())
    end)

    it("a failed :load prints the verifier's lines and how to retry; :dump shows hash, array and queue", function()
      local s = session(mode.flag .. H.obj("refused"))
      s.type(":load\n")
      s.expect("nil, load 'bad_deref' failed: Permission denied\r?\n", "the load failure")
      s.expect("invalid mem access[^\n]*\r?\n", "the verifier log as lines")
      s.expect("%(a failed object cannot be loaded again: fix the cause, then :open it anew%)")
      s.type(":load\n")
      s.expect("the last load failed: open the object again %(bpf.open%) to retry")
      s.type(":open " .. H.obj("counter") .. "\n")
      s.expect("libbpf.object%(counter")
      s.type(":load\n")
      s.expect("libbpf.object%(counter, libbpf, loaded")
      s.type("obj.maps.exec_counts[5] = 50; obj.maps.xdp_counts[1] = 11\n")
      s.type(":dump exec_counts\n")
      s.expect("exec_counts, hash[^\n]*{\r?\n  %[5%] = 50,\r?\n}")
      s.type(":dump xdp_counts\n")
      s.expect("xdp_counts, array[^\n]*{\r?\n  %[0%] = 0,\r?\n  %[1%] = 11,")
      s.type("q = bpf.map_create{type = 'queue', key_size = 0, value_size = 4, max_entries = 4}; q:push(7)\n")
      s.type(":dump q\n")
      s.expect("queue, key=0 value=4[^\n]* queue: head = 7 ")
      s.type(":info count_exec\n")
      s.expect("verified_insns = %d+")
      s.type("\4")
      assert.equal(0, s.finish())
    end)
  end)
end
