#!/usr/bin/env lua5.4
--- Checks that the C core reads bottom-up: no call circle and no include
-- circle between the files of csrc/.
--
-- Usage: `lua5.4 spec/tools/layers.lua [csrc-dir] [--order]`
--
-- It reads the sources (no build needed): every symbol a `.c` file defines
-- at file scope without `static` (functions and tables) belongs to that
-- file; file A "calls" file B when A names a symbol B defines. Local
-- includes (`#include "x.h"`) make the include graph. Either graph with a
-- cycle fails the run (exit 1) and the cycle is printed. With `--order`
-- the files are also listed leaves first, one layer a line.
-- @script layers

local dir = "csrc"
local want_order = false
for _, a in ipairs(arg) do
  if a == "--order" then want_order = true else dir = a end
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function list_sources()
  local files = {}
  local p = assert(io.popen('ls -1 "' .. dir .. '"'))
  for name in p:lines() do
    if name:match("%.[ch]$") then files[#files + 1] = name end
  end
  p:close()
  table.sort(files)
  return files
end

-- Comments, string and character literals blanked (kept as spaces so the
-- braces inside them do not count).
local function strip(src)
  src = src:gsub("/%*.-%*/", function(c) return (c:gsub("[^\n]", " ")) end)
  src = src:gsub("//[^\n]*", "")
  src = src:gsub('"[^"\n]*"', '""')
  src = src:gsub('"(\\.-)"', '""')
  src = src:gsub("'\\?.'", "' '")
  return src
end

-- Preprocessor lines are dropped for the symbol scan (macros may hide
-- braces), but kept for the include scan, which reads the raw text.
local function drop_directives(src)
  local out = {}
  local cont = false
  for line in (src .. "\n"):gmatch("([^\n]*)\n") do
    if cont or line:match("^%s*#") then
      cont = line:match("\\%s*$") ~= nil
      out[#out + 1] = ""
    else
      out[#out + 1] = line
    end
  end
  return table.concat(out, "\n")
end

local KEYWORDS = {}
for w in ([[if for while switch return sizeof do else case default goto
  break continue typedef struct union enum static const extern inline
  volatile register unsigned signed void char short int long float double
  _Bool __attribute__ __typeof__ typeof]]):gmatch("%S+") do
  KEYWORDS[w] = true
end

-- Split `src` into top-level statements (depth-0 text up to `;` or the
-- end of a `{...}` block) and return, for each, its head (the depth-0
-- text) and its body (all text inside braces).
local function top_level(src)
  local stmts, head, body, depth = {}, {}, {}, 0
  for i = 1, #src do
    local c = src:sub(i, i)
    if c == "{" then
      depth = depth + 1
      if depth > 1 then body[#body + 1] = c end
    elseif c == "}" then
      depth = depth - 1
      if depth > 0 then body[#body + 1] = c end
      if depth == 0 then
        -- a function body or an initializer: a function ends here, an
        -- initializer or struct definition ends at the next ';'
        local h = table.concat(head)
        if h:match("%)%s*$") then
          stmts[#stmts + 1] = {head = h, body = table.concat(body)}
          head, body = {}, {}
        else
          head[#head + 1] = " {} "
        end
      end
    elseif depth == 0 then
      if c == ";" then
        stmts[#stmts + 1] = {head = table.concat(head), body = table.concat(body)}
        head, body = {}, {}
      else
        head[#head + 1] = c
      end
    else
      body[#body + 1] = c
    end
  end
  return stmts
end

-- The symbol a top-level statement defines with external linkage, if any.
local function defined_symbol(head)
  if head:match("^%s*typedef") or head:match("%f[%w_]static%f[^%w_]")
     or head:match("%f[%w_]extern%f[^%w_]") then
    return nil
  end
  -- function definition: name just before the parameter list
  local fname = head:match("([%a_][%w_]*)%s*%b()%s*$")
  if fname and not KEYWORDS[fname] then return fname end
  -- table or variable with an initializer: `type name[] = {}` / `type name = x`
  local vname = head:match("([%a_][%w_]*)%s*%b[]%s*=") or head:match("([%a_][%w_]*)%s*=")
  if vname and not KEYWORDS[vname] then return vname end
  return nil
end

local files = list_sources()
local defs = {}      -- symbol -> file
local texts = {}     -- file -> stripped text
local includes = {}  -- file -> {included file, ...}

for _, f in ipairs(files) do
  local raw = read(dir .. "/" .. f)
  includes[f] = {}
  for inc in raw:gmatch('#%s*include%s*"([^"]+)"') do
    includes[f][#includes[f] + 1] = inc
  end
  local text = drop_directives(strip(raw))
  texts[f] = text
  if f:match("%.c$") then
    for _, st in ipairs(top_level(text)) do
      local sym = defined_symbol(st.head)
      if sym then
        if defs[sym] and defs[sym] ~= f then
          io.stderr:write(("layers: %s is defined in both %s and %s\n"):format(sym, defs[sym], f))
          os.exit(1)
        end
        defs[sym] = f
      end
    end
  end
end

-- file -> set of files whose symbols it names
local calls = {}
for _, f in ipairs(files) do
  if f:match("%.c$") then
    local set = {}
    for word in texts[f]:gmatch("[%a_][%w_]*") do
      local owner = defs[word]
      if owner and owner ~= f then set[owner] = set[owner] or word end
    end
    calls[f] = set
  end
end

local inc_graph = {}
for _, f in ipairs(files) do
  local set = {}
  for _, i in ipairs(includes[f]) do set[i] = i end
  inc_graph[f] = set
end

-- Depth-first search; returns the first cycle found as a list of nodes.
local function find_cycle(graph)
  local state, stack = {}, {}
  local function visit(n)
    state[n] = "open"
    stack[#stack + 1] = n
    local nexts = {}
    for m in pairs(graph[n] or {}) do nexts[#nexts + 1] = m end
    table.sort(nexts)
    for _, m in ipairs(nexts) do
      if state[m] == "open" then
        local cyc, start = {}, nil
        for i, s in ipairs(stack) do if s == m then start = i end end
        for i = start, #stack do cyc[#cyc + 1] = stack[i] end
        cyc[#cyc + 1] = m
        return cyc
      elseif not state[m] then
        local c = visit(m)
        if c then return c end
      end
    end
    stack[#stack] = nil
    state[n] = "done"
  end
  local nodes = {}
  for n in pairs(graph) do nodes[#nodes + 1] = n end
  table.sort(nodes)
  for _, n in ipairs(nodes) do
    if not state[n] then
      local c = visit(n)
      if c then return c end
    end
  end
end

-- Layers: a file's layer is one more than the highest layer it calls.
local function layers(graph)
  local level = {}
  local function lvl(n)
    if level[n] then return level[n] end
    level[n] = 0
    local l = 0
    for m in pairs(graph[n] or {}) do l = math.max(l, lvl(m) + 1) end
    level[n] = l
    return l
  end
  local byl = {}
  for n in pairs(graph) do
    local l = lvl(n)
    byl[l] = byl[l] or {}
    table.insert(byl[l], n)
  end
  return byl
end

local failed = false
local cyc = find_cycle(calls)
if cyc then
  failed = true
  local parts = {}
  for i = 1, #cyc - 1 do
    parts[#parts + 1] = ("%s -(%s)->"):format(cyc[i], calls[cyc[i]][cyc[i + 1]])
  end
  parts[#parts + 1] = cyc[#cyc]
  io.stderr:write("layers: call circle: " .. table.concat(parts, " ") .. "\n")
end
local icyc = find_cycle(inc_graph)
if icyc then
  failed = true
  io.stderr:write("layers: include circle: " .. table.concat(icyc, " -> ") .. "\n")
end

if want_order and not cyc then
  local byl = layers(calls)
  for l = 0, #byl do
    if byl[l] then
      table.sort(byl[l])
      print(("%d: %s"):format(l, table.concat(byl[l], " ")))
    end
  end
end

if failed then os.exit(1) end
print(("layers: %d files, no call or include circle"):format(#files))
