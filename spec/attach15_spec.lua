-- The attach kinds built on libbpf 1.3's APIs (issue 14): tcx and netfilter
-- links on this run's own lo (make test runs in a network namespace of its
-- own), uprobe_multi on spec/umulti/umulti_target. Real programs
-- (spec/bpf/attach15.bpf.c), real packets, real function calls. Built with
-- an older libbpf (make LIBBPF=system on bookworm: 1.1), each method raises
-- "needs libbpf >= 1.3" and bpf.probe says so.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local major, minor = bpf.libbpf_version:match("^(%d+)%.(%d+)")
local function libbpf_at_least(m) return tonumber(major) > 1 or tonumber(minor) >= m end
local new_enough = libbpf_at_least(3)
local built_with = major .. "." .. minor
local TARGET = "spec/umulti/umulti_target"
local ENOENT, ERANGE = 2, 34

local receiver, send_udp, drain = H.udp_receiver, H.send_udp, H.drain_udp

local function load(port)
  local obj = assert(bpf.open(H.obj("attach15")))
  assert(obj:load())
  obj.vars.port = port or 0
  return obj
end

-- what a receiver gets within `secs` (nil when nothing comes)
local function receive(r, secs)
  r:settimeout(secs)
  return (r:receive())
end

-- bpf.links(), by id: the kernel's view of each link
local function link_ids()
  local ids = {}
  for _, l in ipairs(bpf.links()) do ids[l.id] = l end
  return ids
end

if not new_enough then
  describe("with libbpf " .. bpf.libbpf_version, function()
    it("attach_tcx, attach_netfilter, attach_uprobe_multi, attach_sockmap raise 'needs libbpf >= 1.3' (1.5)", function()
      -- not loaded: libbpf 1.1 does not know these sections; the version
      -- is what the methods check first
      local obj <close> = assert(bpf.open(H.obj("attach15")))
      local calls = {
        attach_tcx = {obj.progs.tcx_count, {ifname = "lo"}},
        attach_netfilter = {obj.progs.nf_count, {hook = "local_in"}},
        attach_uprobe_multi = {obj.progs.umulti_count, {path = TARGET, pattern = "umulti_fn_*"}},
        attach_sockmap = {obj.progs.sk_verdict, obj.maps.socks},
      }
      local function needs(name) return name:match("sockmap") and "1.5" or "1.3" end
      for name, c in pairs(calls) do
        local ok, err = pcall(c[1][name], c[1], c[2])
        assert.is_false(ok)
        assert.matches(name .. " needs libbpf >= " .. needs(name) .. " (built with " .. built_with .. ")",
          err, 1, true)
      end
      local attach = bpf.features().attach
      for _, kind in ipairs{"tcx", "netfilter", "uprobe_multi", "sockmap"} do
        assert.is_false(attach[kind])
        local ok, why = bpf.probe(kind)
        assert.is_false(ok)
        assert.equal("needs libbpf >= " .. needs(kind) .. " (built with " .. built_with .. ")", why)
      end
    end)
  end)
  return
end

describe("bpf.probe and bpf.features", function()
  it("report tcx, netfilter, uprobe_multi and sockmap links on this kernel (6.18)", function()
    local attach = bpf.features().attach
    for _, kind in ipairs{"tcx", "netfilter", "uprobe_multi", libbpf_at_least(5) and "sockmap" or nil} do
      assert.is_true(bpf.probe(kind), kind)
      assert.is_true(attach[kind], kind)
    end
  end)
end)

