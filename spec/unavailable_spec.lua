-- Hooks this kernel may lack (kprobes: CONFIG_KPROBES): every path that
-- reaches them says why, obj:attach() and prog:attach() included, not only
-- attach_kprobe (spec/attach_spec.lua).
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local EOPNOTSUPP = 95

local function kprobes()
  local obj = assert(bpf.open(H.obj("kprobes")))
  assert(obj:load())
  return obj
end

describe("kprobe-family sections", function()
  it("bpf.probe answers for ksyscall as for kprobe", function()
    local ok, why = bpf.probe("ksyscall")
    local kok, kwhy = bpf.probe("kprobe")
    assert.equal(kok, ok)
    assert.equal(kwhy, why)
    if not ok then assert.matches("CONFIG_KPROBES", why) end
    assert.equal(ok, bpf.features().attach.ksyscall)
  end)

  it("obj:attach() explains missing kprobes, or attaches them", function()
    local obj <close> = kprobes()
    local links, err, code = obj:attach()
    if bpf.probe("kprobe") then
      assert.truthy(links, err)
      assert.truthy(links.on_nanosleep and links.on_getppid)
      return
    end
    assert.is_nil(links)
    assert.matches("attach 'on_%a+' %(k[%a/_]+%) failed: kprobes are not available: CONFIG_KPROBES is off", err)
    assert.equal(EOPNOTSUPP, code)
  end)

  it("prog:attach() of a ksyscall and a kprobe section explains it too", function()
    local obj <close> = kprobes()
    for name, sec in pairs{on_getppid = "ksyscall/getppid", on_nanosleep = "kprobe/do_nanosleep"} do
      local link, err, code = obj.progs[name]:attach()
      if bpf.probe("kprobe") then
        assert.truthy(link, err)
      else
        assert.is_nil(link)
        local head = ("attach '%s' (%s) failed: kprobes are not available: "):format(name, sec)
        assert.equal(head, err:sub(1, #head))
        assert.matches("CONFIG_KPROBES", err)
        assert.equal(EOPNOTSUPP, code)
      end
    end
  end)
end)
