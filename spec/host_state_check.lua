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

describe("after make test", function()
  it("the host's lo (qdiscs, XDP) and its bpffs pins are as before the run", function()
    local before = H.slurp(env("LBPF_HOST_BEFORE"))
    assert.matches("## pins under /sys/fs/bpf", before)
    local after = state.snapshot(state.nsenter(tonumber(env("LBPF_HOST_PID"))))
    -- name the lines that differ (the specs run in namespaces of their own:
    -- a change here is a leak out of them, or another process on the host)
    local function lines(s)
      local t = {}
      for l in s:gmatch("[^\n]+") do t[l] = true end
      return t
    end
    local was, is, diff = lines(before), lines(after), {}
    for l in pairs(was) do if not is[l] then diff[#diff + 1] = "- " .. l end end
    for l in pairs(is) do if not was[l] then diff[#diff + 1] = "+ " .. l end end
    table.sort(diff)
    assert.equal(before, after, "the host changed during the run:\n" .. table.concat(diff, "\n"))
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
    for line in io.lines(env("LBPF_SPEC_PROGS")) do ids[#ids + 1] = tonumber(line) end
    assert.is_true(#ids > 100, "only " .. #ids .. " program ids recorded")
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
