-- Packet sockets for socket filters (bpf.packet_socket), interface lookups
-- and the process helpers (bpf.getpid, bpf.ns_info). make test runs this in
-- its own network namespace, so `lo` here is the spec's own.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local ENODEV, ENXIO, ETIMEDOUT = 19, 6, 110

-- open sockets of this process (H.fd_count counts anon inodes only)
local function sockets()
  local n = 0
  local p = io.popen("ls -l /proc/" .. H.pid() .. "/fd")
  for line in p:lines() do
    if line:find("socket:", 1, true) then n = n + 1 end
  end
  p:close()
  return n
end

-- the sockfilter object, keeping UDP frames to `port`
local function filter_for(port)
  local obj = assert(bpf.open(H.obj("sockfilter")))
  obj.vars.want_port = port
  assert(obj:load())
  return obj
end

describe("interface lookups", function()
  it("turn lo into its index and back, and name what is missing", function()
    local idx = assert(bpf.if_nametoindex("lo"))
    assert.equal("lo", bpf.if_indextoname(idx))
    local v, err, code = bpf.if_nametoindex("nosuchif0")
    assert.is_nil(v)
    assert.matches("no interface 'nosuchif0'", err)
    assert.equal(ENODEV, code)
    v, err, code = bpf.if_indextoname(0)
    assert.is_nil(v)
    assert.matches("no interface with index 0", err)
    assert.equal(ENXIO, code)
    assert.is_nil(bpf.if_nametoindex(("x"):rep(64)))
    assert.error_matches(function() bpf.if_indextoname("lo") end, "number expected")
  end)
end)

describe("bpf.packet_socket", function()
  it("carries the frames a socket filter keeps: UDP to one port on lo, not the rest", function()
    local r, port = H.udp_receiver()
    local other, other_port = H.udp_receiver()
    local obj = filter_for(port)
    local sock <close> = assert(bpf.packet_socket("lo", {protocol = "ip"}))
    finally(function() obj:close(); r:close(); other:close() end)
    assert.equal("lo", sock.ifname)
    assert.equal(bpf.if_nametoindex("lo"), sock.ifindex)
    assert.equal(0x0800, sock.protocol)
    local link = assert(obj.progs.udp_port_filter:attach_socket(sock))
    H.send_udp(other_port, 2, "not for the filter")
    H.send_udp(port, 3, "for the filter")
    for _ = 1, 3 do
      local frame = assert(sock:recv(2))
      -- Ethernet (14) + IPv4 (20) + UDP (8) + payload
      assert.equal(14 + 20 + 8 + #"for the filter", #frame)
      assert.equal(port, string.unpack(">I2", frame, 14 + 20 + 3))
      assert.equal("for the filter", frame:sub(-#"for the filter"))
    end
    local none, why, code = sock:recv(0.2)
    assert.is_nil(none)
    assert.equal("timed out", why)
    assert.equal(ETIMEDOUT, code)
    assert.equal(3, obj.maps.seen[0])
    assert.is_true(obj.maps.seen[1] >= 2)
    H.drain_udp(r, 3)
    H.drain_udp(other, 2)
    link:destroy()
    H.send_udp(port, 1, "after destroy") -- unfiltered now: any IPv4 frame comes through
    assert.matches("after destroy$", assert(sock:recv(2)))
    assert.equal(3, obj.maps.seen[0])
  end)

  it("checks its arguments and names the interface", function()
    local s, err, code = bpf.packet_socket("nosuchif0")
    assert.is_nil(s)
    assert.matches("no interface 'nosuchif0'", err)
    assert.equal(ENODEV, code)
    assert.error_matches(function() bpf.packet_socket("lo", {proto = "ip"}) end, "unknown option 'proto'")
    assert.error_matches(function() bpf.packet_socket("lo", {protocol = "ipx"}) end, "invalid option 'ipx'")
    assert.error_matches(function() bpf.packet_socket("lo", {protocol = 1 << 20}) end, "out of range")
    assert.error_matches(function() bpf.packet_socket(("x"):rep(40)) end, "too long")
    local sock <close> = assert(bpf.packet_socket("lo"))
    assert.error_matches(function() sock:recv(-1) end, "timeout must be")
    assert.error_matches(function() sock:recv(0 / 0) end, "timeout must be")
    assert.error_matches(function() sock:recv(1, 0) end, "maxlen must be")
  end)

  it("is closed by close(), <close> and the collector, and refuses use after close", function()
    local before = sockets()
    do
      local s <close> = assert(bpf.packet_socket("lo"))
      assert.equal(before + 1, sockets(), tostring(s))
    end
    assert.equal(before, sockets())
    local s = assert(bpf.packet_socket("lo"))
    s:close()
    s:close() -- twice is fine
    assert.is_true(s.closed)
    assert.matches("closed", tostring(s))
    assert.error_matches(function() return s:recv(0) end, "closed socket")
    assert.error_matches(function() return s.fd end, "closed socket")
    local obj <close> = filter_for(1)
    assert.error_matches(function() obj.progs.udp_port_filter:attach_socket(s) end, "closed socket")
    for _ = 1, 5 do assert(bpf.packet_socket("lo")) end
    H.gc()
    assert.equal(before, sockets())
  end)
end)

describe("process helpers", function()
  it("bpf.getpid is this process's pid", function()
    assert.equal(H.pid(), bpf.getpid())
  end)

  it("bpf.ns_info gives the device and inode of a namespace, as stat(1) does", function()
    local dev, ino = assert(bpf.ns_info("pid"))
    local p = io.popen("stat -L -c '%d %i' /proc/" .. H.pid() .. "/ns/pid")
    local out = p:read("a")
    p:close()
    assert.equal(("%d %d\n"):format(dev, ino), out)
    local _, net_ino = bpf.ns_info("net")
    assert.is_not.equal(ino, net_ino)
    assert.error_matches(function() bpf.ns_info("nope") end, "invalid option 'nope'")
  end)
end)
