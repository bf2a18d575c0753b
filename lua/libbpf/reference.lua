--- The API reference at run time: the entries of `docs/api.luadoc`, looked
-- up by name or by value, for the REPL's `help(x)`.
--
-- The reference ships next to the Lua modules (`libbpf/api.luadoc`, put
-- there by `make install`); in a checkout it is read from `docs/`.
--
--     local ref = require "libbpf.reference"
--     print(ref.text("map:lookup"))
--     print(ref.text(obj.maps.counts))   -- the map class and its methods
--
-- @module libbpf.reference

local M = {}

local entries -- name -> text, parsed once
local order   -- names in file order

-- Where api.luadoc is: beside this module (installed), or the checkout's docs/.
local function find_file()
  local here = package.searchpath("libbpf.reference", package.path)
  local dir = here and here:match("^(.*)/[^/]*$") or "."
  for _, path in ipairs{dir .. "/api.luadoc", dir .. "/../../docs/api.luadoc"} do
    local f = io.open(path)
    if f then return f, path end
  end
end

-- One LDoc block ("--- summary" up to a line that is not a comment) as text:
-- the summary and description, then parameters and results, then the example.
local function entry_text(lines)
  local out, usage = {}, {}
  local name, in_usage
  for _, l in ipairs(lines) do
    local tag, rest = l:match("^@(%w+)%s*(.*)$")
    if tag == "function" or tag == "field" or tag == "type" then
      name = rest
      in_usage = false
    elseif tag == "usage" then
      in_usage = true
      usage[#usage + 1] = "  " .. rest
    elseif tag then
      in_usage = false
      local opt = rest:match("^%[opt[=]?([^%]]*)%]")
      local what = rest:gsub("^%[[^%]]*%]%s*", "")
      if opt then what = (opt ~= "" and ("[optional, default " .. opt .. "] ") or "[optional] ") .. what end
      out[#out + 1] = ("  %s %s"):format((tag:gsub("^t", "")), what)
    elseif in_usage then
      usage[#usage + 1] = "  " .. l
    else
      out[#out + 1] = l
    end
  end
  if not name then return nil end
  local text = name .. "\n" .. table.concat(out, "\n")
  if #usage > 0 then text = text .. "\nExample:\n" .. table.concat(usage, "\n") end
  return name, (text:gsub("\n+$", ""))
end

local function parse()
  if entries then return entries end
  entries, order = {}, {}
  local f = find_file()
  if not f then return entries end
  local block
  local function flush()
    if block then
      local name, text = entry_text(block)
      if name and not entries[name] then
        entries[name] = text
        order[#order + 1] = name
      end
    end
    block = nil
  end
  for line in f:lines() do
    local first = line:match("^%-%-%-%s?(.*)$")
    local more = line:match("^%-%-%s?(.*)$")
    if first then
      flush()
      block = {first}
    elseif more and block then
      block[#block + 1] = more
    else
      flush()
    end
  end
  flush()
  f:close()
  return entries
end

--- Whether the reference could be found.
-- @treturn boolean
-- @usage if not ref.available() then print("no reference installed") end
function M.available()
  return next(parse()) ~= nil
end

-- The class name of a handle ("map" for a libbpf.map), or nil.
local function class_of(v)
  local mt = getmetatable(v)
  local name = type(mt) == "table" and rawget(mt, "__name")
  return type(name) == "string" and name:match("^libbpf%.(.+)$") or nil
end

-- The methods table of a class, from its metatable's __index closure.
local function methods_of(class)
  local mt = debug.getregistry()["libbpf." .. class]
  local index = type(mt) == "table" and rawget(mt, "__index")
  if type(index) == "function" then
    local _, methods = debug.getupvalue(index, 1)
    if type(methods) == "table" then return methods end
  elseif type(index) == "table" then
    return index
  end
end

-- The reference name of a function value: a module function ("open") or a
-- method of a class ("map:lookup").
local function function_name(fn, module)
  for k, v in pairs(module or {}) do
    if v == fn and entries[k] then return k end
  end
  for _, name in ipairs(order) do
    local class, method = name:match("^([%w_]+):([%w_]+)$")
    local methods = class and methods_of(class)
    if methods and methods[method] == fn then return name end
  end
end

-- A class's entry followed by the names of its methods and fields.
local function class_text(class)
  local head = entries[class]
  if not head then return nil end
  local members = {}
  for _, name in ipairs(order) do
    local c, sep, m = name:match("^([%w_]+)([:.])([%w_]+)$")
    if c == class then members[#members + 1] = (sep == ":" and ":" or ".") .. m end
  end
  if #members == 0 then return head end
  return head .. "\nMembers: " .. table.concat(members, " ") .. "\n(help(\"" .. class
    .. ":name\") for one of them)"
end

--- The reference text for a name or a value.
-- @param x a name (`"open"`, `"map:lookup"`, `"map"`), a handle (its class),
--   or a function of the module or a method
-- @tparam[opt] table module the module table, to name its functions
-- @treturn string the entry, or `nil, message`
-- @usage print(ref.text("map:lookup"))
-- print(ref.text(bpf.open, bpf))
function M.text(x, module)
  parse()
  if not M.available() then
    return nil, "the API reference (api.luadoc) is not installed"
  end
  if type(x) == "string" then
    local key = x:gsub("^bpf%.", "")
    local text = class_text(key) or entries[key]
    if text then return text end
    return nil, ("no reference entry for '%s'"):format(x)
  elseif type(x) == "userdata" then
    local class = class_of(x)
    local text = class and class_text(class)
    if text then return text end
    return nil, ("no reference entry for %s"):format(tostring(x))
  elseif type(x) == "function" then
    local name = function_name(x, module)
    if name then return entries[name] end
    return nil, "no reference entry for this function"
  elseif type(x) == "table" and x == module then
    return entries["libbpf.core"] or nil, "see help(\"open\"), help(obj), help(map)"
  end
  return nil, ("no reference entry for a %s"):format(type(x))
end

return M
