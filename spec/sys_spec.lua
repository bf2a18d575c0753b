-- The system view (bpf.progs/maps/links, handles by id or pin), what the
-- kernel supports (bpf.probe/features) and BTF introspection.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local function by_id(list, id)
  for _, v in ipairs(list) do if v.id == id then return v end end
end

local function loaded()
  local obj = assert(bpf.open(H.obj("attach")))
  assert(obj:load())
  return obj
end

describe("the system view", function()
  it("bpf.progs() lists the loaded programs by name, with their maps", function()
    local obj <close> = loaded()
    local mine = {}
    for _, p in ipairs(assert(bpf.progs())) do mine[p.name] = p end
    for _, name in ipairs{"on_perf", "xdp_udp", "tc_udp", "cg_egress", "sock_count", "dump_task"} do
      assert.truthy(mine[name], name .. " not listed")
    end
    assert.equal("xdp", mine.xdp_udp.type)
    assert.equal("sched_cls", mine.tc_udp.type)
    assert.matches("^%x+$", mine.xdp_udp.tag)
    assert.equal(16, #mine.xdp_udp.tag)
    -- xdp_udp uses `settings` and `counts`: their ids are among its map ids
    local counts_id = obj.maps.counts:info().id
    local found = false
    for _, id in ipairs(mine.xdp_udp.map_ids) do found = found or id == counts_id end
    assert.is_true(found)
    obj:close()
    assert.is_nil(by_id(bpf.progs(), mine.xdp_udp.id)) -- unloaded with its object
  end)

  it("bpf.maps() lists the object's maps with their shapes", function()
    local obj <close> = loaded()
    local m = by_id(assert(bpf.maps()), obj.maps.counts:info().id)
    assert.truthy(m)
    assert.same({"counts", "array", 4, 8, 16},
      {m.name, m.type, m.key_size, m.value_size, m.max_entries})
  end)

  it("bpf.links() lists a link; link_from_id and link_from_pinned open it", function()
    local obj <close> = loaded()
    local link = assert(obj.progs.lookup_count:attach_netns())
    local info = link:info()
    local l = by_id(assert(bpf.links()), info.id)
    assert.truthy(l)
    assert.equal("netns", l.type)
    assert.equal("lookup_count", by_id(bpf.progs(), l.prog_id).name)
    local p = io.popen("readlink /proc/" .. H.pid() .. "/ns/net")
    assert.equal(p:read("l"), ("net:[%d]"):format(l.netns_ino))   -- this process's netns
    p:close()

    local again = assert(bpf.link_from_id(info.id))
    assert.equal(info.id, again:info().id)
    again:destroy() -- closes our fd only: the object's link stays
    assert.truthy(by_id(bpf.links(), info.id))

    local pin = "/sys/fs/bpf/lua_libbpf_sys_spec_" .. H.pid()
    finally(function() os.remove(pin) end)
    assert(link:pin(pin))
    local pinned = assert(bpf.link_from_pinned(pin))
    assert.equal(info.id, pinned:info().id)
    assert.matches("pinned " .. pin, tostring(pinned))
    pinned:destroy()
    assert(link:unpin())
    link:destroy()
    assert.is_nil(by_id(bpf.links(), info.id))

    local none, err, code = bpf.link_from_id(0x7ffffff0)
    assert.is_nil(none)
    assert.matches("link id %d+: No such file or directory", err)
    assert.equal(2, code)
    none, err = bpf.link_from_pinned("/sys/fs/bpf/no_such_pin")
    assert.is_nil(none)
    assert.matches("opening pinned link '/sys/fs/bpf/no_such_pin' failed", err)
  end)

  it("bpf.prog_from_id() gives a program handle that runs", function()
    local obj <close> = loaded()
    assert.is_true(obj.progs.xdp_udp.fd >= 0)
    local id = 0
    for _, p in ipairs(bpf.progs()) do
      if p.name == "xdp_udp" and p.id > id then id = p.id end
    end
    local p = assert(bpf.prog_from_id(id))
    assert.equal("xdp_udp", p.name)
    assert.equal("xdp", p.type)
    -- XDP_PASS (2) for a packet that is not ours
    assert.equal(2, assert(p:test_run{data = string.rep("\0", 64)}).retval)
  end)
end)

describe("kernel features", function()
  it("bpf.probe tells attach kinds, program and map types, helpers", function()
    assert.is_true(bpf.probe("tracepoint"))
    assert.is_true(bpf.probe("uprobe"))
    assert.is_true(bpf.probe("perf_event"))
    assert.is_true(bpf.probe("xdp", "prog"))
    assert.is_true(bpf.probe("ringbuf", "map"))
    assert.is_true(bpf.probe("bpf_redirect", "helper", "xdp"))
    local ok, why = bpf.probe("no_such_helper_x", "helper")
    assert.is_false(ok)
    assert.matches("unknown to this kernel", why)
    -- kprobes: the answer matches the kernel's own view of its PMUs
    local pmu = io.open("/sys/bus/event_source/devices/kprobe")
    if pmu then pmu:close() end
    ok, why = bpf.probe("kprobe")
    if not pmu then
      assert.is_false(ok)
      assert.matches("CONFIG_KPROBES", why)
    end
    assert.error_matches(function() bpf.probe("nonsense") end, "unknown attach kind 'nonsense'")
    assert.error_matches(function() bpf.probe("nonsense", "map") end, "unknown map type 'nonsense'")
  end)

  it("bpf.features() answers every kind at once, consistently with bpf.probe", function()
    local f = bpf.features()
    assert.is_true(f.progs.xdp)
    assert.is_true(f.maps.hash)
    assert.equal(bpf.probe("kprobe"), f.attach.kprobe)
    assert.equal(bpf.probe("fentry"), f.attach.fentry)
    assert.is_true(f.attach.iter)
  end)
end)

describe("BTF introspection", function()
  it("obj:btf():type('struct event') lists the members of a spec struct", function()
    local obj <close> = assert(bpf.open(H.obj("attach")))
    local btf = assert(obj:btf())
    assert.matches("^libbpf.btf%(attach, %d+ types%)$", tostring(btf))
    local t = assert(btf:type("struct event"))
    assert.equal("struct", t.kind)
    assert.equal("event", t.name)
    assert.equal(40, t.size)
    local got = {}
    for _, m in ipairs(t.members) do got[#got + 1] = {m.name, m.type, m.offset, m.bits} end
    assert.same({{"pid", "__u32", 0, 0}, {"comm", "char[16]", 4, 0},
                 {"ts", "__u64", 24, 0}, {"flags", "__u8", 32, 3}}, got)
    assert.is_nil(btf:type("struct no_such_struct"))
    obj:close()
    assert.error_matches(function() btf:type("struct event") end, "object is closed")
  end)

  it("bpf.btf_vmlinux() describes kernel structs and enums", function()
    local v <close> = assert(bpf.btf_vmlinux())
    local t = assert(v:type("struct task_struct"))
    assert.is_true(t.size > 1000)
    local names = {}
    for _, m in ipairs(t.members) do names[m.name] = m end
    assert.equal("int", names.pid.type == "pid_t" and "int" or names.pid.type)
    assert.matches("^char%[%d+%]$", names.comm.type)
    local e = assert(v:type("enum bpf_map_type"))
    assert.equal("BPF_MAP_TYPE_HASH", e.values[2].name)
    assert.equal(1, e.values[2].value)
  end)
end)

describe("make mounts", function()
  it("mounts bpffs for root only (mode 0700, not bpffs' default 1777)", function()
    -- in a mount namespace of its own, with every bpffs on /sys/fs/bpf
    -- unmounted there first (the host's and this run's stay as they are)
    local p = io.popen("unshare --mount --propagation private -- sh -c '" ..
      "while mountpoint -q /sys/fs/bpf; do umount /sys/fs/bpf || exit 1; done; " ..
      "make --no-print-directory -s mounts && stat -c %a /sys/fs/bpf && stat -f -c %T /sys/fs/bpf' 2>&1")
    local out = p:read("a")
    p:close()
    assert.equal("1700\nbpf_fs\n", out)       -- the kernel always adds the sticky bit
  end)
end)
