--- Histograms printed the way bcc and libbpf-tools print them.
--
-- `log2` and `linear` return the text of bcc's `print_log2_hist` and
-- `print_linear_hist` (star bars, `usecs : count distribution` header);
-- `print_log2` and `print_linear` write it to a file (default `io.stdout`).
--
-- The counts come from a table keyed by slot number, starting at **0**
-- (slot `i` counts values in `[2^i, 2^(i+1))`), or from anything `pairs`
-- walks the same way, such as a map handle keyed by slot. A value that is a
-- table (one count per CPU from a per-CPU map) is summed. A Lua list such as
-- a decoded `unsigned int slots[N]` member starts at 1: pass it through
-- `hist.slots` first.
--
--     local hist = require "libbpf.hist"
--     hist.print_log2(hist.slots(value.slots), "usecs")
--
-- @module libbpf.hist
local M = {}

local STARS_MAX = 40

local function count_of(v)
  if type(v) ~= "table" then return math.tointeger(v) or 0 end
  local n = 0
  for _, c in ipairs(v) do n = n + (math.tointeger(c) or 0) end
  return n
end

-- counts keyed by slot (0-based) -> dense list vals[0..n-1], n, max value
local function collect(counts)
  local vals, n = {}, 0
  for k, v in pairs(counts) do
    local slot = math.tointeger(k)
    if not slot or slot < 0 then
      error(("histogram slot must be a non-negative integer, got %s"):format(tostring(k)), 3)
    end
    vals[slot] = count_of(v)
    if slot + 1 > n then n = slot + 1 end
  end
  local max, first, last = 0, nil, nil
  for i = 0, n - 1 do
    local v = vals[i] or 0
    vals[i] = v
    if v > 0 then
      last = i
      first = first or i
    end
    if v > max then max = v end
  end
  return vals, max, first, last
end

local function stars(val, max, width)
  local n = math.min(val, max) * width // max
  return ("*"):rep(n) .. (" "):rep(width - n) .. (val > max and "+" or "")
end

--- Convert a 1-based list of counts (a decoded C array) to slot-keyed counts.
-- @tparam {integer,...} list counts, `list[1]` being slot 0
-- @treturn table counts keyed by slot number from 0
-- @usage local counts = hist.slots({0, 3, 5})   --> {[0] = 0, [1] = 3, [2] = 5}
function M.slots(list)
  local t = {}
  for i, v in ipairs(list) do t[i - 1] = v end
  return t
end

--- Text of a power-of-two histogram, exactly as bcc's `print_log2_hist`.
-- @tparam table|userdata counts slot (0-based) -> count, or a map handle
-- @tparam[opt="value"] string val_type unit shown in the header ("usecs", "msecs", "kbytes")
-- @treturn string the histogram, `""` when every count is zero
-- @usage io.write(hist.log2(obj.maps.hist, "usecs"))
function M.log2(counts, val_type)
  val_type = val_type or "value"
  local vals, max, _, idx_max = collect(counts)
  if not idx_max then return "" end
  local narrow = idx_max <= 32
  local out = {}
  out[1] = ("%" .. (narrow and 5 or 15) .. "s%-" .. (narrow and 19 or 29) .. "s : count    distribution\n")
    :format("", val_type)
  local width = narrow and 10 or 20
  local nstars = narrow and STARS_MAX or STARS_MAX // 2
  local row = "%" .. width .. "d -> %-" .. width .. "d : %-8d |"
  for i = 0, idx_max do
    local low, high = (1 << (i + 1)) >> 1, (1 << (i + 1)) - 1
    if low == high then low = low - 1 end
    out[#out + 1] = row:format(low, high, vals[i]) .. stars(vals[i], max, nstars) .. "|\n"
  end
  return table.concat(out)
end

--- Text of a linear histogram, exactly as bcc's `print_linear_hist`:
-- slot `i` stands for values from `base + i * step`; empty slots are skipped.
-- @tparam table|userdata counts slot (0-based) -> count, or a map handle
-- @tparam[opt=0] integer base value of slot 0
-- @tparam[opt=1] integer step width of a slot
-- @tparam[opt="value"] string val_type unit shown in the header
-- @treturn string the histogram, `""` when every count is zero
-- @usage io.write(hist.linear({[0] = 2, [3] = 1}, 0, 10, "msecs"))
function M.linear(counts, base, step, val_type)
  base, step, val_type = base or 0, step or 1, val_type or "value"
  local vals, max, idx_min, idx_max = collect(counts)
  if not idx_max then return "" end
  local out = { ("     %-13s : count     distribution\n"):format(val_type) }
  for i = idx_min, idx_max do
    if vals[i] ~= 0 then
      out[#out + 1] = ("        %-10d : %-8d |"):format(base + i * step, vals[i])
        .. stars(vals[i], max, STARS_MAX) .. "|\n"
    end
  end
  return table.concat(out)
end

--- Write `log2(counts, val_type)` to `file` (default `io.stdout`).
-- @tparam table|userdata counts slot -> count, or a map handle
-- @tparam[opt] string val_type unit shown in the header
-- @tparam[opt=io.stdout] file file where to write
-- @usage hist.print_log2(hist.slots(value.slots), "usecs")
function M.print_log2(counts, val_type, file)
  (file or io.stdout):write(M.log2(counts, val_type))
end

--- Write `linear(counts, base, step, val_type)` to `file` (default `io.stdout`).
-- @tparam table|userdata counts slot -> count, or a map handle
-- @tparam[opt=0] integer base value of slot 0
-- @tparam[opt=1] integer step width of a slot
-- @tparam[opt] string val_type unit shown in the header
-- @tparam[opt=io.stdout] file file where to write
-- @usage hist.print_linear(counts, 0, 5, "kbytes", io.stderr)
function M.print_linear(counts, base, step, val_type, file)
  (file or io.stdout):write(M.linear(counts, base, step, val_type))
end

return M
