-- Objects in other loaders' ELF conventions (iproute2's struct bpf_elf_map,
-- the old struct bpf_map_def), built from spec/bpf/legacy/ without -g.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local LEGACY = H.bpfdir .. "legacy/"
local GLOBAL_PIN = "/sys/fs/bpf/tc/globals/lbpf_spec_shared"
local FUZZ_ROOT = "/sys/fs/bpf/lbpf_spec_legacy_fuzz"
local PKT = string.rep("\0", 64)
local EINVAL, EOPNOTSUPP = 22, 95

-- BPF fds (maps, programs, links) of this process: the ones a leak would
-- leave. (H.fd_count also sees the pipes of its own io.popen, which makes it
-- jitter by one now and then.)
local function bpf_fd_count()
  local p = io.popen("find /proc/" .. H.pid() .. "/fd -lname 'anon_inode:bpf*' 2>/dev/null | wc -l")
  local n = tonumber(p:read("l"))
  p:close()
  return n
end

local function legacy(name) return LEGACY .. name .. ".o" end

local function exists(path) -- pins cannot be open()ed: ask test(1)
  return os.execute("test -e " .. path) == true
end

local function remove_pins()
  os.remove(GLOBAL_PIN)
  os.execute("rm -rf " .. FUZZ_ROOT)
end

