--- What attach kinds this kernel offers, learnt by trying them.
--
-- Third-party objects carry programs for hooks a kernel may lack (kprobes
-- when CONFIG_KPROBES is off, fentry/fexit/LSM when the kernel refuses
-- tracing programs). Their own tools probe first and turn such programs off
-- with set_autoload(false); so do we. Each kind is probed once, by loading and
-- attaching the one program of spec/bpf/compat_probe.bpf.o made for it.
local bpf = require "libbpf"

local M = {}

local PROBE_OBJ = "spec/bpf/compat_probe.bpf.o"

-- Section prefix (before the first '/') -> the probe program that stands for it.
local PROBE_OF_PREFIX = {
  kprobe = "probe_kprobe", ksyscall = "probe_kprobe",
  kretprobe = "probe_kretprobe", kretsyscall = "probe_kretprobe",
  fentry = "probe_fentry", ["fentry.s"] = "probe_fentry",
  fexit = "probe_fexit", ["fexit.s"] = "probe_fexit",
  fmod_ret = "probe_fmod_ret", ["fmod_ret.s"] = "probe_fmod_ret",
  lsm = "probe_lsm", ["lsm.s"] = "probe_lsm",
  tp_btf = "probe_tp_btf",
}

local verdicts = {} -- probe program name -> {ok = bool, why = string}

--- Load and attach one probe program alone; the verdict says whether it worked.
-- @param name probe program name in compat_probe.bpf.o
-- @return table {ok = boolean, why = message of the first failure or nil}
local function try(name)
  local obj <close> = assert(bpf.open(PROBE_OBJ))
  for n, p in pairs(obj.progs) do p:set_autoload(n == name) end
  local ok, err = obj:load()
  if not ok then return {ok = false, why = err} end
  local link, aerr = obj.progs[name]:attach()
  if not link then return {ok = false, why = aerr} end
  link:destroy()
  return {ok = true}
end

--- The probe verdict for a program's section, or nil when no probe covers it
-- (such programs are left on: only kinds known to be missing are turned off).
-- @param section ELF section name, e.g. "fentry/vfs_read"
-- @return table {ok =, why =} or nil
function M.verdict(section)
  local probe = PROBE_OF_PREFIX[section:match("^[^/]+")]
  if not probe then return nil end
  if not verdicts[probe] then verdicts[probe] = try(probe) end
  return verdicts[probe]
end

--- Names of an open object's programs whose attach kind this kernel lacks.
-- @param obj an opened, not yet loaded libbpf.object
-- @return sorted list of program names
function M.unavailable(obj)
  local off = {}
  for name, p in pairs(obj.progs) do
    local v = M.verdict(p.section)
    if v and not v.ok then off[#off + 1] = name end
  end
  table.sort(off)
  return off
end

return M
