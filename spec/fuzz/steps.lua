--- What the fuzzers' children (btf.lua, elf.lua) share: files, the call
-- log and the step that logs a call before making it.
local KNOWN = require "fuzz.known"

local M = {}

function M.readfile(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

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

return M
