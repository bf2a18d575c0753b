-- struct_ops (issue 14): a BPF TCP congestion control registered with
-- m:attach_struct_ops() or obj:attach() shows in the kernel's list of
-- congestion controls while attached, carries a real TCP connection on lo
-- (this run's own network namespace: its default congestion control is set
-- for the spec and put back), and is gone once its link is destroyed.
-- examples/tcpcc.bpf.c is the example's "lbpf_reno", built here as a
-- `.struct_ops` map (Makefile: tcpcc_nolink; the example's own is
-- `.struct_ops.link`, run by examples_spec.lua and tools_signals_spec.lua);
-- spec/bpf/struct_ops_link.bpf.c has two `.struct_ops.link` versions of
-- "lbpf_upd" for link:update_map (libbpf >= 1.3).
--
-- A congestion control's name is kernel-wide, and test runs go on at once
-- (in other network namespaces, which do not part it): this spec builds
-- both files again with names of this process's own (RENO, UPD), the maps
-- keeping theirs (lbpf_reno, cc_v1, cc_v2).
local bpf = require "libbpf"
local H = require "helpers"
local socket = require "socket"

bpf.set_print(function() end)

local SYSCTL = "/proc/sys/net/ipv4/tcp_congestion_control"
local AVAILABLE = "/proc/sys/net/ipv4/tcp_available_congestion_control"
local EEXIST, EINVAL = 17, 22
local mode = H.slurp("build/libbpf.mode"):match("^(%S+)")
local major, minor = bpf.libbpf_version:match("^(%d+)%.(%d+)")
local has_link_update = tonumber(major) > 1 or tonumber(minor) >= 3

local RENO, UPD = "lbpf_r" .. H.pid(), "lbpf_u" .. H.pid()
local function build(name, file)
  local path = ("build/cc/%s/%s.bpf.o"):format(name, file)
  assert(os.execute("make -s --no-print-directory " .. path), "make " .. path)
  return path
end
local RENO_OBJ, UPD_OBJ = build(RENO, "tcpcc_nolink"), build(UPD, "struct_ops_link")

local function available(name)
  return (" " .. H.slurp(AVAILABLE):gsub("%s+", " ") .. " "):find(" " .. name .. " ", 1, true) ~= nil
end

