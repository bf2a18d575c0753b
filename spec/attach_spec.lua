-- Attach kinds beyond tracepoints: each spec triggers real events on the
-- real kernel and reads what the program counted (spec/bpf/attach.bpf.c).
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

-- slots of the `counts` map (enum slot in attach.bpf.c)
local PERF, XDP, TC, UPROBE, USDT, USDT_ARG = 0, 1, 2, 3, 4, 5
local CGROUP, SOCKET, SK_LOOKUP = 6, 7, 8
local ENOTSOCK, EOPNOTSUPP = 88, 95

local function load(port)
  local obj = assert(bpf.open(H.obj("attach")))
  assert(obj:load())
  obj.maps.settings[0] = port or 0
  obj.maps.settings[1] = H.pid()
  return obj
end

local function count(obj, slot) return obj.maps.counts[slot] end

local receiver, send_udp, drain, qdiscs = H.udp_receiver, H.send_udp, H.drain_udp, H.qdiscs

describe("attach_perf_event", function()
  it("counts software cpu-clock samples while Lua spins, one link per CPU", function()
    local obj <close> = load()
    local links = assert(obj.progs.on_perf:attach_perf_event{
      type = "software", config = "cpu-clock", sample_freq = 1000})
    assert.equal(bpf.num_possible_cpus(), #links)
    assert.matches("perf_event cpu%-clock", tostring(links[1]))
    local t = os.clock()
    while os.clock() - t < 0.3 do end
    for _, l in ipairs(links) do assert(l:destroy()) end
    -- read after destroy: a sample between the read and destroy would count
    local n = count(obj, PERF)
    -- 1000 Hz for 0.3 s of CPU time: about 300 samples in this process
    assert.is_true(n > 100, "samples: " .. n)
    t = os.clock()
    while os.clock() - t < 0.1 do end
    assert.equal(n, count(obj, PERF))
  end)

  it("attaches on one CPU and to a perf event fd, and rejects unknown events", function()
    local obj <close> = load()
    local l = assert(obj.progs.on_perf:attach_perf_event{config = "cpu-clock", sample_period = 100000, cpu = 0})
    assert.matches("perf_event cpu%-clock", tostring(l))
    -- the program counts this process only: run it on CPU 0 for a while
    local p = io.popen("taskset -p " .. H.pid())
    local mask = p:read("a"):match("affinity mask: (%x+)")
    p:close()
    finally(function() os.execute(("taskset -p %s %d >/dev/null"):format(mask, H.pid())) end)
    assert(os.execute(("taskset -p -c 0 %d >/dev/null"):format(H.pid())))
    H.wait_until(function()
      local t = os.clock()
      while os.clock() - t < 0.05 do end
      return count(obj, PERF) > 0
    end, 5, "a cpu-clock sample of this process on CPU 0")
    assert(l:destroy())
    assert.error_matches(function()
      obj.progs.on_perf:attach_perf_event{config = "no-such-event", sample_freq = 1}
    end, "unknown software event 'no%-such%-event'")
    assert.error_matches(function()
      obj.progs.on_perf:attach_perf_event{config = "cpu-clock"}
    end, "sample_freq or sample_period")
    assert.error_matches(function()
      obj.progs.on_perf:attach_perf_event{config = "cpu-clock", sample_freq = 1, bogus = 1}
    end, "unknown option 'bogus'")
  end)
end)

describe("attach_xdp", function()
  for _, opts in ipairs{false, {mode = "skb"}} do
    local how = opts and "in skb mode (netlink)" or "as a bpf_link"
    it("counts UDP packets to 127.0.0.1 on lo " .. how .. " and stops once destroyed", function()
      local r, port = receiver()
      finally(function() r:close() end)
      local obj <close> = load(port)
      local link = assert(obj.progs.xdp_udp:attach_xdp("lo", opts or nil))
      assert.matches("xdp lo", tostring(link))
      send_udp(port, 5)
      drain(r, 5)
      assert.equal(5, count(obj, XDP))
      assert(link:destroy())
      assert.is_true(link.destroyed)
      send_udp(port, 3)
      drain(r, 3)
      assert.equal(5, count(obj, XDP))
    end)
  end

  it("names a missing interface", function()
    local obj <close> = load()
    assert.error_matches(function() obj.progs.xdp_udp:attach_xdp("nosuchdev0") end,
      "no network interface 'nosuchdev0'")
  end)
end)

describe("attach_tc", function()
  it("counts UDP on lo ingress, then detaches and removes the clsact qdisc it added", function()
    local before = qdiscs("lo")
    assert.is_nil(before:match("clsact"), "lo already has a clsact qdisc: " .. before)
    local r, port = receiver()
    local added
    finally(function()
      r:close()
      if added then os.execute("tc qdisc del dev lo clsact 2>/dev/null") end
    end)
    local obj <close> = load(port)
    local link = assert(obj.progs.tc_udp:attach_tc{ifname = "lo", hook = "ingress"})
    assert.matches("tc lo ingress", tostring(link))
    added = true
    assert.matches("clsact", qdiscs("lo"))
    send_udp(port, 4)
    drain(r, 4)
    assert.equal(4, count(obj, TC))
    assert.equal(-1, link.fd)
    assert.error_matches(function() link:pin("/sys/fs/bpf/x") end, "not a kernel bpf_link")
    assert(link:destroy())
    assert.is_nil(qdiscs("lo"):match("clsact"))
    added = false
    send_udp(port, 2)
    drain(r, 2)
    assert.equal(4, count(obj, TC))
  end)

  it("leaves a clsact qdisc it did not add", function()
    assert(os.execute("tc qdisc add dev lo clsact"))
    finally(function() os.execute("tc qdisc del dev lo clsact 2>/dev/null") end)
    local obj <close> = load()
    local link = assert(obj.progs.tc_udp:attach_tc{ifindex = 1, hook = "egress", priority = 7})
    assert.matches("tc_udp", H.tc_filters("lo", "egress"))
    obj:close() -- closing the object detaches its links
    assert.is_true(link.destroyed)
    assert.matches("clsact", qdiscs("lo"))
    assert.is_nil(H.tc_filters("lo", "egress"):match("tc_udp"))
  end)
end)

describe("attach_uprobe", function()
  it("fires on malloc in libc.so.6", function()
    if os.getenv("LBPF_ASAN") then -- make asan: ASan's malloc replaces libc's, which is never called
      pending("libc.so.6's malloc is not called under ASan: runs in make test")
      return
    end
    local obj <close> = load()
    local l = assert(obj.progs.on_malloc:attach_uprobe{path = "libc.so.6", func = "malloc", pid = H.pid()})
    finally(function() l:destroy() end)
    for _ = 1, 10 do io.open("/proc/self/stat"):close() end -- fopen mallocs its FILE
    assert.is_true(count(obj, UPROBE) >= 10, "malloc calls seen: " .. count(obj, UPROBE))
  end)
end)

describe("attach_usdt", function()
  it("fires on the USDT probe of a test binary, with its argument", function()
    local obj <close> = load()
    local l = assert(obj.progs.on_usdt:attach_usdt{
      path = "spec/usdt/usdt_target", provider = "lua_libbpf", name = "tick"})
    assert.matches("usdt spec/usdt/usdt_target:lua_libbpf:tick", tostring(l))
    local p = assert(io.popen("spec/usdt/usdt_target >/dev/null", "w"))
    p:write("a\nb\nc\n")
    p:close()
    assert.equal(3, count(obj, USDT))
    assert.equal(3, count(obj, USDT_ARG))
  end)

  it("says which probe is missing", function()
    local obj <close> = load()
    local l, err = obj.progs.on_usdt:attach_usdt{
      path = "spec/usdt/usdt_target", provider = "lua_libbpf", name = "nope"}
    assert.is_nil(l)
    assert.matches("usdt spec/usdt/usdt_target:lua_libbpf:nope failed", err)
  end)
end)

describe("attach_cgroup", function()
  it("sees the UDP traffic of a process moved into a cgroup the spec makes", function()
    local cg, r, obj = H.make_cgroup("attach"), nil, nil
    finally(function()
      if obj then obj:close() end         -- detaches before the cgroup goes
      H.remove_cgroup(cg)
      if r then r:close() end
    end)
    local port
    r, port = receiver()
    obj = load(port)
    local link = assert(obj.progs.cg_egress:attach_cgroup(cg))
    -- the Lua process is not in the cgroup: its packets do not count
    send_udp(port, 2)
    drain(r, 2)
    assert.equal(0, count(obj, CGROUP))
    assert(os.execute(("bash -c 'echo $$ > %s/cgroup.procs && for i in 1 2 3; do " ..
      "echo hi > /dev/udp/127.0.0.1/%d; done'"):format(cg, port)))
    drain(r, 3)
    assert.equal(3, count(obj, CGROUP))
    link:destroy()
  end)
end)

describe("attach_socket", function()
  it("runs a socket filter on the packets of one UDP socket until destroyed", function()
    local r, port = receiver()
    finally(function() r:close() end)
    local obj <close> = load(port)
    local fd = math.tointeger(r:getfd())
    local link = assert(obj.progs.sock_count:attach_socket(fd))
    assert.matches("socket fd " .. fd, tostring(link))
    send_udp(port, 4)
    drain(r, 4)
    assert.equal(4, count(obj, SOCKET))
    assert(link:destroy())
    send_udp(port, 2)
    drain(r, 2)
    assert.equal(4, count(obj, SOCKET))
  end)

  it("fails with a message on a fd that is not a socket", function()
    local obj <close> = load()
    local l, err, code = obj.progs.sock_count:attach_socket(0)
    assert.is_nil(l)
    assert.matches("attach 'sock_count' to socket fd 0 failed", err)
    assert.equal(ENOTSOCK, code)
  end)
end)

describe("attach_netns", function()
  it("runs an sk_lookup program for UDP lookups in this network namespace", function()
    local r, port = receiver()
    finally(function() r:close() end)
    local obj <close> = load(port)
    local link = assert(obj.progs.lookup_count:attach_netns())
    send_udp(port, 3)
    drain(r, 3)
    assert.equal(3, count(obj, SK_LOOKUP))
    assert.equal("netns", link:info().type)
    link:destroy()
    send_udp(port, 1)
    drain(r, 1)
    assert.equal(3, count(obj, SK_LOOKUP))
  end)
end)

describe("attach_iter", function()
  it("lists the running lua5.4 process through a task iterator", function()
    local obj <close> = load()
    local link = assert(obj.progs.dump_task:attach_iter())
    local out = assert(link:read())
    assert.matches("\n" .. H.pid() .. " lua5.4\n", "\n" .. out)
    assert.is_true(select(2, out:gsub("\n", "")) > 10) -- kernel threads too
  end)

  it("splits and decodes fixed-size records with link:read{type=, btf=}", function()
    local obj <close> = assert(bpf.open(H.obj("iter_task")))
    assert(obj:load())
    local link = assert(obj.progs.dump_task_recs:attach_iter())
    local size = obj:btf():sizeof("struct task_rec")
    local function mine(recs)
      for _, r in ipairs(recs) do if r.pid == H.pid() then return r end end
    end
    local f = assert(io.open("/proc/" .. H.pid() .. "/stat"))
    local ppid = tonumber(f:read("l"):match("^%d+ %b() %S+ (%d+)"))
    f:close()
    -- the type from the object's BTF (a global of it is there)
    local recs = assert(link:read{type = "struct task_rec"})
    assert.is_true(#recs > 10, "records: " .. #recs)
    local r = assert(mine(recs), "no record of pid " .. H.pid())
    assert.same({pid = H.pid(), ppid = ppid, threads = 1, comm = "lua5.4", kthread = 0, pad = 0}, r)
    for _, k in ipairs(recs) do
      if k.pid == 2 then assert.same("kthreadd", k.comm); assert.equal(1, k.kthread) end
    end
    -- the same record through bpf.cdef of the header the BPF side includes
    local btf = assert(bpf.cdef{file = "spec/bpf/iter_task.h"})
    assert.equal(size, btf:sizeof("struct task_rec"))
    assert.same(r, mine(assert(link:read{type = "struct task_rec", btf = btf})))
    -- the blob is the records back to back
    local blob = assert(link:read())
    assert.equal(0, #blob % size)
    -- bytes beyond the last whole record: the type is not what it writes
    obj.vars.trailer = 5
    local n = #assert(link:read())
    assert.equal(5, n % size)
    local ok, err = pcall(link.read, link, {type = "struct task_rec", btf = btf})
    assert.is_false(ok)
    assert.matches("%d+ bytes are not whole records of 'struct task_rec' %(" .. size
                   .. " bytes each%): 5 bytes left over", err)
    assert.error_matches(function() link:read{btf = btf} end, "btf= needs type=")
    assert.error_matches(function() link:read{type = "struct nope", btf = btf} end,
                         "'struct nope' is not in the given btf")
  end)

  it("walks a map's elements", function()
    local ok, why = bpf.probe("iter_map")
    local iter <close> = assert(bpf.open(H.obj("iter_map")))
    if not ok then -- some kernels refuse to load bpf_map_elem iterators (EPERM): the load says so
      assert.matches("refuses to load a test program", why)
      local loaded, err = iter:load()
      assert.is_nil(loaded)
      assert.matches("load 'dump_counts' failed", err)
      return
    end
    local obj <close> = load()
    obj.maps.counts[3] = 42
    assert(iter:load())
    local link = assert(iter.progs.dump_counts:attach_iter{map = obj.maps.counts})
    local out = assert(link:read())
    local n = select(2, out:gsub("\n", ""))
    assert.equal(16, n)
    assert.matches("\n3=42\n", "\n" .. out)
  end)

  it("reads map= after pid/tid: options that close the map raise instead of naming another", function()
    -- pid/tid's lookup runs the options' __index: were map= read first, its
    -- fd would already be taken when the __index closes the map and a new
    -- map takes that fd number
    local obj <close> = load()
    local m = assert(bpf.map_create{type = "array", key_size = 4, value_size = 4,
                                    max_entries = 1, name = "iter_gone"})
    local fd, other = m.fd, nil
    local opts = setmetatable({map = m}, {__index = function()
      if not other then
        m:close()
        other = assert(bpf.map_create{type = "array", key_size = 4, value_size = 4,
                                        max_entries = 1, name = "iter_other"})
      end
    end})
    finally(function() if other then other:close() end end)
    assert.error_matches(function() obj.progs.dump_task:attach_iter(opts) end, "closed")
    assert.equal(fd, other.fd) -- the fd number was taken again: the case this guards
  end)
end)

describe("hooks this kernel lacks", function()
  it("attach_kprobe names kprobes and the reason", function()
    local obj <close> = load()
    local ok, why = bpf.probe("kprobe")
    local l, err, code = obj.progs.on_kprobe:attach_kprobe{func = "do_nanosleep"}
    if ok then
      assert.truthy(l, err)
    else
      assert.matches("CONFIG_KPROBES", why)
      assert.is_nil(l)
      assert.matches("kprobes are not available: CONFIG_KPROBES is off", err)
      assert.equal(EOPNOTSUPP, code)
    end
  end)

  it("fentry/LSM: a refused load or attach is explained in words", function()
    local obj <close> = assert(bpf.open(H.obj("fentry")))
    local ok, why = bpf.probe("fentry")
    local loaded, err = obj:load()
    if ok then
      assert.truthy(loaded, err)
      assert(obj.progs.on_nanosleep:attach_trace())
    else
      assert.matches("refuses", why)
      assert.is_nil(loaded)
      assert.matches("fentry/fexit/LSM", err)
    end
  end)
end)

describe("attach and destroy", function()
  it("leak no fd across every kind, and the object's close destroys what is left", function()
    local obj = load()
    local r = receiver()
    finally(function()
      obj:close()
      r:close()
      os.execute("tc qdisc del dev lo clsact 2>/dev/null; ip link set dev lo xdpgeneric off")
    end)
    local fd = math.tointeger(r:getfd())
    local function cycle()
      for _, l in ipairs(assert(obj.progs.on_perf:attach_perf_event{sample_freq = 10})) do l:destroy() end
      assert(obj.progs.xdp_udp:attach_xdp("lo", {mode = "skb"})):destroy()
      assert(obj.progs.tc_udp:attach_tc{ifname = "lo"}):destroy()
      assert(obj.progs.sock_count:attach_socket(fd)):destroy()
      assert(obj.progs.lookup_count:attach_netns()):destroy()
      local it = assert(obj.progs.dump_task:attach_iter())
      assert(it:read())
      assert(bpf.link_from_id(it:info().id)):destroy()
      it:destroy()
      local kp = obj.progs.on_kprobe:attach_kprobe{func = "do_nanosleep"} -- an error path too
      if kp then kp:destroy() end
    end
    cycle() -- first use may open lasting fds (libbpf probes, caches)
    H.gc()
    local before = H.fd_count()
    for _ = 1, 3 do cycle() end
    H.gc()
    assert.equal(before, H.fd_count())
    -- left attached: closing the object detaches them, tc removes its qdisc
    local links = {obj.progs.tc_udp:attach_tc{ifname = "lo"}, obj.progs.xdp_udp:attach_xdp("lo", {mode = "skb"}),
                   obj.progs.sock_count:attach_socket(fd)}
    obj:close()
    for _, l in ipairs(links) do assert.is_true(l.destroyed) end
    assert.is_nil(qdiscs("lo"):match("clsact"))
    local p = io.popen("ip link show dev lo")
    assert.is_nil(p:read("a"):match("xdp"))
    p:close()
  end)
end)