describe("attach_tcx", function()
  it("counts UDP on lo ingress as a bpf_link, with no qdisc, and stops once destroyed", function()
    local r, port = receiver()
    finally(function() r:close() end)
    local obj <close> = load(port)
    local link = assert(obj.progs.tcx_count:attach_tcx{ifname = "lo"})
    assert.matches("tcx lo ingress", tostring(link))
    assert.is_true(link.fd >= 0)
    local info = assert(link:info())
    assert.equal("tcx", info.type)
    local kernel = link_ids()[info.id]
    assert.equal("tcx", kernel.type)
    assert.equal("tcx_ingress", kernel.attach_type)
    assert.equal(1, kernel.ifindex)
    assert.is_nil(H.qdiscs("lo"):match("clsact"))
    send_udp(port, 4)
    drain(r, 4)
    assert.equal(4, obj.vars.tcx_hits)
    assert(link:destroy())
    assert.is_nil(link_ids()[info.id])
    send_udp(port, 2)
    drain(r, 2)
    assert.equal(4, obj.vars.tcx_hits)
  end)

  it("attaches a program at the hook it is given (egress), by ifindex", function()
    local r, port = receiver()
    finally(function() r:close() end)
    local obj <close> = load(port)
    -- tcx_count's section says ingress: the hook option wins
    local link = assert(obj.progs.tcx_count:attach_tcx{ifindex = 1, hook = "egress"})
    assert.matches("tcx lo egress", tostring(link))
    assert.equal("tcx_egress", link_ids()[assert(link:info()).id].attach_type)
    send_udp(port, 3)
    drain(r, 3)
    assert.equal(3, obj.vars.tcx_hits)
    obj:close() -- closing the object destroys its links
    assert.is_true(link.destroyed)
  end)

  it("is detached when the process that attached it exits", function()
    local r, port = receiver()
    local obj <close> = load(port)
    -- the child attaches this process's program (by id): the link is the
    -- child's only, the counter stays readable here
    local prog_id
    for _, p in ipairs(bpf.progs()) do
      if p.name == "tcx_count" and (not prog_id or p.id > prog_id) then prog_id = p.id end
    end
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local bpf = require "libbpf"
      local p = assert(bpf.prog_from_id(tonumber(arg[1])))
      local link = assert(p:attach_tcx{ifname = "lo"})
      print("ready " .. assert(link:info()).id)
      io.stdout:flush()
      io.read("l") -- until killed
    ]])
    f:close()
    local child = H.spawn("lua5.4 " .. script .. " " .. prog_id)
    finally(function()
      child.cleanup()
      os.remove(script)
      r:close()
    end)
    child:wait_output("ready ")
    local link_id = tonumber(child.output():match("ready (%d+)"))
    assert.equal("tcx", link_ids()[link_id].type)
    send_udp(port, 3)
    drain(r, 3)
    assert.equal(3, obj.vars.tcx_hits)
    child:signal("KILL")
    assert.equal(137, child:finish())
    H.wait_until(function() return not link_ids()[link_id] end, 5,
                 "link " .. link_id .. " to go with its process")
    send_udp(port, 2)
    drain(r, 2)
    assert.equal(3, obj.vars.tcx_hits)
  end)

  it("orders programs with before/after: a link, a program, an id, or true", function()
    local r, port = receiver()
    finally(function() r:close() end)
    local obj <close> = load(port)
    local count, drop = obj.progs.tcx_count, obj.progs.tcx_drop
    local counter = assert(count:attach_tcx{ifname = "lo"})
    local counter_prog_id = assert(counter:info()).prog_id
    local function run(n) -- -> counted, dropped, received
      local c, d = obj.vars.tcx_hits, obj.vars.tcx_drops
      send_udp(port, n)
      local got = 0
      while receive(r, got < n and 0.3 or 0) do got = got + 1 end
      return obj.vars.tcx_hits - c, obj.vars.tcx_drops - d, got
    end
    assert.same({2, 0, 2}, {run(2)})
    -- after the counter (by its link): counted, then dropped
    local dropper = assert(drop:attach_tcx{ifname = "lo", after = counter})
    assert.same({3, 3, 0}, {run(3)})
    assert(dropper:destroy())
    -- before the counter (by its program): dropped before it counts
    dropper = assert(drop:attach_tcx{ifname = "lo", before = count})
    assert.same({0, 2, 0}, {run(2)})
    assert(dropper:destroy())
    -- after the counter's program id
    dropper = assert(drop:attach_tcx{ifname = "lo", after = counter_prog_id})
    assert.same({1, 1, 0}, {run(1)})
    assert(dropper:destroy())
    -- first of all
    dropper = assert(drop:attach_tcx{ifname = "lo", before = true})
    assert.same({0, 2, 0}, {run(2)})
    assert(dropper:destroy())
    assert.same({1, 0, 1}, {run(1)})
  end)

  it("says what is wrong with its options, and what the kernel refused", function()
    local obj <close> = load()
    local p = obj.progs.tcx_count
    assert.error_matches(function() p:attach_tcx{hook = "ingress"} end, "needs 'ifname' or 'ifindex'")
    assert.error_matches(function() p:attach_tcx{ifname = "nosuchdev0"} end, "no network interface 'nosuchdev0'")
    assert.error_matches(function() p:attach_tcx{ifname = "lo", hook = "sideways"} end, "invalid option 'sideways'")
    assert.error_matches(function() p:attach_tcx{ifname = "lo", before = true, after = true} end,
      "give 'before' or 'after', not both")
    assert.error_matches(function() p:attach_tcx{ifname = "lo", before = "x"} end,
      "'before' must be a program, a link, an id or true, got string")
    assert.error_matches(function() p:attach_tcx{ifname = "lo", after = false} end,
      "'after' must be a program, a link, an id or true")
    assert.error_matches(function() p:attach_tcx{ifname = "lo", prio = 1} end, "unknown option 'prio'")
    -- relative to a program that is not attached there
    local l, err, code = p:attach_tcx{ifname = "lo", before = obj.progs.tcx_drop}
    assert.is_nil(l)
    assert.matches("attach 'tcx_count' to tcx lo ingress failed", err, 1, true)
    assert.equal(ENOENT, code)
  end)
