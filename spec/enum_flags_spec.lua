-- A flag enum's combination prints as its names joined with `|`
-- (`F_READ|F_APPEND`) wherever enum values are displayed: print(ev) of a
-- record, pretty.map, the REPL's :dump. The decoded values stay integers.
-- Records come from spec/bpf/flags.bpf.c's emit_flags, run by test_run.
local bpf = require "libbpf"
local pretty = require "libbpf.pretty"
local H = require "helpers"

-- test_run emit_flags with one record per {flags, mode, state, sign}
local function emit(obj, rows)
  local v = {}
  for i = 1, 8 do
    local r = rows[i] or {0, 0, 0, 0}
    for j = 1, 4 do v[#v + 1] = r[j] end
  end
  assert(obj.progs.emit_flags:test_run{ctx = string.pack("I4" .. ("I4"):rep(32), #rows, table.unpack(v))})
end

describe("a flag enum", function()
  local obj
  before_each(function()
    obj = assert(bpf.open(H.obj("flags")))
    assert(obj:load())
  end)
  after_each(function() obj:close() end)

  it("prints a combination of its bits as their names joined with |, in records", function()
    local seen = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.flag_events, function(ev) seen[#seen + 1] = ev end,
                                          {type = "struct flag_event"}))
    emit(obj, {
      {4, 8, 1, 1},          -- one flag; ST_RUN; SG_ONE
      {5, 9, 3, 3},          -- two flags; M_ASYNC|M_SYNC (low bit first); 3 of a counting enum; of a signed one
      {0x41, 0x21, 2, 5},    -- leftover bits; ST_WAIT; 5 of the signed enum
      {0, 0, 0, 6},          -- zero: no zero enumerator, then M_NONE; ST_IDLE; 6
      {7, 0x10, 7, 4},       -- exactly F_ALL (an enumerator that is a combination); no named bit; 7
      {0x40, 1, 0, 0},       -- a flag enum's value with no named bit
    })
    assert.equal(6, rb:poll(100))
    local EV = "{n=%d, flags=%s, mode=%s, state=%s, sign=%s, list={F_WRITE, %s}}"
    local function ev(n, flags, mode, state, sign) return EV:format(n, flags, mode, state, sign, flags) end
    assert.equal(ev(0, "F_APPEND", "M_SYNC", "ST_RUN", "SG_ONE"), tostring(seen[1]))
    assert.equal(ev(1, "F_READ|F_APPEND", "M_ASYNC|M_SYNC", "3", "3"), tostring(seen[2]))
    assert.equal(ev(2, "F_READ|0x40", "M_ASYNC|0x20", "ST_WAIT", "5"), tostring(seen[3]))
    assert.equal(ev(3, "0", "M_NONE", "ST_IDLE", "6"), tostring(seen[4]))
    assert.equal(ev(4, "F_ALL", "16", "7", "SG_FOUR"), tostring(seen[5]))
    assert.equal(ev(5, "64", "M_ASYNC", "ST_IDLE", "0"), tostring(seen[6]))
    assert.equal(pretty.record(seen[2]), tostring(seen[2]))
    -- decoded values stay integers: scripts compare them with numbers
    assert.equal(5, seen[2].flags)
    assert.equal(9, seen[2].mode)
    assert.equal(3, seen[2].state)
    assert.equal(0x41, seen[3].flags)
    assert.equal(0, seen[4].flags)
    assert.same({2, 5}, seen[2].list)
  end)

  it("prints the same way as a map key, a map value and a column in pretty.map", function()
    obj.maps.open_modes[1] = 5
    obj.maps.open_modes[2] = 0x42
    obj.maps.open_modes[3] = 2
    obj.maps.by_flags[3] = 30
    obj.maps.by_flags:update("F_APPEND", 40)
    obj.maps.flag_procs[7] = {pid = 7, flags = 6}
    obj.maps.flag_procs[8] = {pid = 8, flags = 0}
    assert.matches("{\n  %[1%] = F_READ|F_APPEND,\n  %[2%] = F_WRITE|0x40,\n  %[3%] = F_WRITE,\n}$",
                   pretty.map(obj.maps.open_modes))
    assert.matches("{\n  %[F_READ|F_WRITE%] = 30,\n  %[F_APPEND%] = 40,\n}$", pretty.map(obj.maps.by_flags))
    assert.matches("\nKEY  pid  flags\n7    7    F_WRITE|F_APPEND\n8    8    0$", pretty.map(obj.maps.flag_procs))
    assert.equal(5, obj.maps.open_modes[1])
    assert.equal("{pid=7, flags=F_WRITE|F_APPEND}", tostring(obj.maps.flag_procs[7]))
  end)
end)

describe("lbpf :dump", function()
  it("shows a flag enum's combinations by name", function()
    local file = os.tmpname()
    local f = assert(io.open(file, "w"))
    f:write(table.concat({
      "obj:load()",
      "obj.maps.open_modes[1] = 5",
      "obj.maps.open_modes[2] = 0x41",
      "obj.maps.flag_procs[3] = {pid = 3, flags = 3}",
      ":dump open_modes",
      ":dump flag_procs",
      "obj.maps.open_modes[1]",
      "",
    }, "\n"))
    f:close()
    local p = io.popen(("lua5.4 lua/lbpf %s < %s 2>&1; echo \"rc=$?\""):format(H.obj("flags"), file))
    local out = p:read("a")
    p:close()
    os.remove(file)
    assert.matches("rc=0\n$", out)
    assert.matches("libbpf.map%(open_modes, hash, key=4 value=4, max=16, fd=%d+%) {\n" ..
                   "  %[1%] = F_READ|F_APPEND,\n  %[2%] = F_READ|0x40,\n}\n", out)
    assert.matches("libbpf.map%(flag_procs, hash, key=4 value=8, max=16, fd=%d+%)\n" ..
                   "KEY  pid  flags\n3    3    F_READ|F_WRITE\n", out)
    -- the value read back is still the integer
    assert.matches("\n5\n%s*rc=0\n$", out)
  end)
end)
