--- Pretty printer for Lua values and lua-libbpf handles.
--
-- Nested tables print one field a line, keys sorted (integers first, in
-- order), cycles marked, depth limited. Handles (`libbpf.object`,
-- `libbpf.map`, ...) print as their `tostring`; a map prints as its
-- contents when asked with `{maps=true}` or through `pretty.map`.
--
--     local pretty = require "libbpf.pretty"
--     print(pretty.format({pid = 1, comm = "init", args = {"a", "b"}}))
--     print(pretty.map(obj.maps.counts))
--
-- @module libbpf.pretty

local M = {}

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in
  local nil not or repeat return then true until while]]):gmatch("%a+") do
  KEYWORDS[w] = true
end

--- The metatable name of a value (`"libbpf.map"`), or nil.
-- @param v any value
-- @treturn ?string
-- @usage if pretty.typename(v) == "libbpf.map" then print(pretty.map(v)) end
function M.typename(v)
  local mt = getmetatable(v)
  local name = type(mt) == "table" and rawget(mt, "__name")
  return type(name) == "string" and name or nil
end

local function is_map(v)
  return type(v) == "userdata" and M.typename(v) == "libbpf.map"
end

-- Bytes that are not text (raw keys and values) print as hex.
local function is_binary(v)
  return v:find("[^\t\n\r\32-\126]") ~= nil
end

local function hex(v)
  return "<hex " .. v:gsub(".", function(c) return ("%02x"):format(c:byte()) end) .. ">"
end

local function scalar(v)
  local t = type(v)
  if t == "string" then
    if is_binary(v) then return hex(v) end
    return ("%q"):format(v):gsub("\\\n", "\\n")
  elseif t == "number" or t == "boolean" or t == "nil" then
    return tostring(v)
  end
  local ok, s = pcall(tostring, v)
  return ok and s or ("<" .. t .. ">")
end

-- A flag enum's single-bit values, low bit first (false for an enum that
-- is not flags), made once per names table: the tables are the codecs'
-- own, one per enum type, so the weak cache holds one entry per enum.
local FLAG_BITS = setmetatable({}, {__mode = "k"})

local function is_bit(v)
  return v > 0 and v & (v - 1) == 0
end