end)

describe("attach_netfilter", function()
  it("counts local UDP packets at IPv4 local_in and stops once destroyed", function()
    local r, port = receiver()
    finally(function() r:close() end)
    local obj <close> = load(port)
    local link = assert(obj.progs.nf_count:attach_netfilter{pf = "ipv4", hook = "local_in", priority = 10})
    assert.matches("netfilter ipv4 local_in priority 10", tostring(link))
    local info = assert(link:info())
    assert.equal("netfilter", info.type)
    local kernel = link_ids()[info.id] -- NFPROTO_IPV4, NF_INET_LOCAL_IN
    assert.same({2, 1, 10, 0}, {kernel.pf, kernel.hooknum, kernel.priority, kernel.flags})
    send_udp(port, 3)
    drain(r, 3)
    assert.equal(3, obj.vars.nf_hits)
    assert(link:destroy())
    send_udp(port, 2)
    drain(r, 2)
    assert.equal(3, obj.vars.nf_hits)
  end)

  it("drops them (NF_DROP): the receiver sees nothing until the link goes", function()
    local r, port = receiver()
    finally(function() r:close() end)
    local obj <close> = load(port)
    obj.vars.nf_drop = 1
    local link = assert(obj.progs.nf_count:attach_netfilter{hook = "local_in", defrag = true, priority = -100})
    assert.matches("netfilter ipv4 local_in priority %-100 defrag", tostring(link))
    local kernel = link_ids()[assert(link:info()).id] -- BPF_F_NETFILTER_IP_DEFRAG
    assert.same({2, 1, -100, 1}, {kernel.pf, kernel.hooknum, kernel.priority, kernel.flags})
    send_udp(port, 3)
    assert.is_nil(receive(r, 0.5))
    assert.equal(3, obj.vars.nf_hits)
    assert(link:destroy())
    send_udp(port, 1, "after")
    assert.equal("after", receive(r, 2))
  end)

  it("attaches at the other hooks and for IPv6; says what is wrong", function()
    local obj <close> = load()
    local p = obj.progs.nf_count
    for i, hook in ipairs{"pre_routing", "local_in", "forward", "local_out", "post_routing"} do
      for pf, nfproto in pairs{ipv4 = 2, ipv6 = 10} do
        local link = assert(p:attach_netfilter{pf = pf, hook = hook})
        local kernel = link_ids()[assert(link:info()).id]
        assert.same({nfproto, i - 1, 0}, {kernel.pf, kernel.hooknum, kernel.priority})
        assert(link:destroy())
      end
    end
    assert.error_matches(function() p:attach_netfilter{pf = "ipv4"} end, "needs 'hook'")
    assert.error_matches(function() p:attach_netfilter{hook = "input"} end, "invalid option 'input'")
    assert.error_matches(function() p:attach_netfilter{pf = "arp", hook = "local_in"} end, "invalid option 'arp'")
    assert.error_matches(function() p:attach_netfilter{hook = "local_in", priority = 1 << 31} end,
      "'priority' out of range")
    -- the kernel: defrag needs to run after the defragmenter (-400)
    local l, err, code = p:attach_netfilter{hook = "local_in", defrag = true, priority = -500}
    assert.is_nil(l)
    assert.matches("attach 'nf_count' to netfilter ipv4 local_in priority -500 defrag failed", err, 1, true)
    assert.equal(ERANGE, code)
  end)
end)

