-- uprobes on a function of a test binary (spec/usdt/usdt_target, whose
-- lbpf_uprobe_tick(i) runs once per line it reads): auto-attach sections
-- retargeted with obj:attach{uprobe_path=}, and a probe by function name +
-- an offset into it (spec/bpf/uprobe_target.bpf.c).
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local TARGET = "spec/usdt/usdt_target"
local FUNC = "lbpf_uprobe_tick"

-- run the target over n lines: lbpf_uprobe_tick(1..n); it exits at EOF
local function run_target(n)
  local p = assert(io.popen(TARGET .. " >/dev/null", "w"))
  p:write(("x\n"):rep(n))
  assert(p:close())
end

-- what lbpf_uprobe_tick returns (usdt_target.c)
local function tick(i) return (i * 3 + 1) ~ 0x55 end

local function loaded()
  local obj = assert(bpf.open(H.obj("uprobe_target")))
  assert(obj:load())
  return obj
end

describe("obj:attach{uprobe_path=}", function()
  it("retargets the auto-attach uprobes of /proc/self/exe to another binary", function()
    local obj <close> = loaded()
    -- as written, /proc/self/exe is this lua5.4, which has no such function
    local none, err = obj:attach()
    assert.is_nil(none)
    assert.matches("%(u%a*probe//proc/self/exe:" .. FUNC .. "%) failed: No such file", err)
    local links = assert(obj:attach{uprobe_path = TARGET})
    assert.matches("^libbpf.link%(uprobe " .. TARGET .. ":" .. FUNC, tostring(links.on_tick_auto))
    assert.matches("^libbpf.link%(uretprobe " .. TARGET .. ":" .. FUNC, tostring(links.on_tick_ret))
    assert.is_nil(links.on_tick_off) -- SEC("uprobe") says nowhere: not auto-attached
    run_target(3)
    assert.equal(3, obj.vars.entry_hits)
    assert.equal(3, obj.vars.ret_hits)
    assert.equal(3, obj.vars.last_arg)
    assert.equal(tick(3), obj.vars.last_ret)
  end)

  it("takes a path per program; the others keep their section's", function()
    local obj <close> = loaded()
    local copy = os.tmpname()
    finally(function() os.remove(copy) end)
    assert(os.execute(("cp %s %s"):format(TARGET, copy)))
    -- the return probe goes to a copy nobody runs
    local links = assert(obj:attach{uprobe_path = {on_tick_auto = TARGET, on_tick_ret = copy}})
    assert.matches("uretprobe " .. copy, tostring(links.on_tick_ret), 1, true)
    run_target(2)
    assert.equal(2, obj.vars.entry_hits)
    assert.equal(0, obj.vars.ret_hits)
    for _, l in pairs(links) do l:destroy() end
    -- one program retargeted, the other left on /proc/self/exe: that one fails
    local none, err = obj:attach{uprobe_path = {on_tick_auto = TARGET}}
    assert.is_nil(none)
    assert.matches("attach 'on_tick_ret' %(uretprobe//proc/self/exe:" .. FUNC .. "%) failed", err)
  end)

  it("says which file or function is missing, and refuses what it cannot retarget", function()
    local obj <close> = loaded()
    local none, err = obj:attach{uprobe_path = "/nonexistent/bin"}
    assert.is_nil(none)
    assert.matches("u%a*probe /nonexistent/bin:" .. FUNC .. " %(no file '/nonexistent/bin'%)", err)
    none, err = obj:attach{uprobe_path = "/bin/true"}
    assert.is_nil(none)
    assert.matches("no function '" .. FUNC .. "' in /bin/true", err)
    assert.error_matches(function() obj:attach{uprobe_path = {nope = TARGET}} end,
                         "uprobe_path: no program 'nope'")
    assert.error_matches(function() obj:attach{uprobe_path = {on_tick_off = TARGET}} end,
                         "program 'on_tick_off' %(uprobe%) is not an auto%-attach uprobe")
    assert.error_matches(function() obj:attach{uprobe_path = 5} end,
                         "uprobe_path must be a path or {program name = path}, got number")
    assert.error_matches(function() obj:attach{uprobe_paths = TARGET} end,
                         "unknown option 'uprobe_paths'")
  end)
end)

describe("attach_uprobe{func=, offset=}", function()
  -- the offset of the third instruction of FUNC, from objdump -d
  local function third_insn_offset()
    local p = assert(io.popen("objdump -d --no-show-raw-insn " .. TARGET))
    local start, addrs, inside = nil, {}, false
    for line in p:lines() do
      local a = line:match("^(%x+) <" .. FUNC .. ">:$")
      if a then start, inside = tonumber(a, 16), true
      elseif inside then
        local insn = line:match("^%s+(%x+):")
        if not insn then inside = false else addrs[#addrs + 1] = tonumber(insn, 16) end
      end
    end
    p:close()
    assert(start and #addrs >= 4, "no instructions of " .. FUNC .. " in objdump's output")
    return addrs[3] - start
  end

  it("fires at the instruction that far into the function", function()
    local off = third_insn_offset()
    assert.is_true(off > 0)
    local obj <close> = loaded()
    local entry = assert(obj.progs.on_tick_auto:attach_uprobe{path = TARGET, func = FUNC})
    local at = assert(obj.progs.on_tick_off:attach_uprobe{
      path = TARGET, func = FUNC, offset = off,
      unchecked_offset = true})  -- x86: objdump found the boundary, not this module
    assert.matches("uprobe " .. TARGET .. ":" .. FUNC, tostring(at), 1, true)
    run_target(4)
    assert.equal(4, obj.vars.entry_hits)
    assert.equal(4, obj.vars.off_hits)
    -- both fired in one process: the addresses differ by the offset
    assert.equal(off, obj.vars.off_ip - obj.vars.entry_ip)
    entry:destroy()
    at:destroy()
  end)
end)