describe("an iproute2-convention object", function()
  before_each(remove_pins)
  after_each(remove_pins)

  it("opens with its maps and programs typed as the section names say", function()
    local obj <close> = assert(bpf.open(legacy("iproute2_counters")))
    assert.equal("iproute2", obj.format)
    assert.equal("iproute2_counters", obj.name)
    assert.matches("^libbpf.object%(iproute2_counters, iproute2, not loaded, 3 maps, 2 programs%)$",
                   tostring(obj))
    local cls, xdp, shared = obj.maps.cls_counts, obj.maps.xdp_lengths, obj.maps.lbpf_spec_shared
    assert.same({"array", 4, 8, 2}, {cls.type, cls.key_size, cls.value_size, cls.max_entries})
    assert.same({"hash", 4, 8, 64}, {xdp.type, xdp.key_size, xdp.value_size, xdp.max_entries})
    assert.same({"array", 4, 8, 2}, {shared.type, shared.key_size, shared.value_size, shared.max_entries})
    assert.equal(-1, cls.fd)
    assert.same({"sched_cls", "classifier"}, {obj.progs.cls_count.type, obj.progs.cls_count.section})
    assert.same({"xdp", "xdp"}, {obj.progs.xdp_count.type, obj.progs.xdp_count.section})
    assert.equal(-1, obj.progs.cls_count.fd)
  end)

  it("lists its ELF sections before load", function()
    local obj <close> = assert(bpf.open(legacy("iproute2_counters")))
    local secs, format = obj:sections()
    assert.equal("iproute2", format)
    local by = {}
    for _, s in ipairs(secs) do by[s.name] = s end
    assert.same({"progbits", 108}, {by.maps.type, by.maps.size}) -- 3 x 36-byte bpf_elf_map
    assert.equal("progbits", by.classifier.type)
    assert.equal(0, by.classifier.size % 8)
    assert.is_true(by.classifier.size > 0)
    assert.equal("rel", by[".relclassifier"].type)
    assert.equal(4, by.license.size)
    assert.is_nil(by[".BTF"]) -- built without -g
  end)

  it("lists the sections of a libbpf object too", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    local secs, format = obj:sections()
    assert.equal("libbpf", format)
    local names = {}
    for _, s in ipairs(secs) do names[s.name] = s.type end
    assert.equal("progbits", names[".maps"])
    assert.equal("progbits", names[".BTF"])
  end)

  it("counts into its maps through the patched relocations", function()
    local obj <close> = assert(bpf.open(legacy("iproute2_counters")))
    assert(obj:load())
    assert.is_true(obj.loaded)
    assert.is_true(obj.maps.cls_counts.fd >= 0)
    assert.is_true(obj.progs.xdp_count.fd >= 0)
    local r = assert(obj.progs.cls_count:test_run{data = PKT, ["repeat"] = 3})
    assert.equal(0, r.retval) -- TC_ACT_OK
    assert.equal(3, obj.maps.cls_counts[0])
    assert.equal(3 * #PKT, obj.maps.cls_counts[1])
    r = assert(obj.progs.xdp_count:test_run{data = PKT, ["repeat"] = 5})
    assert.equal(2, r.retval) -- XDP_PASS
    assert.equal(5, obj.maps.xdp_lengths[#PKT])
    assert.is_nil(obj.maps.xdp_lengths[#PKT + 1])
    assert.same({3, 5}, {obj.maps.lbpf_spec_shared[0], obj.maps.lbpf_spec_shared[1]})
  end)

  it("pins a pinning=2 map in the global namespace and a second load reuses it", function()
    local first <close> = assert(bpf.open(legacy("iproute2_counters")))
    assert(first:load())
    assert.is_true(exists(GLOBAL_PIN))
    first.maps.lbpf_spec_shared[0] = 40
    local second <close> = assert(bpf.open_buffer(H.read(legacy("iproute2_counters")), {name = "again"}))
    assert(second:load())
    assert.equal(40, second.maps.lbpf_spec_shared[0])
    assert(second.progs.cls_count:test_run{data = PKT, ["repeat"] = 2})
    assert.equal(42, first.maps.lbpf_spec_shared[0])
    assert.equal(first.maps.lbpf_spec_shared:info().id, second.maps.lbpf_spec_shared:info().id)
    -- maps that are not pinned are each object's own
    assert.equal(0, first.maps.cls_counts[0])
    assert.equal(2, second.maps.cls_counts[0])
  end)

  it("refuses an incompatible pinned map, naming the map and the mismatch", function()
    local first <close> = assert(bpf.open(legacy("iproute2_counters")))
    assert(first:load())
    H.gc()
    local before = bpf_fd_count()
    local other = assert(bpf.open(legacy("iproute2_conflict")))
    local ok, msg, code = other:load()
    assert.is_nil(ok)
    assert.matches("map 'lbpf_spec_shared'", msg, 1, true)
    assert.matches("value_size is 8 there, 4 in the object", msg, 1, true)
    assert.equal(22, code)
    assert.is_false(other.loaded)
    other:close()
    H.gc()
    assert.equal(before, bpf_fd_count())
    assert.is_true(exists(GLOBAL_PIN)) -- the pin of the first object stays
  end)

  it("loads with the type prog:set_type gives, keeping the verifier log of a refusal", function()
    local obj <close> = assert(bpf.open(legacy("iproute2_counters")))
    H.gc()
    local before = bpf_fd_count()
    -- reads skb->len, a 4-byte context access perf_event programs may not make
    obj.progs.cls_count:set_type("perf_event")
    assert.equal("perf_event", obj.progs.cls_count.type)
    local ok, msg, code = obj:load()
    assert.is_nil(ok)
    assert.matches("load 'cls_count' (section 'classifier') failed", msg, 1, true)
    assert.equal(13, code) -- EACCES, the verifier's own errno
    assert.matches("invalid bpf_context access", msg, 1, true) -- the log's tail
    assert.matches("invalid bpf_context access", obj.progs.cls_count:log(), 1, true)
    assert.equal(before, bpf_fd_count()) -- maps of the failed load are closed
    assert.is_false(exists(GLOBAL_PIN)) -- and the pin it made is gone
    obj.progs.cls_count:set_type("sched_cls")
    assert(obj:load())
    assert.equal(0, obj.progs.cls_count:test_run{data = PKT}.retval)
    assert.equal(1, obj.maps.cls_counts[0])
    assert.has_error(function() obj.progs.cls_count:set_type("xdp") end)
  end)

  it("closes every fd it created when closed", function()
    H.gc()
    local before = bpf_fd_count()
    local obj = assert(bpf.open(legacy("iproute2_counters")))
    assert(obj:load())
    assert.equal(before + 5, bpf_fd_count()) -- 3 maps, 2 programs
    local m = obj.maps.cls_counts
    obj:close()
    H.gc()
    assert.equal(before, bpf_fd_count())
    assert.has_error(function() return m[0] end, "libbpf.map: object is closed")
  end)
end)

describe("attaching the programs of an iproute2-convention object", function()
  -- other programs on the machine use lo too: an odd payload size makes our
  -- packets the ones of this length (UDP/IPv4/Ethernet, as XDP sees them)
  local PAYLOAD = string.rep("x", 333)
  local UDP_LEN = 14 + 20 + 8 + #PAYLOAD

  before_each(remove_pins)
  after_each(remove_pins)

  local receiver = H.udp_receiver

  local function send_udp(r, port, n)
    H.send_udp(port, n, PAYLOAD)
    H.drain_udp(r, n)
  end

  local function qdiscs() return H.qdiscs("lo") end

  for _, opts in ipairs{false, {mode = "skb"}} do
    local how = opts and "in skb mode (netlink)" or "as a bpf_link"
    it("counts UDP packets on lo with its xdp program " .. how .. " until destroyed", function()
      H.gc()
      local before = H.fd_count()
      local r, port = receiver()
      local obj = assert(bpf.open(legacy("iproute2_counters")))
      finally(function() obj:close(); r:close() end)
      assert(obj:load())
      local link = assert(obj.progs.xdp_count:attach_xdp("lo", opts or nil))
      assert.matches("xdp lo", tostring(link))
      send_udp(r, port, 5)
      assert.equal(5, obj.maps.xdp_lengths[UDP_LEN])
      assert(link:destroy())
      assert.is_true(link.destroyed)
      send_udp(r, port, 3)
      assert.equal(5, obj.maps.xdp_lengths[UDP_LEN])
      r:close()
      obj:close()
      H.gc()
      assert.equal(before, H.fd_count())
    end)
  end

  it("counts packets on lo ingress with its classifier and removes the clsact qdisc after", function()
    assert.is_nil(qdiscs():match("clsact"), "lo already has a clsact qdisc")
    H.gc()
    local before = H.fd_count()
    local r, port = receiver()
    local obj = assert(bpf.open(legacy("iproute2_counters")))
    local attached
    finally(function()
      obj:close(); r:close()
      if attached then os.execute("tc qdisc del dev lo clsact 2>/dev/null") end
    end)
    assert(obj:load())
    local link = assert(obj.progs.cls_count:attach_tc{ifname = "lo", hook = "ingress"})
    attached = true
    assert.matches("tc lo ingress", tostring(link))
    assert.matches("clsact", qdiscs())
    send_udp(r, port, 4)
    assert(link:destroy())
    local n = obj.maps.cls_counts[0]
    assert.is_true(n >= 4, "packets: " .. n) -- and whatever else lo carried
    assert.is_nil(qdiscs():match("clsact"))
    attached = false
    send_udp(r, port, 2)
    assert.equal(n, obj.maps.cls_counts[0])
    r:close()
    obj:close()
    H.gc()
    assert.equal(before, H.fd_count())
  end)

  it("says the program's section does not tell where to attach", function()
    local obj <close> = assert(bpf.open(legacy("iproute2_counters")))
    assert(obj:load())
    local link, msg, code = obj.progs.xdp_count:attach()
    assert.is_nil(link)
    assert.matches("attach 'xdp_count' failed: section 'xdp' does not say where to attach", msg, 1, true)
    assert.equal(95, code) -- EOPNOTSUPP
  end)

  -- slots of `counts` in legacy/iproute2_attach.c
  local TRACEPOINT, RAW_TRACEPOINT, CGROUP, SOCKET, PERF = 0, 1, 2, 3, 4

  it("attaches its tracepoint sections with obj:attach() and skips the others", function()
    H.gc()
    local before = H.fd_count()
    local obj = assert(bpf.open(legacy("iproute2_attach")))
    finally(function() obj:close() end)
    assert(obj:load())
    local links = assert(obj:attach())
    local names = {}
    for name in pairs(links) do names[#names + 1] = name end
    table.sort(names)
    assert.same({"raw_exec", "tp_exec"}, names)
    assert.matches("tracepoint/sched/sched_process_exec", tostring(links.tp_exec), 1, true)
    assert(os.execute("/bin/true"))
    assert.equal("perf_event", links.tp_exec:info().type)
    assert.equal("raw_tracepoint", links.raw_exec:info().type)
    for _, l in pairs(links) do assert(l:destroy()) end
    -- read after destroy: execs anywhere on the machine count while attached
    local tp, raw = obj.maps.counts[TRACEPOINT], obj.maps.counts[RAW_TRACEPOINT]
    assert.is_true(tp >= 2 and raw >= 2, ("runs: %d, %d"):format(tp, raw)) -- sh, true
    assert(os.execute("/bin/true"))
    assert.same({tp, raw}, {obj.maps.counts[TRACEPOINT], obj.maps.counts[RAW_TRACEPOINT]})
    -- and one by one with prog:attach()
    local link = assert(obj.progs.tp_exec:attach())
    assert(os.execute("/bin/true"))
    assert.is_true(obj.maps.counts[TRACEPOINT] > tp)
    link:destroy()
    obj:close()
    H.gc()
    assert.equal(before, H.fd_count())
  end)

  it("runs its socket filter on one UDP socket until destroyed", function()
    local r, port = receiver()
    finally(function() r:close() end)
    local obj <close> = assert(bpf.open(legacy("iproute2_attach")))
    assert(obj:load())
    local fd = math.tointeger(r:getfd())
    local link = assert(obj.progs.sock_count:attach_socket(fd))
    send_udp(r, port, 4)
    assert.equal(4, obj.maps.counts[SOCKET])
    assert(link:destroy())
    send_udp(r, port, 2)
    assert.equal(4, obj.maps.counts[SOCKET])
  end)

  it("attaches its cgroup/skb program to a cgroup with the hook given as an option", function()
    local cg = H.make_cgroup("legacy")
    local r, port = receiver()
    local obj = assert(bpf.open(legacy("iproute2_attach")))
    finally(function()
      obj:close()                         -- detaches before the cgroup goes
      H.remove_cgroup(cg)
      r:close()
    end)
    assert(obj:load())
    assert.error_matches(function() obj.progs.cg_count:attach_cgroup(cg) end,
      "needs {attach_type = \"ingress\" | \"egress\"}", 1, true)
    local link = assert(obj.progs.cg_count:attach_cgroup(cg, {attach_type = "egress"}))
    assert.equal("cgroup", link:info().type)
    assert(os.execute(("bash -c 'echo $$ > %s/cgroup.procs && for i in 1 2 3; do " ..
      "echo hi > /dev/udp/127.0.0.1/%d; done'"):format(cg, port)))
    for _ = 1, 3 do assert(r:receive()) end
    assert.equal(3, obj.maps.counts[CGROUP])
    link:destroy()
  end)

  it("counts cpu-clock samples with its perf_event program", function()
    local obj <close> = assert(bpf.open(legacy("iproute2_attach")))
    assert(obj:load())
    local links = assert(obj.progs.perf_count:attach_perf_event{
      type = "software", config = "cpu-clock", sample_freq = 1000, pid = H.pid()})
    finally(function() for _, l in ipairs(links) do l:destroy() end end)
    assert.equal(bpf.num_possible_cpus(), #links)
    local t = os.clock()
    while os.clock() - t < 0.3 do end
    for _, l in ipairs(links) do l:destroy() end
    local n = obj.maps.counts[PERF]
    assert.is_true(n > 100, "samples: " .. n)
    t = os.clock()
    while os.clock() - t < 0.1 do end
    assert.equal(n, obj.maps.counts[PERF])
  end)

  it("raises for attach kinds that need a libbpf program", function()
    local obj <close> = assert(bpf.open(legacy("iproute2_counters")))
    assert(obj:load())
    assert.error_matches(function() obj.progs.xdp_count:attach_iter() end,
      "program 'xdp_count' has no libbpf handle (it comes from a iproute2 object)", 1, true)
  end)
end)

describe("a bpf_map_def-convention object", function()
  it("loads a 5-field map definition and a socket filter with its kernel version", function()
    local obj <close> = assert(bpf.open(legacy("mapdef_socket")))
    assert.equal("bpf_map_def", obj.format)
    local m = obj.maps.sock_counts
    assert.same({"array", 4, 8, 1}, {m.type, m.key_size, m.value_size, m.max_entries})
    assert.same({"socket_filter", "socket"}, {obj.progs.sock_count.type, obj.progs.sock_count.section})
    local by = {}
    for _, s in ipairs((obj:sections())) do by[s.name] = s end
    assert.equal(20, by.maps.size)
    assert.equal(4, by.version.size)
    assert(obj:load())
    assert(obj.progs.sock_count:test_run{data = PKT, ["repeat"] = 2})
    assert.equal(2 * (#PKT - 14), m[0]) -- skb->len after the Ethernet header
  end)
end)

describe("bad legacy input", function()
  after_each(remove_pins)

  local function open_fails(path_or_bytes, pattern, errno, buffer)
    H.gc()
    local before = bpf_fd_count()
    local obj, msg, code
    if buffer then
      obj, msg, code = bpf.open_buffer(path_or_bytes)
    else
      obj, msg, code = bpf.open(path_or_bytes)
    end
    assert.is_nil(obj)
    assert.matches(pattern, msg, 1, true)
    assert.equal(errno, code)
    H.gc()
    assert.equal(before, bpf_fd_count())
    return msg
  end

  it("names the maps section whose size fits no layout", function()
    open_fails(legacy("corrupt_maps"),
      "section 'maps': 37 bytes for 1 map symbols match no known layout", EINVAL)
  end)

  it("names the relocation section and the missing symbol", function()
    open_fails(legacy("missing_symbol"),
      "section '.relclassifier': relocation to missing symbol 'missing_map'", EINVAL)
  end)

  it("names a code section whose name implies no program type", function()
    open_fails(legacy("unknown_section"), "section 'frobnicate': unknown program type",
               EOPNOTSUPP)
  end)

  it("gives libbpf's word on an unknown section name to the bpf.set_print printer", function()
    -- found by the ELF fuzzer: the legacy parser asks libbpf for the
    -- section's type outside a print frame, so what libbpf says about the
    -- name went to stderr past the printer
    local got = {}
    bpf.set_print(function(level, msg) got[#got + 1] = level .. " " .. msg end, "debug")
    local ok, obj, msg = pcall(bpf.open, legacy("unknown_section"))
    bpf.set_print(function() end)
    assert.is_true(ok, obj)
    assert.is_nil(obj)
    assert.matches("section 'frobnicate': unknown program type", msg, 1, true)
    assert.matches("debug libbpf: failed to guess program type from ELF section 'frobnicate'",
                   table.concat(got, "\n"), 1, true)
  end)

  it("says where a truncated ELF is cut", function()
    local bytes = H.read(legacy("iproute2_counters"))
    for _, n in ipairs{1, 16, 63, 64, 500, #bytes // 2, #bytes - 1} do
      open_fails(bytes:sub(1, n), "<buffer>", EINVAL, true)
    end
    open_fails(bytes:sub(1, #bytes - 1), "truncated", EINVAL, true)
    open_fails("", "not an ELF", EINVAL, true)
  end)

  it("names the map the kernel refuses to create, leaking no fd", function()
    local bytes = H.read(legacy("iproute2_counters"))
    local obj = assert(bpf.open_buffer(bytes))
    local maps_off
    for _, s in ipairs((obj:sections())) do
      if s.name == "maps" then maps_off = s end
    end
    obj:close()
    H.gc()
    -- find the maps section's file offset from the ELF section header table
    local shoff = string.unpack("<I8", bytes, 0x28 + 1)
    local shentsize = string.unpack("<I2", bytes, 0x3a + 1)
    local offset = string.unpack("<I8", bytes, shoff + maps_off.index * shentsize + 0x18 + 1)
    -- cls_counts is the first definition: make its type unknown to the kernel
    local bad = bytes:sub(1, offset) .. string.pack("<I4", 9999) .. bytes:sub(offset + 5)
    H.gc()
    local before = bpf_fd_count()
    obj = assert(bpf.open_buffer(bad))
    assert.are_not.equal("array", obj.maps.cls_counts.type)
    local ok, msg, code = obj:load()
    assert.is_nil(ok)
    assert.matches("map 'cls_counts': create (type 9999", msg, 1, true)
    assert.equal(22, code)
    obj:close()
    H.gc()
    assert.equal(before, bpf_fd_count())
  end)

  it("survives random corruption of an object without crashing or leaking fds", function()
    local bytes = H.read(legacy("iproute2_counters"))
    H.gc()
    local before = bpf_fd_count()
    math.randomseed(8)
    local opened, loaded = 0, 0
    for _ = 1, 300 do
      local t = {string.byte(bytes, 1, -1)}
      for _ = 1, math.random(1, 4) do
        local i = math.random(1, #t)
        t[i] = t[i] ~ (1 << math.random(0, 7))
      end
      local obj = bpf.open_buffer(string.char(table.unpack(t)), {pin_root_path = FUZZ_ROOT})
      if obj then
        opened = opened + 1
        if obj:load() then loaded = loaded + 1 end
        obj:close()
        H.gc()
      end
    end
    H.gc()
    assert.equal(before, bpf_fd_count())
    assert.is_true(opened > 0 and loaded > 0)
  end)
end)
