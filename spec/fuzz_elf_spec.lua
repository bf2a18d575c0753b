-- ELF fuzzer (issue 13): mutants of the ELF structure of a libbpf object and
-- of the iproute2/bpf_map_def objects (ELF header, section headers, symbols,
-- relocations, code section sizes, legacy map records, truncation) through
-- open_buffer/open, the accessors and load (spec/fuzz/elf.lua), in child
-- processes of CHUNK mutants each, so that a crash names its mutant.
-- `make test` runs 500 of seed 1; `make fuzz` FUZZ_MUTANTS of each of
-- FUZZ_SEEDS under ASan (FUZZ_ELF_MUTANTS overrides the count for this one).
-- Steps listed in spec/fuzz/known.lua are skipped unless FUZZ_ALL=1.
local child = require "fuzz.child"

local SEEDS = child.seeds({1})
local MUTANTS = child.env_number("FUZZ_ELF_MUTANTS", child.env_number("FUZZ_MUTANTS", 500))
local CHUNK = 500

describe("the ELF fuzzer", function()
  local dir, pins

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
    pins = child.bpffs_dir()
  end)
  teardown(function()
    child.rm_dir(dir)
    child.rm_dir(pins)
  end)

  local function chunk(seed, first, count)
    it(("survives mutants %d..%d of seed %d"):format(first, first + count - 1, seed), function()
      local log = os.tmpname()
      local r = child.run("spec/fuzz/elf.lua", {seed, first, count, log, dir, pins}, log,
                          60 + count // 2)
      os.remove(log)
      assert(r.ok, child.report(("ELF mutants from %d of seed %d"):format(first, seed), r))
      assert.equal(count, tonumber(r.out:match("FUZZ DONE (%d+)")))
      -- the child silenced libbpf with bpf.set_print: a libbpf line in its
      -- output is a libbpf call made outside a print frame
      assert.is_nil(r.out:match("[^\n]*libbpf: [^\n]*"),
                    "libbpf printed past the printer: " .. child.tail(r.out, 6))
    end)
  end

  for _, seed in ipairs(SEEDS) do
    for first = 1, MUTANTS, CHUNK do chunk(seed, first, math.min(CHUNK, MUTANTS - first + 1)) end
  end
end)
