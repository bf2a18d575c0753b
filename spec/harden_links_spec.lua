-- Links, attaches and pins under misuse (issue 13, items 9, 12, 14, 15, 16):
-- links of programs opened by id, kernel links without temporary pins,
-- disconnect/destroy, attach_tc's options, uprobe offsets, map-in-map keys,
-- and pins that must never follow a symbolic link planted in a pin
-- directory. Everything runs in make test's own network and mount
-- namespace (lo and bpffs are the run's); children that need a different
-- view of /sys get a mount namespace of their own (unshare).
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local function loaded(name)
  local obj = assert(bpf.open(H.obj(name)))
  assert(obj:load())
  if obj.maps.target_pid then obj.maps.target_pid[0] = H.pid() end
  return obj
end

--- Cleanups of one spec, run in reverse order by its single `finally`
-- (busted keeps one finally per spec): returns the function that adds one.
local function cleanups()
  local fns = {}
  finally(function() for i = #fns, 1, -1 do pcall(fns[i]) end end)
  return function(f) fns[#fns + 1] = f end
end

--- Run Lua source `src` in a child lua5.4, the shell commands `setup` first
-- (in a mount namespace of the child's own); returns its output and exit
-- status. `arg[1]` is spec/bpf/.
local function child(src, setup)
  local path = H.tmpfile('local bpf = require "libbpf"\nbpf.set_print(function() end)\n', src)
  local script = ("%s lua5.4 %s %s"):format(setup and setup .. " &&" or "", path, H.bpfdir)
  local p = io.popen(("unshare --mount --propagation private -- bash -c '%s' 2>&1; echo \"exit=$?\"")
    :format(script))
  local out = p:read("a")
  p:close()
  os.remove(path)
  local rc = tonumber(out:match("exit=(%d+)%s*$"))
  return out:gsub("exit=%d+%s*$", ""), rc
end

--- Ids of the kernel links of program `prog_id`.
local function links_of(prog_id)
  local ids = {}
  for _, l in ipairs(assert(bpf.links())) do
    if l.prog_id == prog_id then ids[#ids + 1] = l.id end
  end
  return ids
end

--- The kernel id of a loaded program of `obj`, through a short-lived link.
local function prog_id(obj, name)
  local l = assert(obj.progs[name]:attach_xdp("lo"))
  local id = l:info().prog_id
  l:destroy()
  return id
end

--- A directory of its own in the run's bpffs (removed with its content).
local function bpffs_dir(tag)
  local dir = ("/sys/fs/bpf/lbpf_hl_%s_%d"):format(tag, H.pid())
  assert(os.execute("mkdir -m 0700 " .. dir))
  return dir
end

local function rm_rf(dir)
  os.execute("rm -rf " .. dir)
end

describe("a link of a program opened by id (item 9)", function()
  it("stays attached when its variable is collected, and goes with the program handle", function()
    local obj <close> = loaded("counter")
    local id = prog_id(obj, "xdp_pass")
    local p = assert(bpf.prog_from_id(id))
    p:attach_xdp("lo") -- result dropped on purpose
    H.gc()
    assert.equal(1, #links_of(id))
    -- the real hook: packets on lo still run the program
    H.send_udp(9, 3)
    H.wait_until(function() return (obj.maps.xdp_counts[0] or 0) >= 3 end, 5,
      "XDP counts on lo", function() return obj.maps.xdp_counts[0] end)
    -- the program handle goes: its links go with it (the documented rule)
    p = nil -- luacheck: ignore 311
    H.gc()
    assert.same({}, links_of(id))
    local before = obj.maps.xdp_counts[0]
    H.send_udp(9, 3)
    assert.equal(before, obj.maps.xdp_counts[0])
  end)
end)

describe("kernel links without a libbpf handle (item 12, item 16)", function()
  it("need no bpffs: no temporary pin is made for them", function()
    -- /sys/fs/bpf is a plain tmpfs in the child: a temporary pin fails there
    local out, rc = child([[
      local o = assert(bpf.open(arg[1] .. "counter.bpf.o")); assert(o:load())
      local l0 = assert(o.progs.xdp_pass:attach_xdp("lo"))
      local id = l0:info().prog_id
      l0:destroy()
      local p = assert(bpf.prog_from_id(id))
      local l = assert(p:attach_xdp("lo"))
      local info = assert(l:info())
      local again = assert(bpf.link_from_id(info.id))
      assert(again:info().id == info.id)
      again:destroy()
      l:destroy()
      local left = io.popen("ls -A /sys/fs/bpf"):read("a")
      print("ok", info.type, left == "" and "empty" or left)
      o:close()
    ]], "mount -t tmpfs -o mode=0700 none /sys/fs/bpf")
    assert.equal(0, rc, out)
    assert.matches("ok\txdp\tempty", out)
  end)

  it("pin, reopen by path and unpin through the link's own fd", function()
    local dir = bpffs_dir("fdlink")
    cleanups()(function() rm_rf(dir) end)
    local obj <close> = loaded("counter")
    local p = assert(bpf.prog_from_id(prog_id(obj, "xdp_pass")))
    local l = assert(p:attach_xdp("lo"))
    assert(l:pin(dir .. "/l"))
    assert.equal(dir .. "/l", l.pin_path)
    local again = assert(bpf.link_from_pinned(dir .. "/l"))
    assert.equal(l:info().id, again:info().id)
    again:destroy()
    -- a map is not a link
    local m <close> = assert(bpf.map_create{type = "array", key_size = 4, value_size = 4,
                                            max_entries = 1})
    assert(m:pin(dir .. "/m"))
    local none, err = bpf.link_from_pinned(dir .. "/m")
    assert.is_nil(none)
    assert.matches("it is not a link", err)
    assert(l:unpin())
    assert.is_false(H.exists(dir .. "/l"))
    l:destroy()
  end)
end)

describe("link:disconnect() (item 14)", function()
  it("raises on an unpinned link, whose destroy() then detaches and closes the fd", function()
    local obj <close> = loaded("counter")
    local fds = H.fd_count()
    local l = assert(obj.progs.xdp_pass:attach_xdp("lo"))
    local id = l:info().id
    local ok, err = pcall(l.disconnect, l)
    assert.is_false(ok)
    assert.matches("disconnect: link xdp lo is not pinned %(pin it first", err)
    l:destroy()
    assert.equal(fds, H.fd_count())
    for _, k in ipairs(assert(bpf.links())) do assert.not_equal(id, k.id) end
  end)

  it("on a pinned link keeps it attached through the pin and still closes the fd", function()
    local dir = bpffs_dir("disc")
    cleanups()(function() rm_rf(dir) end)
    local obj <close> = loaded("counter")
    local fds = H.fd_count()
    local l = assert(obj.progs.xdp_pass:attach_xdp("lo"))
    local id = l:info().id
    assert(l:pin(dir .. "/keep"))
    assert.equal(l, l:disconnect())
    l:destroy()
    assert.equal(fds, H.fd_count())           -- our fd is closed ...
    local seen = false
    for _, k in ipairs(assert(bpf.links())) do seen = seen or k.id == id end
    assert.is_true(seen)                      -- ... the pin keeps the link
    local before = obj.maps.xdp_counts[0] or 0
    H.send_udp(9, 2)
    H.wait_until(function() return (obj.maps.xdp_counts[0] or 0) >= before + 2 end, 5,
      "XDP counts through the pinned link")
    os.remove(dir .. "/keep")
    H.wait_until(function()
      for _, k in ipairs(assert(bpf.links())) do if k.id == id then return false end end
      return true
    end, 5, "the link to go with its pin")
  end)
end)

describe("attach_perf_event (item 12)", function()
  it("fails instead of attaching to no CPU when the possible CPUs cannot be counted", function()
    local out, rc = child([[
      local o = assert(bpf.open(arg[1] .. "attach.bpf.o")); assert(o:load())
      local links, err = o.progs.on_perf:attach_perf_event{sample_freq = 99}
      print(type(links), links and #links, err)
      o:close()
    ]], "echo garbage > /tmp/lbpf_hl_possible && mount --bind /tmp/lbpf_hl_possible " ..
        "/sys/devices/system/cpu/possible")
    os.remove("/tmp/lbpf_hl_possible")
    assert.equal(0, rc, out)
    assert.matches("^nil\tnil\tattach 'on_perf' to perf_event cpu%-clock failed: cannot count "
                   .. "the possible CPUs", out)
  end)
end)

describe("attach_tc options (item 14)", function()
  it("are checked before the clsact qdisc is added: a bad priority leaves no qdisc", function()
    local obj <close> = loaded("attach")
    finally(function() os.execute("tc qdisc del dev lo clsact 2>/dev/null") end)
    assert.not_matches("clsact", H.qdiscs("lo"))
    for _, bad in ipairs({"high", 1.5, 70000, -1}) do
      local ok, err = pcall(obj.progs.tc_udp.attach_tc, obj.progs.tc_udp,
                            {ifname = "lo", priority = bad})
      assert.is_false(ok)
      assert.matches("'priority' must be an integer in 0..65535", err)
      assert.not_matches("clsact", H.qdiscs("lo"))
    end
    -- the kernel refuses the attach (an XDP program is no classifier) after
    -- the qdisc was added: the qdisc goes again
    local none, err = obj.progs.xdp_udp:attach_tc{ifname = "lo", priority = 7}
    assert.is_nil(none)
    assert.matches("attach 'xdp_udp' to tc lo ingress failed", err)
    assert.not_matches("clsact", H.qdiscs("lo"))
    -- a good one still attaches, and destroy removes the qdisc it added
    local l = assert(obj.progs.tc_udp:attach_tc{ifname = "lo", priority = 7})
    assert.matches("clsact", H.qdiscs("lo"))
    l:destroy()
    assert.not_matches("clsact", H.qdiscs("lo"))
  end)
end)

describe("attach_uprobe with func and offset (item 15)", function()
  -- a private copy of libc: nothing runs it, so a probe in it corrupts nothing
  local libc, base, copy
  before_each(function()
    local p = io.popen("ldconfig -p | awk '/libc.so.6 .*x86-64|libc.so.6 .*AArch64/ {print $NF; exit}'")
    libc = p:read("l")
    p:close()
    base = os.tmpname()
    copy = base .. ".so.6"
    assert(os.execute(("cp %s %s"):format(libc, copy)))
  end)
  after_each(function() os.remove(copy); os.remove(base) end)

  it("refuses an offset past the function's end or inside it, unless unchecked_offset", function()
    local obj <close> = loaded("attach")
    local prog = obj.progs.on_malloc
    local ok, err = pcall(prog.attach_uprobe, prog, {path = copy, func = "malloc", offset = 1 << 20})
    assert.is_false(ok)
    assert.matches("offset 1048576 is past the end of 'malloc' in .* %(%d+ bytes%)", err)
    ok, err = pcall(prog.attach_uprobe, prog, {path = copy, func = "malloc", offset = 1})
    assert.is_false(ok)
    -- x86: boundaries cannot be checked; fixed-size ISAs: 1 is not on one
    assert.truthy(err:find("offset 1 into 'malloc' may split an instruction.*unchecked_offset = true")
                  or err:find("offset 1 into 'malloc' is not on an instruction"), err)
    ok, err = pcall(prog.attach_uprobe, prog, {path = copy, func = "no_such_function_xyz", offset = 4})
    assert.is_false(ok)
    assert.matches("has no sized symbol", err)
    -- asked for explicitly: attached (in the copy nobody runs)
    local l = assert(prog:attach_uprobe{path = copy, func = "malloc", offset = 4,
                                        unchecked_offset = true, pid = H.pid()})
    l:destroy()
    -- offset 0 and plain offsets (no func) are not affected
    l = assert(prog:attach_uprobe{path = copy, func = "malloc", pid = H.pid()})
    l:destroy()
  end)
end)

describe("the legacy loader's map-in-map placement (item 12)", function()
  it("refuses an outer map whose key is not iproute2's 4-byte slot index", function()
    local obj = assert(bpf.open("spec/bpf/legacy/mapinmap_key8.o"))
    cleanups()(function() obj:close() end)
    local ok, err = obj:load()
    assert.is_nil(ok)
    assert.matches("map 'inner8': cannot insert into 'outer8': its key is 8 bytes, the slot "
                   .. "index %(inner_idx%) is 4", err)
  end)
end)

describe("pins and pin directories (item 16, item 14)", function()
  it("the legacy loader never pins through a symbolic link planted as its globals directory", function()
    local later = cleanups()
    local root = bpffs_dir("legroot")
    local evil = bpffs_dir("evil")
    later(function() rm_rf(root); rm_rf(evil) end)
    assert(os.execute(("ln -s %s %s/globals"):format(evil, root)))
    local obj = assert(bpf.open("spec/bpf/legacy/iproute2_counters.o", {pin_root_path = root}))
    later(function() obj:close() end)
    local ok, err = obj:load()
    assert.is_nil(ok)
    assert.matches("'globals' is a symbolic link %(pins never follow links%)", err)
    assert.equal("", io.popen("ls -A " .. evil):read("a"))
  end)

  it("the legacy loader never reuses a pin that is a symbolic link to another map", function()
    local later = cleanups()
    local root = bpffs_dir("legreuse")
    later(function() rm_rf(root) end)
    local victim <close> = assert(bpf.map_create{type = "array", key_size = 4, value_size = 8,
                                                 max_entries = 2, name = "victim"})
    victim[0] = 42
    assert(victim:pin(root .. "/victim"))
    assert(os.execute(("mkdir -m 0700 %s/globals && ln -s %s/victim %s/globals/lbpf_spec_shared")
      :format(root, root, root)))
    local obj = assert(bpf.open("spec/bpf/legacy/iproute2_counters.o", {pin_root_path = root}))
    later(function() obj:close() end)
    local ok, err = obj:load()
    assert.is_nil(ok)
    assert.matches("pin '.*/globals/lbpf_spec_shared' is a symbolic link", err)
    assert.equal(42, victim[0])
  end)

  it("the legacy loader refuses a pin directory owned by another user", function()
    local later = cleanups()
    local root = bpffs_dir("legowner")
    later(function() rm_rf(root) end)
    assert(os.execute(("mkdir -m 0700 %s/globals && chown 65534 %s/globals"):format(root, root)))
    local obj = assert(bpf.open("spec/bpf/legacy/iproute2_counters.o", {pin_root_path = root}))
    later(function() obj:close() end)
    local ok, err = obj:load()
    assert.is_nil(ok)
    assert.matches("directory 'globals' belongs to uid 65534", err)
    -- and one it makes itself is 0700
    os.execute(("rm -rf %s/globals"):format(root))
    local again = assert(bpf.open("spec/bpf/legacy/iproute2_counters.o", {pin_root_path = root}))
    later(function() again:close() end)
    assert(again:load())
    local p = io.popen(("stat -c %%a %s/globals"):format(root))
    assert.equal("700", p:read("l"))
    p:close()
  end)

  it("link:pin and map:pin refuse a directory that is a symbolic link", function()
    local dir = bpffs_dir("pinlnk")
    local evil = bpffs_dir("pinevil")
    cleanups()(function() rm_rf(dir); rm_rf(evil) end)
    assert(os.execute(("ln -s %s %s/sub"):format(evil, dir)))
    local obj <close> = loaded("counter")
    local l = assert(obj.progs.xdp_pass:attach_xdp("lo"))
    local ok, err = l:pin(dir .. "/sub/l")
    assert.is_nil(ok)
    assert.matches("'sub' is a symbolic link", err)
    ok, err = obj.maps.xdp_counts:pin(dir .. "/sub/m")
    assert.is_nil(ok)
    assert.matches("'sub' is a symbolic link", err)
    local m <close> = assert(bpf.map_create{type = "array", key_size = 4, value_size = 4,
                                            max_entries = 1})
    ok, err = m:pin(dir .. "/sub/m2")
    assert.is_nil(ok)
    assert.matches("'sub' is a symbolic link", err)
    assert.equal("", io.popen("ls -A " .. evil):read("a"))
    l:destroy()
  end)

  it("obj:load refuses a libbpf pin path through a symbolic link", function()
    local dir = bpffs_dir("libpin")
    local evil = bpffs_dir("libevil")
    cleanups()(function() rm_rf(dir); rm_rf(evil) end)
    assert(os.execute(("ln -s %s %s/sub"):format(evil, dir)))
    local obj <close> = assert(bpf.open(H.obj("counter")))
    assert(obj.maps.xdp_counts:set_pin_path(dir .. "/sub/xdp_counts"))
    local ok, err = obj:load()
    assert.is_nil(ok)
    assert.matches("load refused: map 'xdp_counts': .*'sub' is a symbolic link", err)
    assert.equal("", io.popen("ls -A " .. evil):read("a"))
  end)
end)
