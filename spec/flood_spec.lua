-- A poll ends while a flood outruns its callback: ring and perf buffers
-- deliver the records written when the drain starts, and records written
-- meanwhile wait for the next poll (a tool's -d and stop checks run
-- between polls). The flood is real: each callback calls getpid(), and
-- spec/bpf/flood.bpf.c writes one record per getpid() of this process.
local bpf = require "libbpf"
local H = require "helpers"

-- callbacks a drain that re-read the producer would run before the guard
-- stops it: far more than one pass can hold
local GUARD = 20000

local function flood_obj()
  local obj = assert(bpf.open(H.obj("flood")))
  assert(obj:load())
  obj.maps.target_pid[0] = bpf.getpid()
  assert(obj.progs.on_getpid:attach())
  return obj
end

describe("a poll during a flood", function()
  it("of a ring buffer ends after the records there when it started", function()
    local obj <close> = flood_obj()
    local n, seqs = 0, {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.flood_rb, function(ev)
      n = n + 1
      seqs[#seqs + 1] = ev.seq
      bpf.getpid()                 -- the next record
      if n >= GUARD then return 1 end
    end, {type = "struct rec"}))
    bpf.getpid()                   -- the first record
    local got = assert(rb:poll(1000))
    assert.is_true(got >= 1 and got < 100,
                   ("one poll delivered %d records of the flood"):format(got))
    -- the record each callback made is there for the next poll, none lost
    local more = assert(rb:poll(1000))
    assert.is_true(more >= 1 and more < 100, ("the next poll delivered %d"):format(more))
    for i = 2, #seqs do assert.equal(seqs[i - 1] + 1, seqs[i]) end
  end)

  it("of a perf buffer ends after the samples there when it started", function()
    local obj <close> = flood_obj()
    local n, seqs = 0, {}
    local pb <close> = assert(bpf.perfbuf(obj.maps.flood_pb, {type = "struct rec",
      on_sample = function(_, ev)
        n = n + 1
        seqs[#seqs + 1] = ev.seq
        bpf.getpid()
        if n >= GUARD then return 1 end
      end}))
    bpf.getpid()
    local got = assert(pb:poll(1000))
    assert.is_true(got >= 1 and got < 100,
                   ("one poll delivered %d samples of the flood"):format(got))
    local more = assert(pb:poll(1000))
    assert.is_true(more >= 1 and more < 100, ("the next poll delivered %d"):format(more))
    table.sort(seqs)
    for i = 2, #seqs do assert.equal(seqs[i - 1] + 1, seqs[i]) end
  end)
end)
