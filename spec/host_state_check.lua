-- Run last by `make test`, in a busted run of its own after every other spec
-- (still inside the run's network and mount namespaces): the machine is as
-- the run found it. Not named *_spec.lua so that `busted spec` leaves it out.
local bpf = require "libbpf"
local H = require "helpers"
local state = require "host_state"

local ENOENT = 2

local function env(name)
  local v = os.getenv(name)
  assert(v, name .. " is not set: this spec runs from `make test`")
  return v
end

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

-- the ids recorded by spec/track_progs.lua: {prog = {[id] = true}, map = {...}}
local function recorded()
  local ids = {prog = {}, map = {}}
  for line in io.lines(env("LBPF_SPEC_IDS")) do
    local kind, id = line:match("^(%a+) (%d+)$")
    ids[kind][tonumber(id)] = true
  end
  return ids
end

describe("after make test", function()
  -- Other processes on the machine may change the host's lo and bpffs
  -- meanwhile (a spec run by hand outside make test): a change fails this
  -- spec when it holds a program or map of this run, and is only reported
  -- otherwise.
  it("no program or map of this run is attached to the host's lo or pinned in its bpffs", function()
    local before = H.slurp(env("LBPF_HOST_BEFORE"))
    assert.matches("## pins under /sys/fs/bpf", before)
    local ns = state.nsenter(tonumber(env("LBPF_HOST_PID")))
    local after = state.snapshot(ns)
    local ids, ours = recorded(), {}
    local function check(what, kind, id)
      if id and ids[kind][tonumber(id)] then
        ours[#ours + 1] = ("%s holds %s %s of this run"):format(what, kind, id)
      end
    end
    local was, changed = {}, {}
    for l in before:gmatch("[^\n]+") do was[l] = true end
    local section
    for l in after:gmatch("[^\n]+") do
      section = l:match("^## (.*)") or section
      if not was[l] then
        changed[#changed + 1] = l
        if section:match("^pins") then
          check(l, "prog", sh(ns .. "bpftool -j prog show pinned " .. l):match('"id":(%d+)'))
          check(l, "map", sh(ns .. "bpftool -j map show pinned " .. l):match('"id":(%d+)'))
          check(l, "prog", sh(ns .. "bpftool -j link show pinned " .. l):match('"prog_id":(%d+)'))
        end
      end
    end
    for id in sh(ns .. "ip link show dev lo"):gmatch("prog/xdp id (%d+)") do
      check("the host's lo (XDP)", "prog", id)
    end
    for _, hook in ipairs{"ingress", "egress"} do
      for id in sh(ns .. "tc filter show dev lo " .. hook):gmatch(" id (%d+)") do
        check("the host's lo (tc " .. hook .. ")", "prog", id)
      end
    end
    if #changed > 0 and #ours == 0 then
      io.stderr:write("\nhost state: changed during the run by another process " ..
                      "(nothing of this run):\n  " .. table.concat(changed, "\n  ") .. "\n")
    end
    assert.same({}, ours)
  end)
  it("no cgroup made by this run is left", function()
    local root = assert(H.cgroup2_root(), "no cgroup2 mount")
    assert.equal("", sh(("find %s -name '*%s*'"):format(root, env("LBPF_SPEC_RUN"))))
  end)

  it("the run's own lo has no qdisc or XDP program left, its bpffs no pin", function()
    assert.is_nil(H.qdiscs("lo"):match("clsact"), H.qdiscs("lo"))
    assert.is_nil(H.qdiscs("lo"):match("ingress"), H.qdiscs("lo"))
    assert.is_nil(sh("ip link show dev lo"):match("xdp"))
    -- as freshly mounted (the kernel's bpf_preload puts maps.debug and
    -- progs.debug there)
    assert.equal(H.slurp(env("LBPF_FRESH_BPFFS")), sh("find /sys/fs/bpf ! -type d | sort"))
  end)

  it("no BPF program the specs loaded is still loaded", function()
    local ids = {}
    for id in pairs(recorded().prog) do ids[#ids + 1] = id end
    -- the whole suite loads hundreds: fewer means the tracker broke (a run of
    -- a few spec files, `make test SPECS=...`, loads fewer)
    local least = os.getenv("LBPF_SPECS") == "spec" and 100 or -1
    assert.is_true(#ids > least, "only " .. #ids .. " program ids recorded")
    local alive = {}
    -- releases may be deferred to a kernel work queue: give them a moment
    H.wait_until(function()
      alive = {}
      for _, id in ipairs(ids) do
        local p, err, code = bpf.prog_from_id(id)
        if p then
          alive[#alive + 1] = ("%d (%s, %s)"):format(id, p.name, p.type)
        else
          assert.equal(ENOENT, code, err)
        end
      end
      H.gc()                                -- the handles' fds hold programs too
      return #alive == 0
    end, 5, "the programs of the run to go", function() return table.concat(alive, ", ") end)
  end)
end)
