-- BPF tokens (issue 14): bpf.open(path, {token_path = dir}) loads with a
-- token made from a bpffs that a privileged parent mounted with delegate
-- options for a user namespace. spec/token/delegate (built by make) is that
-- parent: it runs spec/token/load.lua in a new user namespace (root there,
-- no capability in the initial one, so bpf() refuses it without a token)
-- with the delegated bpffs mounted on a directory of the spec's.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local EPERM, ENOENT = 1, 2
local major, minor = bpf.libbpf_version:match("^(%d+)%.(%d+)")
local has_token = tonumber(major) > 1 or tonumber(minor) >= 4
local ROOT = (function()
  local p = io.popen("pwd")
  local dir = p:read("l")
  p:close()
  return dir
end)()
local DELEGATE = ROOT .. "/spec/token/delegate"
local OBJ = ROOT .. "/" .. H.obj("token")

-- Run load.lua in a delegated user namespace; its output and exit status.
local function in_userns(mountpoint, extra)
  local p = io.popen(("%s %s %s -- lua5.4 %s/spec/token/load.lua %s %s 2>&1; echo rc=$?")
    :format(DELEGATE, extra or "", mountpoint, ROOT, OBJ, mountpoint))
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("rc=(%d+)%s*$"))
end

describe("BPF tokens: bpf.open(path, {token_path=})", function()
  if not has_token then
    it("needs libbpf >= 1.4 (system " .. bpf.libbpf_version .. ")", function()
      local ok, err = pcall(bpf.open, OBJ, {token_path = "/sys/fs/bpf"})
      assert.is_false(ok)
      assert.matches("bpf.open{token_path=} needs libbpf >= 1.4 (built with "
        .. bpf.libbpf_version:match("^%d+%.%d+") .. ")", err, 1, true)
    end)
    return
  end

  local dir
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
  end)
  after_each(function() os.execute("rmdir " .. dir) end)

  it("loads inside a user namespace with a token from a delegated bpffs, and fails there without it", function()
    local supported, why = bpf.probe("token")
    if not supported then
      -- a kernel before 6.9: no delegate options, no token to be had
      assert.matches("the kernel has no BPF tokens", why, 1, true)
      local obj <close> = assert(bpf.open(OBJ, {token_path = dir}))
      local ok, err = obj:load()
      assert.is_nil(ok)
      assert.matches("load of object 'token' failed", err, 1, true)
      return
    end
    local out, rc = in_userns(dir)
    assert.equal(0, rc, out)
    -- with the token: maps, BTF and the program were created, and it runs
    assert.matches("token: loaded runs=3 seen=3\n", out, 1, true)
    -- no token (token_path = ""), or libbpf's default /sys/fs/bpf (this
    -- run's own bpffs, not delegated): the kernel says EPERM
    assert.matches(("none: failed %d load of object 'token' failed: Operation not permitted\n")
      :format(EPERM), out, 1, true)
    assert.matches(("default: failed %d load of object 'token' failed"):format(EPERM), out, 1, true)
  end)

  it("a bpffs mounted without delegate options gives no token: the load fails with ENOENT", function()
    if not bpf.probe("token") then
      pending("this kernel has no BPF tokens: " .. select(2, bpf.probe("token")))
    end
    local out, rc = in_userns(dir, "--no-delegate")
    assert.equal(0, rc, out)
    assert.matches(("token: failed %d load of object 'token' failed"):format(ENOENT), out, 1, true)
  end)

  it("checks the option like the others", function()
    assert.has_error(function() bpf.open(OBJ, {token_path = 1}) end,
      "option 'token_path' must be a string, got number")
  end)
end)
