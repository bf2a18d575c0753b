-- BTF fuzzer (issue 13): mutants of the .BTF/.BTF.ext sections of the spec
-- objects through btf_parse, sizeof/decode/encode, open_buffer, obj.vars,
-- load, typed map ops and a typed ring buffer (spec/fuzz/btf.lua), in child
-- processes of CHUNK mutants each, so that a crash names its mutant.
-- `make test` runs a few hundred; `make fuzz` FUZZ_MUTANTS under ASan.
-- Steps listed in spec/fuzz/known.lua are skipped unless FUZZ_ALL=1.
local child = require "fuzz.child"

local SEED = child.seeds({1})[1]
local MUTANTS = child.env_number("FUZZ_MUTANTS", 1000)
local CHUNK = 500

describe("the BTF fuzzer", function()
  local dir

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
  end)
  teardown(function() child.rm_dir(dir) end)

  for first = 1, MUTANTS, CHUNK do
    local count = math.min(CHUNK, MUTANTS - first + 1)
    it(("survives mutants %d..%d of seed %d"):format(first, first + count - 1, SEED), function()
      local log = os.tmpname()
      local r = child.run("spec/fuzz/btf.lua", {SEED, first, count, log, dir}, log,
                          60 + count // 2)
      os.remove(log)
      assert(r.ok, child.report(("BTF mutants from %d"):format(first), r))
      assert.equal(count, tonumber(r.out:match("FUZZ DONE (%d+)")))
    end)
  end
end)
