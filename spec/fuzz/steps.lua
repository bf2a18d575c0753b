--- What the fuzzers' children (btf.lua, elf.lua) share: files, the call
-- log and the step that logs a call before making it.
local KNOWN = require "fuzz.known"

local M = {}

M.readfile = require("helpers").read

function M.writefile(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

--- The log at `path` and the step function writing to it. `step(line, fn,
-- ...)` logs `line`, flushed (after a crash, the last line of the log is
-- the call that crashed), then makes the call in pcall; a line matching a
-- known crash (spec/fuzz/known.lua) is logged as skipped unless FUZZ_ALL=1.
function M.open_log(path)
  local out = assert(io.open(path, "w"))
  local all = os.getenv("FUZZ_ALL") == "1"
  local function log(line)
    out:write(line, "\n")
    out:flush()
  end
  local function known(line)
    if all then return nil end
    for _, k in ipairs(KNOWN) do
      if line:find(k.pattern) then return k.id end
    end
  end
  local function step(line, fn, ...)
    local id = known(line)
    if id then log(line .. "  -- skipped: " .. id); return false end
    log(line)
    return pcall(fn, ...)
  end
  return log, step, out
end

--- The tag of mutant `n` in the step lines: its number and the kinds of
-- its mutations (`what`: descriptions starting "[kind]"), which
-- spec/fuzz/known.lua patterns match.
function M.tag(n, what)
  local kinds = {}
  for _, d in ipairs(what) do kinds[#kinds + 1] = d:match("^%[(%w+)%]") or "none" end
  return ("mutant %d <%s>"):format(n, table.concat(kinds, ","))
end

--- What one map of a mutant may ask the kernel for.
M.KERNEL_BYTES_CAP = 64 * 1024 * 1024

--- Shrink the maps of unloaded `obj` that would ask the kernel for more
-- than KERNEL_BYTES_CAP: a mutant's max_entries is a request the kernel
-- honours (2^31 per-CPU elements kept it allocating for minutes until the
-- OOM killer ended the run: BTF seed 31, mutant 2953), and the module
-- passes sizes through as libbpf does. Returns false when a map could not
-- be shrunk (a legacy object's: set_max_entries is libbpf's), true else.
function M.cap_maps(obj)
  local capped = true
  for _, m in pairs(obj.maps) do
    local per = (m.key_size or 0) + (m.value_size or 0)
    local cpus = tostring(m.type):find("percpu") and 2 or 1
    if (m.max_entries or 0) * math.max(per, 1) * cpus > M.KERNEL_BYTES_CAP and
       not pcall(m.set_max_entries, m, m.type == "ringbuf" and 65536 or 64) then
      capped = false
    end
  end
  return capped
end

return M
