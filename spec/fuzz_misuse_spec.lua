-- API-misuse fuzzer (issue 13): random calls of every method, field and
-- metamethod with hostile arguments, in a child process per seed
-- (spec/fuzz/misuse.lua) so that a crash is reported with its seed and the
-- calls before it instead of killing busted. `make test` runs one fixed
-- seed; `make fuzz` runs FUZZ_SEEDS x FUZZ_CALLS under ASan. Calls listed in
-- spec/fuzz/known.lua (crashes not fixed yet) are skipped unless FUZZ_ALL=1.
local child = require "fuzz.child"

local SEEDS = child.seeds({1, 2, 3})
local CALLS = child.env_number("FUZZ_CALLS", 3000)
-- a seed's calls take a few seconds; the limit catches hangs
local LIMIT = child.env_number("FUZZ_SECONDS", 30 + CALLS // 20)

describe("the API-misuse fuzzer", function()
  local dir

  setup(function() dir = child.bpffs_dir() end)
  teardown(function() child.rm_dir(dir) end)

  for _, seed in ipairs(SEEDS) do
    it(("survives %d hostile calls with seed %d"):format(CALLS, seed), function()
      local log = os.tmpname()
      local r = child.run("spec/fuzz/misuse.lua", {seed, CALLS, log, dir}, log, LIMIT)
      os.remove(log)
      os.execute("rm -rf " .. dir .. "/* 2>/dev/null")
      assert(r.ok, child.report(("seed %d"):format(seed), r))
      -- the run made the calls it was asked for, not fewer
      local n = tonumber(r.out:match("FUZZ DONE (%d+)"))
      assert.is_true(n >= CALLS)
    end)
  end

  it("is seen to fail: a child that crashes is reported with its last call", function()
    local log = os.tmpname()
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local l = assert(io.open(arg[3], "w"))
      l:write("1 crash(now)\n"); l:flush()
      os.execute("kill -ABRT $PPID") -- a crash (SIGABRT: ASan, under make asan, reports SEGV but not ABRT)
    ]])
    f:close()
    local r = child.run(script, {1, 1, log, dir}, log, 10)
    os.remove(log)
    os.remove(script)
    assert.is_false(r.ok)
    assert.matches("1 crash%(now%)", child.report("x", r))
  end)
end)
