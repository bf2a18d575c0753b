-- A queue or stack whose value_size was changed before load
-- (m:set_value_size) no longer fits the value type of its definition: it
-- gives and takes raw bytes, as a hash map does when libbpf creates it
-- without its BTF type for the same reason (libbpf: "Retrying without
-- BTF"; spec/bpf/qstack.bpf.c).
local bpf = require "libbpf"
local H = require "helpers"

describe("a queue or stack of an object resized before load", function()
  it("gives raw bytes rather than raising on a definition type that no longer fits", function()
    local obj <close> = assert(bpf.open(H.obj("qstack")))
    for _, name in ipairs{"jobs_q", "jobs_s"} do
      assert(obj.maps[name]:set_value_size(32))
    end
    assert(obj:load())
    for _, name in ipairs{"jobs_q", "jobs_s"} do
      local m = obj.maps[name]
      assert.equal(32, m.value_size)
      local bytes = string.pack("I4I4I8c16", 9, 1, 9000, "resized")
      assert.is_true(m:push(bytes))
      assert.equal(bytes, m:peek())
      assert.equal(bytes, m:pop())
      assert.is_nil(m:pop())
    end
  end)
end)
