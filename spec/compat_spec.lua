-- Compatibility: objects written by others (xdp-tools, libbpf-tools) open and
-- load through the Lua API exactly as they do through plain C libbpf
-- (build/load_c), with the programs whose attach kind this kernel lacks turned
-- off by set_autoload(false) on both sides.
local bpf = require "libbpf"
local H = require "helpers"
local probe = require "compat.probe"
local thirdparty = require "compat.thirdparty"

bpf.set_print(function() end) -- third-party objects make libbpf talkative

local LOAD_C = "build/load_c"

--- The canonical description of an object after a load attempt: map and
-- program lines sorted, then "load ERRNO" (0 on success). Same text as load_c.
local function sorted_description(lines)
  local last = table.remove(lines)
  table.sort(lines)
  lines[#lines + 1] = last
  return lines
end

local function describe_lua(path, off)
  local obj <close>, _, open_errno = bpf.open(path)
  if not obj then return {("open %d"):format(open_errno)} end
  for _, name in ipairs(off) do
    assert(obj.progs[name]:set_autoload(false))
  end
  local ok, _, errno = obj:load()
  local lines = {}
  for _, m in pairs(obj.maps) do
    lines[#lines + 1] = ("map %s %s %d %d %d"):format(m.name, m.type,
      m.key_size, m.value_size, m.max_entries)
  end
  for _, p in pairs(obj.progs) do
    lines[#lines + 1] = ("prog %s %s %s loaded=%d"):format(p.name, p.type,
      p.section, p.fd >= 0 and 1 or 0)
  end
  lines[#lines + 1] = ("load %d"):format(ok and 0 or errno)
  return sorted_description(lines)
end

local function describe_c(path, off)
  local p = io.popen(LOAD_C .. " " .. path .. " " .. table.concat(off, " ") .. " 2>/dev/null")
  local lines = {}
  for l in p:lines() do lines[#lines + 1] = l end
  local status = p:close()
  assert(status, "load_c failed on " .. path)
  return sorted_description(lines)
end

--- Programs to turn off: those whose attach kind the probes found missing.
-- (none when the object does not open: then both sides must fail alike).
local function unavailable(path)
  local obj <close> = bpf.open(path)
  return obj and probe.unavailable(obj) or {}
end

--- The format bpf.open recognised ("libbpf", or another loader's convention
-- that C libbpf does not read by design), nil when it does not open.
local function format_of(path)
  local obj <close> = bpf.open(path)
  return obj and obj.format
end

--- Maps pinned by name (xdp-filter's) land in /sys/fs/bpf/<map name> when
-- C libbpf or Lua loads the object: remove, once the spec is done, those that
-- were not there before it.
local function remove_new_pins(path)
  local names = {}
  do
    local obj <close> = bpf.open(path)
    if not obj then return end
    for name in pairs(obj.maps) do names[#names + 1] = name end
  end
  local before = {}
  for _, name in ipairs(names) do before[name] = H.exists("/sys/fs/bpf/" .. name) end
  finally(function()
    for _, name in ipairs(names) do
      if not before[name] then os.remove("/sys/fs/bpf/" .. name) end
    end
  end)
end

local objects = {}
for _, o in ipairs(thirdparty.xdp_tools()) do objects[#objects + 1] = o end
for _, o in ipairs(thirdparty.libbpf_tools("build/compat/libbpf-tools")) do
  objects[#objects + 1] = o
end
for _, o in ipairs(thirdparty.cilium_ebpf()) do objects[#objects + 1] = o end

local results = {} -- name -> {off =, load = errno}

describe("third-party objects", function()
  it("are installed (xdp-tools, libbpf-tools, cilium/ebpf: `make deps`)", function()
    local xdp, tools = thirdparty.xdp_tools(), 0
    for _, o in ipairs(objects) do
      if o.name:match("^libbpf%-tools") then tools = tools + 1 end
    end
    assert.is_true(#xdp >= 1, "no xdp-tools objects under /usr/lib/*/bpf")
    assert.is_true(tools >= 1, "no libbpf-tools objects (dpkg -L libbpf-tools)")
    assert.is_true(#thirdparty.cilium_ebpf() >= 1,
      "no cilium/ebpf test objects (dpkg -L golang-github-cilium-ebpf-dev)")
  end)

  for _, o in ipairs(objects) do
    it(o.name .. " loads as it does with C libbpf", function()
      remove_new_pins(o.path)
      local off = unavailable(o.path)
      local c = describe_c(o.path, off)
      local format = format_of(o.path)
      if format and format ~= "libbpf" then
        -- another loader's convention, read by bpf.open on purpose (DESIGN.md)
        assert.matches("^open %d+$", c[1])
        results[o.name] = {off = off, format = format}
        return
      end
      local lua = describe_lua(o.path, off)
      assert.is_true(#c >= 1, "load_c described nothing")
      assert.same(c, lua)
      local r = {off = off, load = tonumber(c[#c]:match("^load (%d+)$")),
        open = tonumber(c[#c]:match("^open (%d+)$"))}
      if #off > 0 then -- did turning them off matter? ask C libbpf without it
        local all = describe_c(o.path, {})
        r.needed_off = all[#all] ~= "load 0"
      end
      results[o.name] = r
    end)
  end

  it("mostly load, some only after turning off what the kernel lacks", function()
    local loaded, failed, needed_off, refused, other = 0, {}, 0, 0, 0
    for name, r in pairs(results) do
      if r.format then
        other = other + 1
      elseif r.open then
        refused = refused + 1
      elseif r.load == 0 then
        loaded = loaded + 1
        if r.needed_off then needed_off = needed_off + 1 end
      else
        failed[#failed + 1] = name .. " (errno " .. r.load .. ")"
      end
    end
    table.sort(failed)
    io.stderr:write(("\ncompat: %d objects: %d load, %d of them only with programs "
      .. "turned off; %d refused at open by both; %d read by bpf.open as another "
      .. "loader's format; load failing the same way in C and Lua: %s\n"):format(
      loaded + #failed + refused + other, loaded, needed_off, refused, other,
      table.concat(failed, ", ")))
    assert.is_true(loaded >= 1)
    -- where a probe found a kind missing, turning it off made some object load
    if not probe.verdict("fentry/x").ok or not probe.verdict("kprobe/x").ok then
      assert.is_true(needed_off >= 1)
    end
  end)
end)

describe("probing attach kinds", function()
  it("finds tracepoints working and turns nothing off for them", function()
    assert.is_nil(probe.verdict("tracepoint/syscalls/sys_enter_execve"))
    assert.is_true(probe.verdict("tp_btf/sched_switch").ok)
  end)

  it("agrees with the kernel on kprobes", function()
    local v = probe.verdict("kprobe/do_nanosleep")
    -- the kprobe PMU is what perf_event_open needs for a kprobe
    local pmu = io.open("/sys/bus/event_source/devices/kprobe/type")
    if pmu then pmu:close() end
    assert.equal(pmu ~= nil, v.ok, v.why)
  end)
end)

describe("a third-party object attached through the Lua API", function()
  it("libbpf-tools syscount counts execve(2) calls into its map", function()
    local path = "build/compat/libbpf-tools/syscount.bpf.o"
    assert.is_true(H.exists(path), path .. " missing: libbpf-tools' syscount is not installed (make deps)")
    local obj <close> = assert(bpf.open(path))
    for _, name in ipairs(probe.unavailable(obj)) do obj.progs[name]:set_autoload(false) end
    assert(obj:load())
    local data = obj.maps.data -- syscall id (u32) -> {u64 count, u64 total_ns, char comm[16]}
    local SYS_execve = 59
    local function execs()
      local v = data:lookup(SYS_execve) -- decoded by the object's BTF
      return v and v.count or 0
    end
    local before = execs()
    local links = assert(obj:attach())
    assert.truthy(links.sys_enter)
    assert.truthy(links.sys_exit)
    H.run("/bin/true", 5)
    assert.is_true(execs() - before >= 5)
  end)
end)