local function write(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  local ok, err = f:close()
  return ok, err
end

-- One TCP connection on 127.0.0.1 using congestion control `cc` (this
-- namespace's default for the while): `bytes` sent, both ends in this
-- process, non-blocking; the default is put back whatever happens.
local function transfer(cc, bytes)
  local before = H.slurp(SYSCTL):match("%S+")
  assert(write(SYSCTL, cc))
  local server, client, conn
  local ok, err = pcall(function()
    server = assert(socket.bind("127.0.0.1", 0))
    local _, port = server:getsockname()
    client = assert(socket.connect("127.0.0.1", port))
    conn = assert(server:accept())
    client:settimeout(0)
    conn:settimeout(0)
    local chunk = ("x"):rep(64 * 1024)
    local sent, received = 0, 0
    local deadline = socket.gettime() + 20
    while received < bytes do
      assert(socket.gettime() < deadline, "transfer timed out")
      if sent < bytes then
        local n, serr, partial = client:send(chunk, 1, math.min(#chunk, bytes - sent))
        n = n or partial
        assert(n, serr)
        sent = sent + n
      end
      local data, rerr, partial = conn:receive(64 * 1024)
      data = data or partial
      if rerr and rerr ~= "timeout" then error("receive: " .. rerr) end
      received = received + #data
      socket.select({ conn }, sent < bytes and { client } or nil, 0.1)
    end
  end)
  for _, s in ipairs({ client, conn, server }) do s:close() end
  assert(write(SYSCTL, before))
  assert(ok, err)
end

describe("struct_ops: a TCP congestion control in BPF", function()
  local EXAMPLE = RENO_OBJ

  it("bpf.probe('struct_ops') says this kernel (6.18) has struct_ops maps and programs", function()
    assert.same({true}, {bpf.probe("struct_ops")})
    assert.is_true(bpf.features().attach.struct_ops)
  end)

  it("m:attach_struct_ops() registers it, a connection on lo runs its callbacks, destroy() unregisters it", function()
    local obj <close> = assert(bpf.open(EXAMPLE))
    assert(obj:load())
    assert.is_false(available(RENO))
    local link <close> = assert(obj.maps.lbpf_reno:attach_struct_ops())
    assert.equal("struct_ops lbpf_reno", link.kind)
    -- a .struct_ops registration is no kernel bpf_link (its fd is the map's)
    assert.error_matches(function() link:info() end,
      "libbpf.link: info: struct_ops lbpf_reno is not a kernel bpf_link (only destroy() applies)", 1, true)
    assert.is_true(available(RENO), H.slurp(AVAILABLE))
    transfer(RENO, 2 << 20)
    local v = obj.vars
    -- both ends of the connection started with it and ended with it
    assert.equal(2, v.inits)
    assert.equal(2, v.releases)
    -- 2 MiB on lo: the ACKs went through cong_avoid and acked packets
    assert.is_true(v.cong_avoids > 0, "cong_avoid calls: " .. v.cong_avoids)
    assert.is_true(v.acked >= v.cong_avoids, ("acked %d"):format(v.acked))
    assert.is_true(v.cwnd >= 2, "cwnd " .. v.cwnd)
    local calls = v.cong_avoids
    assert(link:destroy())
    assert.is_true(link.destroyed)
    assert.is_false(available(RENO), H.slurp(AVAILABLE))
    -- and no longer runs: the name is unknown to a new connection
    assert.is_nil(write(SYSCTL, RENO))
    assert.equal(calls, v.cong_avoids)
  end)

  it("obj:attach() registers struct_ops maps too, named by the map; all or nothing", function()
    local obj <close> = assert(bpf.open(EXAMPLE))
    assert(obj:load())
    local links = assert(obj:attach())
    assert.equal("struct_ops lbpf_reno", links.lbpf_reno.kind)
    assert.is_true(available(RENO))
    transfer(RENO, 256 << 10)
    assert.equal(2, obj.vars.inits)
    -- a second object with the same congestion control name: the kernel
    -- says EEXIST, obj:attach() names the map and leaves nothing attached
    local other <close> = assert(bpf.open(EXAMPLE))
    assert(other:load())
    local none, err, errno = other:attach()
    assert.is_nil(none)
    assert.matches("attach of struct_ops map 'lbpf_reno' failed", err, 1, true)
    assert.equal(EEXIST, errno)
    obj:close()
    assert.is_true(links.lbpf_reno.destroyed)
    assert.is_false(available(RENO))
  end)

  it("raises for a map that is not struct_ops and before load", function()
    local obj <close> = assert(bpf.open(EXAMPLE))
    local m = obj.maps.lbpf_reno
    assert.has_error(function() m:attach_struct_ops() end,
      "libbpf.map: attach_struct_ops: object is not loaded yet (call obj:load())")
    assert(obj:load())
    local bss
    for name, map in pairs(obj.maps) do if name:match("%.bss$") then bss = map end end
    assert.truthy(bss)
    local ok, err = pcall(bss.attach_struct_ops, bss)
    assert.is_false(ok)
    assert.matches("is not a struct_ops map", err, 1, true)
  end)
end)

describe("struct_ops links: link:update_map", function()
  teardown(function()
    os.execute(("rm -rf build/cc/%s build/cc/%s; rmdir build/cc 2>/dev/null"):format(RENO, UPD))
  end)

  if not has_link_update then
    it("needs libbpf >= 1.3 (system " .. bpf.libbpf_version .. ")", function()
      assert.equal("system", mode)
      local obj <close> = assert(bpf.open(RENO_OBJ))
      assert(obj:load())
      local link <close> = assert(obj.maps.lbpf_reno:attach_struct_ops())
      local ok, err = pcall(link.update_map, link, obj.maps.lbpf_reno)
      assert.is_false(ok)
      assert.matches("link:update_map needs libbpf >= 1.3 (built with "
        .. bpf.libbpf_version:match("^%d+%.%d+") .. ")", err, 1, true)
    end)
    return
  end

  it("a .struct_ops.link map is a kernel link; update_map switches it to another version in place", function()
    local obj <close> = assert(bpf.open(UPD_OBJ))
    assert(obj:load())
    local link <close> = assert(obj.maps.cc_v1:attach_struct_ops())
    assert.equal("struct_ops.link cc_v1", link.kind)
    assert.equal("struct_ops", link:info().type)
    assert.is_true(available(UPD))
    transfer(UPD, 64 << 10)
    assert.equal(2, obj.vars.inits_v1)
    assert.equal(0, obj.vars.inits_v2)
    assert.equal(link, link:update_map(obj.maps.cc_v2))
    assert.equal("struct_ops.link cc_v2", link.kind)
    assert.is_true(available(UPD))
    transfer(UPD, 64 << 10)
    assert.equal(2, obj.vars.inits_v1)
    assert.equal(2, obj.vars.inits_v2)
    assert(link:destroy())
    assert.is_false(available(UPD))
  end)

  it("update_map of a .struct_ops (not .link) registration: nil, a message, EINVAL", function()
    local obj <close> = assert(bpf.open(RENO_OBJ))
    assert(obj:load())
    local link <close> = assert(obj.maps.lbpf_reno:attach_struct_ops())
    local none, err, errno = link:update_map(obj.maps.lbpf_reno)
    assert.is_nil(none)
    assert.matches("only a .struct_ops.link map makes a link that can be updated", err, 1, true)
    assert.equal(EINVAL, errno)
    -- a map that is not struct_ops is a programmer error
    local other <close> = assert(bpf.open(UPD_OBJ))
    assert(other:load())
    local bss
    for name, map in pairs(other.maps) do if name:match("%.bss$") then bss = map end end
    assert.has_error(function() link:update_map(bss) end)
  end)
end)