-- The rule (README "Typed values"): an enum is flags when no enumerator
-- is negative, at least two are single bits, every other non-zero one is
-- a combination of those bits (F_ALL = F_READ|F_WRITE|F_APPEND), and its
-- values do not count up one by one: 0, 1, 2 (or 1, 2, 3, 4) is an
-- ordinary enum whose 3 means nothing, not two flags.
local function flag_bits(names)
  local bits = FLAG_BITS[names]
  if bits ~= nil then return bits end
  local vals, all, lo, hi = {}, 0, math.maxinteger, 0
  bits = {}
  for v in next, names do
    if math.type(v) ~= "integer" or v < 0 then
      bits = false
      break
    end
    vals[#vals + 1] = v
    if is_bit(v) then bits[#bits + 1], all = v, all | v end
    lo, hi = math.min(lo, v), math.max(hi, v)
  end
  if bits and (#bits < 2 or hi - lo + 1 == #vals) then bits = false end
  for _, v in ipairs(bits and vals or {}) do
    if v & ~all ~= 0 then bits = false break end
  end
  if bits then table.sort(bits) end
  FLAG_BITS[names] = bits
  return bits
end

-- Enum values show by name where they are displayed (decoded values stay
-- integers): `names` is an enum's {[value] = "NAME"} table, from a record's
-- metatable (`__enums`, one per member) or `m:enum_names()`. A value that
-- is no enumerator of a flag enum shows as the names of its bits joined
-- with `|`, low bit first, and any bits without a name in hex
-- (`F_READ|F_APPEND`, `F_READ|0x40`); other values with no enumerator
-- (an unknown value, a flag enum's value with no named bit, a negative
-- one) show their number.
local function named(v, names)
  if not names or math.type(v) ~= "integer" then return scalar(v) end
  local name = names[v]
  if type(name) == "string" then return name end
  local bits = v > 0 and flag_bits(names)
  if bits then
    local out, rest = {}, v
    for _, b in ipairs(bits) do
      if rest & b ~= 0 then out[#out + 1], rest = names[b], rest & ~b end
    end
    if #out > 0 then
      if rest ~= 0 then out[#out + 1] = ("0x%x"):format(rest) end
      return table.concat(out, "|")
    end
  end
  return scalar(v)
end

local function key_text(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then
    return k
  end
  return "[" .. scalar(k) .. "]"
end

-- integers first (numerically), then other keys by type and text
local function key_less(a, b)
  local ta, tb = math.type(a) == "integer", math.type(b) == "integer"
  if ta and tb then return a < b end
  if ta ~= tb then return ta end
  local sa, sb = type(a) .. tostring(a), type(b) .. tostring(b)
  return sa < sb
end

-- The contents of a map as a table (nil, message when reading fails).
local function map_contents(m, limit)
  local t, n = {}, 0
  local ok, err = pcall(function()
    for k, v in pairs(m) do
      n = n + 1
      if n > limit then break end
      t[k] = v
    end
  end)
  if not ok then return nil, err end
  return t, n > limit
end

local format_value

local function format_table(t, opts, depth, seen, out, names)
  if seen[t] then out[#out + 1] = "<cycle>" return end
  if depth >= opts.depth then out[#out + 1] = "{...}" return end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  if #keys == 0 then out[#out + 1] = "{}" return end
  table.sort(keys, key_less)
  seen[t] = true
  local seq = #keys == #t -- a list: no keys printed
  if not seq then names = nil end -- enum names apply to a list's elements
  local pad = opts.indent:rep(depth + 1)
  out[#out + 1] = "{\n"
  for i, k in ipairs(keys) do
    if i > opts.items then
      out[#out + 1] = pad .. ("... (%d more)\n"):format(#keys - opts.items)
      break
    end
    out[#out + 1] = pad
    if not seq then out[#out + 1] = key_text(k) .. " = " end
    format_value(t[k], opts, depth + 1, seen, out, names)
    out[#out + 1] = ",\n"
  end
  out[#out + 1] = opts.indent:rep(depth) .. "}"
  seen[t] = nil
end

function format_value(v, opts, depth, seen, out, names)
  if names and math.type(v) == "integer" then
    out[#out + 1] = named(v, names)
  elseif type(v) == "table" and not (getmetatable(v) or {}).__tostring then
    format_table(v, opts, depth, seen, out, names)
  elseif opts.maps and is_map(v) then
    local t, more = map_contents(v, opts.items)
    if not t then
      out[#out + 1] = scalar(v) .. " -- " .. tostring(more)
      return
    end
    out[#out + 1] = scalar(v) .. " "
    format_table(t, opts, depth, seen, out)
    if more then out[#out + 1] = " -- first " .. opts.items .. " entries" end
  else
    out[#out + 1] = scalar(v)
  end
end

-- ------------------------------------------------------------------------
-- Records: structs decoded from BTF (ring buffer records, map values,
-- obj.vars) carry a metatable listing their members in declaration order
-- (`__members`, set by the C codec); `tostring` of one calls `record`.

--- Whether `v` is a decoded struct (a table whose metatable lists its
-- members).
-- @param v any value
-- @treturn boolean
-- @usage if pretty.is_record(ev) then print(pretty.record(ev)) end
function M.is_record(v)
  local mt = type(v) == "table" and getmetatable(v)
  return type(mt) == "table" and type(rawget(mt, "__members")) == "table"
end

local RECORD_ITEMS = 16    -- list elements shown before "..."
local RECORD_BYTES = 128   -- string bytes shown before "..."
local RECORD_DEPTH = 6

local ESCAPES = {['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r"}

-- A Lua literal of string s: printable ASCII as is, other bytes \xNN.
local function quote(s)
  local more = #s > RECORD_BYTES
  if more then s = s:sub(1, RECORD_BYTES) end
  s = s:gsub('[%c"\\\128-\255]', function(c)
    return ESCAPES[c] or ("\\x%02x"):format(c:byte())
  end)
  return '"' .. s .. '"' .. (more and "..." or "")
end

local inline

-- members of a record in declaration order, then any other keys (sorted);
-- a member of an enum type (or a list of one) by enumerator name
local function record_fields(t, depth, out)
  local mt = getmetatable(t)
  local members, enums, seen = mt.__members, rawget(mt, "__enums"), {}
  for _, name in ipairs(members) do
    seen[name] = true
    local v = rawget(t, name)
    if v ~= nil then
      out[#out + 1] = key_text(name) .. "=" .. inline(v, depth + 1, enums and enums[name])
    end
  end
  local extra = {}
  for k in next, t do
    if not seen[k] then extra[#extra + 1] = k end
  end
  table.sort(extra, key_less)
  for _, k in ipairs(extra) do
    out[#out + 1] = key_text(k) .. "=" .. inline(rawget(t, k), depth + 1)
  end
end

-- a value on one line, as a record shows it (names: of an enum, for an
-- integer or the elements of a list)
function inline(v, depth, names)
  local t = type(v)
  if names and math.type(v) == "integer" then return named(v, names) end
  if t == "string" then return quote(v) end
  if t ~= "table" or (getmetatable(v) and not M.is_record(v)) then return scalar(v) end
  if depth >= RECORD_DEPTH then return "{...}" end
  local out = {}
  if M.is_record(v) then
    record_fields(v, depth, out)
  elseif #v > 0 then
    for i = 1, math.min(#v, RECORD_ITEMS) do out[i] = inline(v[i], depth + 1, names) end
    if #v > RECORD_ITEMS then out[#out + 1] = "..." end
  else
    local keys = {}
    for k in next, v do keys[#keys + 1] = k end
    table.sort(keys, key_less)
    for _, k in ipairs(keys) do
      out[#out + 1] = key_text(k) .. "=" .. inline(v[k], depth + 1)
    end
  end
  return "{" .. table.concat(out, ", ") .. "}"
end

--- A decoded struct on one line: `{pid=123, comm="bash", kind=EV_EXEC}`.
-- Members come in declaration order, nested structs and arrays inline,
-- a member of an enum type by its enumerator's name (a combination of a
-- flag enum's bits as their names joined with `|`, `F_READ|F_APPEND`; any
-- other value no enumerator has as its number; the decoded value itself
-- stays an integer), `char[N]`
-- as strings (bytes that are not printable ASCII as `\xNN`), lists after
-- 16 elements and strings after 128 bytes cut with `...`. `tostring` (and
-- so `print`) of a decoded struct calls this.
-- @tparam table t a decoded struct (or any table)
-- @treturn string
-- @usage print(pretty.record(ev))   -- same as print(ev)
function M.record(t)
  return inline(t, 0)
end

--- Format a value as text.
-- @param v any value
-- @tparam[opt] table opts `depth` (default 6) nesting levels shown,
--   `items` (default 200) entries per table or map, `indent` (default two
--   spaces), `maps` (default false) print `libbpf.map` handles as their contents
-- @treturn string
-- @usage print(pretty.format({pid = 1, comm = "init"}, {depth = 2}))
function M.format(v, opts)
  opts = opts or {}
  local o = {
    depth = opts.depth or 6,
    items = opts.items or 200,
    indent = opts.indent or "  ",
    maps = opts.maps or false,
  }
  local out = {}
  format_value(v, o, 0, {}, out)
  return table.concat(out)
end

-- Maps that can only be read by taking values out of them.
local QUEUES = {queue = true, stack = true, bloom_filter = true}

-- a sort order of member names: as the record's struct declares them
local function member_order(v)
  local pos = {}
  for i, name in ipairs(getmetatable(v).__members) do pos[name] = i end
  return function(a, b) return (pos[a] or math.huge) < (pos[b] or math.huge) or
    (pos[a] == pos[b] and a < b) end
end

-- Rows of flat records (every value a table of scalars with the same
-- fields) as aligned columns: KEY then one column per field; nil otherwise.
-- Enum keys (key_names) and enum members show by name.
local function columns(t, keys, key_names)
  local fields, seen = nil, {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if type(v) ~= "table" or (getmetatable(v) and not M.is_record(v)) then return nil end
    local names = {}
    for f, x in next, v do
      if type(f) ~= "string" or type(x) == "table" then return nil end
      names[#names + 1] = f
    end
    table.sort(names, M.is_record(v) and member_order(v) or nil)
    local sig = table.concat(names, ",")
    if fields and sig ~= seen.sig then return nil end
    fields, seen.sig = names, sig
  end
  if not fields or #fields == 0 then return nil end
  local rows = {{"KEY"}}
  for _, f in ipairs(fields) do rows[1][#rows[1] + 1] = f end
  for _, k in ipairs(keys) do
    local row = {named(k, key_names)}
    local mt = getmetatable(t[k])
    local enums = mt and rawget(mt, "__enums") or {}
    for _, f in ipairs(fields) do row[#row + 1] = named(t[k][f], enums[f]) end
    rows[#rows + 1] = row
  end
  local width = {}
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do width[i] = math.max(width[i] or 0, #cell) end
  end
  local out = {}
  for _, row in ipairs(rows) do
    local cells = {}
    for i, cell in ipairs(row) do
      cells[i] = i < #row and cell .. (" "):rep(width[i] - #cell) or cell
    end
    out[#out + 1] = table.concat(cells, "  ")
  end
  return table.concat(out, "\n")
end

--- Format a map handle followed by its contents, sorted by key. Keys are
-- always shown; records with the same flat fields print as aligned
-- columns; bytes that are not text print as hex; a key, value or member
-- of an enum type shows its enumerator's name (`map:enum_names`), a flag
-- enum's combination its bits' names (`F_READ|F_APPEND`, as `record`). A queue
-- or stack shows only its head (listing it would take its values), decoded
-- with the value type of the map's definition in its object.
-- @param m a `libbpf.map`
-- @tparam[opt] table opts as for `format`
-- @treturn string
-- @usage print(pretty.map(obj.maps.exec_counts, {items = 20}))
function M.map(m, opts)
  local o = {depth = 6, items = 200, indent = "  ", maps = true}
  for k, v in pairs(opts or {}) do o[k] = v end
  if not is_map(m) then return M.format(m, o) end
  local head = scalar(m)
  local ok, kind = pcall(function() return m.type end)
  if ok and QUEUES[kind] then
    local pok, v, err = pcall(m.peek, m)
    if not pok then return head .. " -- " .. tostring(v) end
    if v == nil and err then return head .. " -- " .. tostring(err) end
    -- an enum value shows by name, as in other maps
    local eok, enums = pcall(m.enum_names, m)
    local text = v == nil and "(empty)" or math.type(v) == "integer" and
      named(v, eok and enums.value or nil) or M.format(v, o)
    return head .. (" %s: head = %s (the rest cannot be listed without taking it)")
      :format(kind, text)
  end
  local t, more = map_contents(m, o.items)
  if not t then return head .. " -- " .. tostring(more) end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  if #keys == 0 then return head .. " {}" end
  table.sort(keys, key_less)
  local eok, enums = pcall(m.enum_names, m)
  if not eok then enums = {} end
  local text = columns(t, keys, enums.key)
  if text then
    text = head .. "\n" .. text
  else
    local out = {head, " {\n"}
    for _, k in ipairs(keys) do
      out[#out + 1] = o.indent .. "[" .. named(k, enums.key) .. "] = "
      format_value(t[k], o, 1, {}, out, enums.value)
      out[#out + 1] = ",\n"
    end
    out[#out + 1] = "}"
    text = table.concat(out)
  end
  if more then text = text .. "\n-- first " .. o.items .. " entries" end
  return text
end

--- Print values like `print`, each formatted with `format`.
-- @param ... values
-- @usage pretty.print(obj, obj.maps, {1, 2, 3})
function M.print(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = M.format((select(i, ...))) end
  io.write(table.concat(parts, "\t"), "\n")
end

return M