describe("attach_uprobe_multi", function()
  local function target()
    local h = H.spawn(TARGET)
    h:wait_output("ready")
    return h
  end

  local function calls(h, from, n) -- n more lines: each calls the three functions
    for _ = 1, n do h:send("x\n") end
    h:wait_output("done " .. (from + n))
  end

  local function count_entries(m)
    local keys, total = 0, 0
    for _, v in m:pairs() do keys, total = keys + 1, total + v end
    return keys, total
  end

  it("fires on the two functions one glob matches, in the given process only", function()
    local h, other = target(), target()
    finally(function() h.cleanup() other.cleanup() end)
    local obj <close> = load()
    local link = assert(obj.progs.umulti_count:attach_uprobe_multi{
      path = TARGET, pattern = "umulti_fn_*", pid = h.pid})
    assert.matches("uprobe_multi " .. TARGET .. ":umulti_fn_*", tostring(link), 1, true)
    assert.equal("uprobe_multi", assert(link:info()).type)
    calls(h, 0, 3)
    calls(other, 0, 2) -- another process: not counted
    assert.equal(6, obj.vars.umulti_hits)
    -- two functions (addresses), three calls each
    local n = 0
    for _, v in obj.maps.by_ip:pairs() do
      n = n + 1
      assert.equal(3, v)
    end
    assert.equal(2, n)
    assert(link:destroy())
    calls(h, 3, 1)
    assert.equal(6, obj.vars.umulti_hits)
  end)

  it("takes symbols with cookies, file offsets, and return probes", function()
    local h = target()
    finally(function() h.cleanup() end)
    local obj <close> = load()
    local by_syms = assert(obj.progs.umulti_count:attach_uprobe_multi{
      path = TARGET, syms = {"umulti_fn_one", "umulti_other"}, cookies = {11, 33}})
    assert.matches("uprobe_multi " .. TARGET .. " (2 symbols)", tostring(by_syms), 1, true)
    -- umulti_fn_two's file offset, from its address and the load segments
    local syms, layout = assert(bpf.elf_symbols(TARGET))
    local addr
    for _, s in ipairs(syms) do if s.name == "umulti_fn_two" then addr = s.addr end end
    local offset
    for _, seg in ipairs(layout.loads) do
      if seg.exec and addr >= seg.vaddr and addr < seg.vaddr + seg.filesz then
        offset = addr - seg.vaddr + seg.offset
      end
    end
    local ret = assert(obj.progs.umulti_ret:attach_uprobe_multi{
      path = TARGET, offsets = {offset}, retprobe = true, pid = h.pid})
    assert.matches("uretprobe_multi " .. TARGET .. " (1 offsets)", tostring(ret), 1, true)
    calls(h, 0, 2)
    assert.equal(2, obj.maps.by_cookie[11])
    assert.equal(2, obj.maps.by_cookie[33])
    assert.same({2, 4}, {count_entries(obj.maps.by_cookie)})
    assert.equal(2, obj.vars.umulti_ret_hits)
  end)

  it("auto-attaches from its section (uprobe.multi/<path>:<glob>), by prog:attach() and obj:attach()", function()
    local h = target()
    finally(function() h.cleanup() end)
    local obj <close> = load()
    local link = assert(obj.progs.umulti_auto:attach())
    calls(h, 0, 2)
    assert.equal(4, obj.vars.umulti_auto_hits)
    assert(link:destroy())
    -- obj:attach() attaches it, and leaves the programs whose sections do
    -- not say where (tcx, netfilter, sk_skb, bare uprobe.multi)
    local links = assert(obj:attach())
    local names = {}
    for name in pairs(links) do names[#names + 1] = name end
    assert.same({"umulti_auto"}, names)
    calls(h, 2, 1)
    assert.equal(6, obj.vars.umulti_auto_hits)
  end)

  it("says what is wrong with its options, and what libbpf refused", function()
    local obj <close> = load()
    local p = obj.progs.umulti_count
    assert.error_matches(function() p:attach_uprobe_multi{pattern = "x"} end, "needs 'path'")
    assert.error_matches(function() p:attach_uprobe_multi{path = TARGET} end,
      "needs one of 'pattern', 'syms' or 'offsets'")
    assert.error_matches(function() p:attach_uprobe_multi{path = TARGET, pattern = "x", syms = {"y"}} end,
      "needs one of 'pattern', 'syms' or 'offsets'")
    assert.error_matches(function() p:attach_uprobe_multi{path = TARGET, pattern = "x", cookies = {1}} end,
      "'cookies' needs 'syms' or 'offsets' of the same length")
    assert.error_matches(function() p:attach_uprobe_multi{path = TARGET, syms = {"a", "b"}, cookies = {1}} end,
      "'cookies' needs 'syms' or 'offsets' of the same length")
    assert.error_matches(function() p:attach_uprobe_multi{path = TARGET, syms = {"a", 2}} end,
      "syms%[2%] must be a string")
    assert.error_matches(function() p:attach_uprobe_multi{path = TARGET, offsets = {}} end,
      "'offsets' must be a non%-empty list")
    assert.error_matches(function() p:attach_uprobe_multi{path = TARGET, glob = "x"} end, "unknown option 'glob'")
    local l, err, code = p:attach_uprobe_multi{path = TARGET, pattern = "no_such_fn_*"}
    assert.is_nil(l)
    assert.matches("attach 'umulti_count' to uprobe_multi " .. TARGET .. ":no_such_fn_* failed", err, 1, true)
    assert.equal(ENOENT, code)
  end)
end)

describe("attach_sockmap", function()
  if not libbpf_at_least(5) then
    it("needs libbpf >= 1.5", function()
      local obj <close> = load()
      assert.error_matches(function() obj.progs.sk_verdict:attach_sockmap(obj.maps.socks) end,
        "attach_sockmap needs libbpf >= 1.5 (built with " .. built_with .. ")", 1, true)
    end)
    return
  end
  local socket = require "socket"

  -- a connected pair of TCP sockets on 127.0.0.1: the client and the
  -- server's end
  local function tcp_pair()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local cli = assert(socket.connect("127.0.0.1", port))
    srv:settimeout(2)
    local conn = assert(srv:accept())
    srv:close()
    return cli, conn
  end

  local function read(conn, n, secs)
    conn:settimeout(secs)
    return (conn:receive(n))
  end

  it("runs a stream verdict program on what a TCP socket of the map receives", function()
    local socks = {}
    finally(function() for _, s in ipairs(socks) do s:close() end end)
    local cli, conn = tcp_pair()
    socks[1], socks[2] = cli, conn
    local obj <close> = load()
    local link = assert(obj.progs.sk_verdict:attach_sockmap(obj.maps.socks))
    assert.matches("sockmap socks", tostring(link))
    assert.equal("sockmap", assert(link:info()).type)
    -- the program runs for sockets added after it is linked
    obj.maps.socks[0] = conn:getfd()
    assert(cli:send("hello"))
    assert.equal("hello", read(conn, 5, 2))
    assert.equal(5, obj.vars.sk_bytes)
    -- SK_DROP: the receiver sees nothing
    obj.vars.sk_drop = 1
    assert(cli:send("gone"))
    assert.is_nil(read(conn, 4, 0.3))
    assert.equal(9, obj.vars.sk_bytes)
    obj.vars.sk_drop = 0
    assert(link:destroy())
    -- a socket added once the link is gone is not run through it
    local cli2, conn2 = tcp_pair()
    socks[3], socks[4] = cli2, conn2
    obj.maps.socks[1] = conn2:getfd()
    assert(cli2:send("free"))
    assert.equal("free", read(conn2, 4, 2))
    assert.equal(9, obj.vars.sk_bytes)
  end)

  it("takes a map or a fd, and says what the kernel refused", function()
    local obj <close> = load()
    local link = assert(obj.progs.sk_verdict:attach_sockmap(obj.maps.socks.fd))
    assert.matches("sockmap fd %d+", tostring(link))
    assert(link:destroy())
    assert.error_matches(function() obj.progs.sk_verdict:attach_sockmap("socks") end, "libbpf.map expected")
    -- a tcx program is no sk_skb program
    local l, err, code = obj.progs.tcx_count:attach_sockmap(obj.maps.socks)
    assert.is_nil(l)
    assert.matches("attach 'tcx_count' to sockmap socks failed", err, 1, true)
    assert.equal(19, code) -- ENODEV: the kernel's word for a program of another type
  end)
end)
