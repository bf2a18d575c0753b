-- spec/hist_spec.lua: libbpf.hist prints like bcc's print_log2_hist and
-- print_linear_hist; the expected texts were produced by bcc's C functions.
local hist = require "libbpf.hist"

describe("libbpf.hist", function()
  it("prints a log2 histogram exactly like bcc's print_log2_hist", function()
    local expected = [[
     usecs               : count    distribution
         0 -> 1          : 1        |**                                      |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 5        |**********                              |
         8 -> 15         : 20       |****************************************|
        16 -> 31         : 0        |                                        |
        32 -> 63         : 3        |******                                  |
]]
    assert.are.equal(expected, hist.log2({[0] = 1, [1] = 0, [2] = 5, [3] = 20, [5] = 3}, "usecs"))
  end)

  it("prints a linear histogram exactly like bcc's print_linear_hist, skipping empty slots", function()
    local expected = [[
     msecs         : count     distribution
        20         : 4        |********************                    |
        30         : 8        |****************************************|
]]
    assert.are.equal(expected, hist.linear({[2] = 4, [3] = 0, [4] = 8}, 10, 5, "msecs"))
  end)

  it("switches to wide columns and half-length bars past slot 32", function()
    local text = hist.log2({[0] = 7, [20] = 1, [35] = 3}, "nsecs")
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(37, #lines)
    assert.are.equal('               nsecs                         : count    distribution', lines[1])
    assert.are.equal('                   0 -> 1                    : 7        |********************|', lines[2])
    assert.are.equal('         34359738368 -> 68719476735          : 3        |********            |', lines[37])
  end)

  it("prints nothing when every count is zero", function()
    assert.are.equal("", hist.log2({[0] = 0, [4] = 0}))
    assert.are.equal("", hist.linear({}))
  end)

  it("takes a 1-based list through hist.slots and sums per-CPU counts", function()
    local from_list = hist.log2(hist.slots({1, 0, 5, 20, 0, 3}), "usecs")
    assert.are.equal(hist.log2({[0] = 1, [2] = 5, [3] = 20, [5] = 3}, "usecs"), from_list)
    local percpu = hist.log2({[0] = {1, 0}, [2] = {2, 3}, [3] = {10, 10}, [5] = {0, 3}}, "usecs")
    assert.are.equal(hist.log2({[0] = 1, [2] = 5, [3] = 20, [5] = 3}, "usecs"), percpu)
  end)

  it("writes to a given file", function()
    local f = assert(io.tmpfile())
    hist.print_log2({[1] = 2}, "usecs", f)
    f:seek("set")
    assert.are.equal(hist.log2({[1] = 2}, "usecs"), f:read("a"))
    f:close()
  end)

  it("reads the counts from a BPF array map keyed by slot", function()
    local bpf = require "libbpf"
    local obj = assert(bpf.open("spec/bpf/hist.bpf.o"))
    assert(obj:load())
    local m = obj.maps.slots
    for slot, n in pairs({ [0] = 1, [2] = 5, [3] = 20, [5] = 3 }) do m:update(slot, n) end
    assert.are.equal(hist.log2({ [0] = 1, [2] = 5, [3] = 20, [5] = 3 }, "usecs"), hist.log2(m, "usecs"))
    obj:close()
  end)

  it("rejects a slot that is not a non-negative integer", function()
    assert.has_error(function() hist.log2({[-1] = 3}) end,
      "histogram slot must be a non-negative integer, got -1")
    assert.has_error(function() hist.log2({x = 3}) end)
  end)
end)
