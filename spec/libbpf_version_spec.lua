-- Which libbpf the module uses (issue 14): `make` builds Debian trixie's
-- libbpf 1.5 from source and links it statically into core.so; `make
-- LIBBPF=system` links the system's (1.1.2 on bookworm). build/libbpf.mode,
-- written by the make that built core.so, says which one this run was built
-- with ("trixie 1.5.0" or "system 1.1.2"). APIs newer than the linked libbpf
-- raise "needs libbpf >= X.Y (built with A.B)".
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

local mode, mode_version = H.slurp("build/libbpf.mode"):match("^(%S+) (%S+)")
-- the core.so this process loaded (build/asan/libbpf/core.so under make asan)
local core = package.searchpath("libbpf.core", package.cpath)

describe("the linked libbpf", function()
  it("is the one the build mode names", function()
    assert.truthy(mode, "build/libbpf.mode: " .. H.slurp("build/libbpf.mode"))
    assert.equal(mode_version, bpf.libbpf_version)
    if mode == "trixie" then
      assert.matches("^1%.5%.%d+$", bpf.libbpf_version)
      assert.equal("1.5", bpf.libbpf_runtime_version)
    else
      assert.equal("system", mode)
      assert.equal(sh("pkg-config --modversion libbpf"):match("%S+"), bpf.libbpf_version)
      assert.equal(bpf.libbpf_version:match("^%d+%.%d+"), bpf.libbpf_runtime_version)
    end
  end)

  it("is inside core.so, its symbols hidden, by default; the system's .so under LIBBPF=system", function()
    assert.truthy(core, package.cpath)
    local ldd = sh("ldd " .. core)
    assert.matches("libelf", ldd) -- ldd did run
    local exported = sh("nm -D --defined-only " .. core)
    assert.matches("luaopen_libbpf_core", exported)
    assert.not_matches("bpf_object__open", exported)
    if mode == "trixie" then
      assert.not_matches("libbpf%.so", ldd)
      -- and libbpf's code is there: its version string is in core.so
      assert.matches("libbpf_major_version", sh("nm " .. core .. " | grep -w libbpf_major_version"))
    else
      assert.matches("libbpf%.so%.1 => ", ldd)
    end
  end)
end)

describe("an API newer than the linked libbpf", function()
  it("raw_tp with a cookie: the program reads it (1.5), or 'needs libbpf >= 1.5' (system 1.1)", function()
    local obj <close> = assert(bpf.open(H.obj("libbpf15")))
    assert(obj:load())
    local p = obj.progs.raw_cookie
    local cookie = 0x1234abcd5678
    if mode == "system" and not bpf.libbpf_version:match("^1%.[5-9]") then
      local ok, err = pcall(p.attach_raw_tracepoint, p, "sys_enter", {cookie = cookie})
      assert.is_false(ok)
      assert.matches("attach_raw_tracepoint{cookie=} needs libbpf >= 1.5 (built with "
        .. bpf.libbpf_version:match("^%d+%.%d+") .. ")", err, 1, true)
      return
    end
    local link <close> = assert(p:attach_raw_tracepoint("sys_enter", {cookie = cookie}))
    H.wait_until(function()
      os.execute("true")
      return obj.vars.hits > 0
    end, 5, "the raw_tp program to run")
    assert.equal(cookie, obj.vars.seen_cookie)
    assert.equal("raw_tracepoint", link:info().type)
    -- options are checked like everywhere else
    assert.has_error(function() p:attach_raw_tracepoint("sys_enter", {cokie = 1}) end)
  end)
end)

describe("a USDT object built with another libbpf's usdt.bpf.h", function()
  -- spec/bpf/usdt_layout.bpf.c: 1.7's spec layout (304 bytes); 1.1 to 1.6 write 208
  local rebuild = "object 'usdt_layout' was built with a usdt.bpf.h whose USDT spec is 304 bytes, "
    .. "libbpf " .. bpf.libbpf_runtime_version .. " writes 208: rebuild it with the BPF headers of libbpf "
    .. bpf.libbpf_runtime_version

  local function loaded()
    local obj = assert(bpf.open(H.obj("usdt_layout")))
    assert(obj:load())
    return obj
  end

  it("is refused by attach_usdt, prog:attach() and obj:attach(), saying to rebuild it", function()
    local obj <close> = loaded()
    local l, err, code = obj.progs.on_tick:attach_usdt{
      path = "spec/usdt/usdt_target", provider = "lua_libbpf", name = "tick"}
    assert.is_nil(l)
    assert.matches("usdt spec/usdt/usdt_target:lua_libbpf:tick failed: " .. rebuild, err, 1, true)
    assert.equal(22, code) -- EINVAL
    l, err = obj.progs.on_tick_auto:attach()
    assert.is_nil(l)
    assert.matches("attach 'on_tick_auto' failed: " .. rebuild, err, 1, true)
    l, err = obj:attach()
    assert.is_nil(l)
    assert.matches("attach 'on_tick_auto' (usdt/spec/usdt/usdt_target:lua_libbpf:tick) failed: "
      .. rebuild, err, 1, true)
    -- nothing was attached: the probe fires nothing
    local p = assert(io.popen("spec/usdt/usdt_target >/dev/null", "w"))
    p:write("a\nb\n")
    p:close()
    assert.equal(0, obj.vars.hits)
  end)
end)
