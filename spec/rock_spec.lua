-- The rock and `make install`: the module installed into a fresh tree loads
-- from another directory, with its own core.so, and lbpf runs from there.

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return out:gsub("rc=%d+\n$", ""), rc
end

local function tmpdir()
  local out = sh("mktemp -d")
  return (out:gsub("%s+$", ""))
end

-- the checkout (busted runs there; $PWD is wrong under `make -C`)
local checkout = (function()
  local p = io.popen("pwd")
  local dir = p:read("l")
  p:close()
  return dir
end)()
local counter = checkout .. "/spec/bpf/counter.bpf.o"

describe("the rock", function()
  local tree

  setup(function() tree = tmpdir() end)
  teardown(function() os.execute("rm -rf " .. tree) end)

  it("installs with luarocks make and loads from another directory", function()
    local out, rc = sh(("luarocks --lua-version=5.4 make rockspec/lua-libbpf-scm-1.rockspec --tree %s")
      :format(tree))
    assert.equal(0, rc, out)
    assert.matches("lua%-libbpf scm%-1 is now installed in " .. tree:gsub("%p", "%%%0"), out)
    -- from /: only the tree's paths, not the checkout's
    local script = [[
      local bpf = require "libbpf"
      print(package.searchpath("libbpf.core", package.cpath))
      print(package.searchpath("libbpf", package.path))
      print(package.searchpath("libbpf.repl", package.path))
      local obj = assert(bpf.open(arg[1]))
      print(obj)
      obj:close()
    ]]
    local f = assert(io.open(tree .. "/probe.lua", "w"))
    f:write(script)
    f:close()
    out, rc = sh(("cd / && eval \"$(luarocks --lua-version=5.4 --tree %s path)\" && lua5.4 %s/probe.lua %s")
      :format(tree, tree, counter))
    assert.equal(0, rc, out)
    local core, lua, replmod, obj = out:match("^([^\n]*)\n([^\n]*)\n([^\n]*)\n([^\n]*)\n$")
    assert.equal(tree .. "/lib/lua/5.4/libbpf/core.so", core)
    assert.equal(tree .. "/share/lua/5.4/libbpf.lua", lua)
    assert.equal(tree .. "/share/lua/5.4/libbpf/repl.lua", replmod)
    assert.matches("^libbpf.object%(counter, libbpf, not loaded", obj)
  end)

  it("installs lbpf, which runs from another directory", function()
    local lbpf = tree .. "/bin/lbpf"
    local input = "'obj:load()' 'package.searchpath(\"libbpf.core\", package.cpath)' 'help(bpf.open)'"
    local out, rc = sh(("cd / && printf '%%s\\n' %s | %s %s"):format(input, lbpf, counter))
    assert.equal(0, rc, out)
    assert.matches("libbpf.object%(counter, libbpf, loaded", out)
    assert.matches(tree .. "/lib/lua/5.4/libbpf/core.so", out, 1, true)
    assert.matches("Open a BPF ELF object file", out, 1, true) -- the reference was installed
  end)
end)

describe("make install", function()
  it("installs the module and lbpf under DESTDIR without luarocks", function()
    local dest = tmpdir()
    finally(function() os.execute("rm -rf " .. dest) end)
    local out, rc = sh(("make --no-print-directory install DESTDIR=%s PREFIX=/usr/local"):format(dest))
    assert.equal(0, rc, out)
    local root = dest .. "/usr/local"
    for _, f in ipairs({"/lib/lua/5.4/libbpf/core.so", "/share/lua/5.4/libbpf.lua",
                        "/share/lua/5.4/libbpf/repl.lua", "/share/lua/5.4/libbpf/pretty.lua",
                        "/bin/lbpf"}) do
      assert.is_true(io.open(root .. f) ~= nil, f)
    end
    out, rc = sh(("cd / && printf '%%s\\n' 'package.searchpath(\"libbpf.core\", package.cpath)' obj.name | " ..
                  "LUA_PATH='%s/share/lua/5.4/?.lua;;' LUA_CPATH='%s/lib/lua/5.4/?.so;;' %s/bin/lbpf %s")
      :format(root, root, root, counter))
    assert.equal(0, rc, out)
    assert.matches(root .. "/lib/lua/5.4/libbpf/core.so", out, 1, true)
    assert.matches('"counter"', out)
  end)
end)
