-- The lbpf REPL on a pseudo-terminal, as a user types into it: script(1)
-- gives it a pty (so readline is used, and Ctrl-C is a real SIGINT from
-- the terminal), keys are written one step at a time and the screen is
-- read back.
local H = require "helpers"

local pty = require "pty_session"

-- A session: `lbpf <args>` under script(1).
local function session(args)
  return pty.session("lua5.4 lua/lbpf " .. args, "lbpf> ")
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
