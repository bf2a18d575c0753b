--- C declarations to BTF: the parser behind `bpf.cdef`.
--
-- Reads what headers shared between BPF programs and their loaders contain
-- (include guards, `#include`, object-like and function-like `#define`,
-- `#if` on integer expressions, struct, union, enum incl. 64-bit values,
-- typedef, arrays with constant sizes, flexible arrays, bitfields, pointers,
-- `__attribute__((packed))` and `aligned(N)`), lays every type out by the C
-- rules clang uses for the BPF target (LP64, little-endian: alignment,
-- bitfields packed into units of their type and never straddling one unless
-- packed, unnamed bitfields not aligning the record), and describes the
-- result as the list of BTF types `bpf.btf_build` takes (entry i is type id
-- i). Function bodies (`static inline` helpers) are skipped. Errors raise
-- `file:line:column: message`.
--
--     local cdef = require "libbpf.cdef"
--     local types = cdef.parse("struct event { int pid; char comm[16]; };")
--     local btf = require("libbpf").btf_build(types)
--
-- @module libbpf.cdef

local M = {}

local fmt = string.format

-- ---- errors ------------------------------------------------------------

local function fail(tok, msg, ...)
  msg = fmt(msg, ...)
  if tok then
    error(fmt("%s:%d:%d: %s", tok.file, tok.line, tok.col, msg), 0)
  end
  error(msg, 0)
end

-- ---- lexer -------------------------------------------------------------

local PUNCT3 = {["..."] = true, ["<<="] = true, [">>="] = true}
local PUNCT2 = {
  ["<<"] = true, [">>"] = true, ["<="] = true, [">="] = true, ["=="] = true,
  ["!="] = true, ["&&"] = true, ["||"] = true, ["->"] = true, ["++"] = true,
  ["--"] = true, ["##"] = true, ["+="] = true, ["-="] = true, ["*="] = true,
  ["/="] = true, ["%="] = true, ["&="] = true, ["|="] = true, ["^="] = true,
}
local ESCAPES = {n = 10, t = 9, r = 13, a = 7, b = 8, f = 12, v = 11,
                 ["\\"] = 92, ["'"] = 39, ['"'] = 34, ["?"] = 63}

-- An integer literal: value, byte size and signedness by C's rules.
local function number(tok, s)
  local body, suffix = s:match("^(0[xX]%x+)([uUlL]*)$")
  local base = 16
  if not body then
    body, suffix = s:match("^(0[bB][01]+)([uUlL]*)$")
    base = 2
  end
  if not body then
    body, suffix = s:match("^(%d+)([uUlL]*)$")
    base = body and body:sub(1, 1) == "0" and #body > 1 and 8 or 10
  end
  if not body then fail(tok, "bad number '%s'", s) end
  local digits = base == 16 and body:sub(3) or base == 2 and body:sub(3) or body
  local v = 0
  for c in digits:gmatch(".") do
    local d = tonumber(c, 16)
    if d >= base then fail(tok, "bad number '%s'", s) end
    v = v * base + d
  end
  suffix = suffix:lower()
  local uns = suffix:find("u", 1, true) ~= nil
  local long = suffix:find("l", 1, true) ~= nil
  local size = long and 8 or 4
  if size == 4 then
    if not uns and v >= 0 and v <= 0x7fffffff then size = 4
    elseif (uns or base ~= 10) and v >= 0 and v <= 0xffffffff then size, uns = 4, true
    else size = 8 end
  end
  if size == 8 and not uns and (v < 0) then uns = base ~= 10 end
  return {v = v, size = size, uns = uns}
end

-- Tokens of `text`: {k = "id"|"num"|"char"|"str"|"p"|"eof", v, s (spelling),
-- line, col, file, bol (first on its line)}.
local function lex(text, file)
  local toks, i, n, line, lstart, bol = {}, 1, #text, 1, 1, true
  local function add(k, v, s, at)
    toks[#toks + 1] = {k = k, v = v, s = s, line = line, col = at - lstart + 1,
                       file = file, bol = bol}
    bol = false
  end
  while i <= n do
    local c = text:sub(i, i)
    if c == "\n" then
      line, lstart, bol, i = line + 1, i + 1, true, i + 1
    elseif c == "\\" and text:match("^\\[ \t]*\r?\n", i) then
      local e = text:find("\n", i, true)
      line, lstart, i = line + 1, e + 1, e + 1
    elseif c:match("%s") then
      i = i + 1
    elseif text:sub(i, i + 1) == "//" then
      local e = text:find("\n", i, true) or n + 1
      i = e
    elseif text:sub(i, i + 1) == "/*" then
      local e = text:find("*/", i + 2, true)
      if not e then
        fail({file = file, line = line, col = i - lstart + 1}, "unterminated comment")
      end
      for _ in text:sub(i, e):gmatch("\n") do line = line + 1 end
      local last = text:sub(1, e):match(".*()\n")
      if last and last > i then lstart = last + 1 end
      i = e + 2
    elseif c:match("[%a_]") then
      local s = text:match("^[%w_]+", i)
      add("id", s, s, i)
      i = i + #s
    elseif c:match("%d") or (c == "." and text:match("^%.%d", i)) then
      local s = text:match("^[%w_.]+", i)
      local tok = {file = file, line = line, col = i - lstart + 1}
      if s:find("[.eEpP]") and not s:match("^0[xX]") or s:find("%.") then
        add("num", {v = 0, size = 8, uns = false, float = true}, s, i)
      else
        add("num", number(tok, s), s, i)
      end
      i = i + #s
    elseif c == "'" or c == '"' then
      local j, chars = i + 1, {}
      while true do
        local d = text:sub(j, j)
        if d == "" or d == "\n" then
          fail({file = file, line = line, col = i - lstart + 1}, "unterminated literal")
        elseif d == c then
          break
        elseif d == "\\" then
          local e = text:sub(j + 1, j + 1)
          if e == "x" then
            local h = text:match("^%x+", j + 2) or "0"
            chars[#chars + 1] = tonumber(h, 16) & 0xff
            j = j + 2 + #h
          elseif e:match("[0-7]") then
            local o = text:match("^[0-7][0-7]?[0-7]?", j + 1)
            chars[#chars + 1] = tonumber(o, 8) & 0xff
            j = j + 1 + #o
          else
            chars[#chars + 1] = ESCAPES[e] or e:byte()
            j = j + 2
          end
        else
          chars[#chars + 1] = d:byte()
          j = j + 1
        end
      end
      local s = text:sub(i, j)
      if c == "'" then
        local v = chars[1] or 0
        if v >= 128 then v = v - 256 end -- char is signed on BPF
        add("num", {v = v, size = 4, uns = false}, s, i)
      else
        add("str", string.char(table.unpack(chars)), s, i)
      end
      i = j + 1
    else
      local p = text:sub(i, i + 2)
      if not PUNCT3[p] then p = text:sub(i, i + 1) end
      if not PUNCT3[p] and not PUNCT2[p] then p = c end
      add("p", p, p, i)
      i = i + #p
    end
  end
  toks[#toks + 1] = {k = "eof", v = "<eof>", s = "", line = line, col = i - lstart + 1,
                     file = file, bol = true}
  return toks
end

-- ---- constant expressions ----------------------------------------------
-- Values are {v = integer, size = 4|8, uns = bool}: C's int/long arithmetic
-- on Lua's 64-bit integers, wrapped to 32 bits for int operands.

local function norm(v, size, uns)
  if size == 4 then
    v = v & 0xffffffff
    if not uns and v >= 0x80000000 then v = v - 0x100000000 end
  end
  return {v = v, size = size, uns = uns}
end

local function promote(a, b)
  local size = math.max(a.size, b.size)
  local uns
  if a.size == b.size then uns = a.uns or b.uns
  elseif a.size > b.size then uns = a.uns
  else uns = b.uns end
  return size, uns
end

local function udiv(a, b)
  if b < 0 then return math.ult(a, b) and 0 or 1 end
  if a >= 0 then return a // b end
  local q = ((a >> 1) // b) << 1
  local r = a - q * b
  if not math.ult(r, b) then q = q + 1 end
  return q
end

local function sdiv(a, b)
  local q = a // b
  if a % b ~= 0 and (a < 0) ~= (b < 0) then q = q + 1 end
  return q
end

local function as_uns(x, size)
  return size == 4 and x & 0xffffffff or x
end

local function binop(tok, op, a, b)
  local size, uns = promote(a, b)
  local x, y = a.v, b.v
  if uns then x, y = as_uns(x, size), as_uns(y, size) end
  if op == "+" then return norm(x + y, size, uns)
  elseif op == "-" then return norm(x - y, size, uns)
  elseif op == "*" then return norm(x * y, size, uns)
  elseif op == "/" or op == "%" then
    if y == 0 then fail(tok, "division by zero in a constant expression") end
    local q = uns and udiv(x, y) or sdiv(x, y)
    return norm(op == "/" and q or x - q * y, size, uns)
  elseif op == "<<" then return norm(a.v << b.v, a.size, a.uns)
  elseif op == ">>" then
    local v = a.uns and as_uns(a.v, a.size) or a.v
    if not a.uns and v < 0 then v = ~((~v) >> b.v) else v = v >> b.v end
    return norm(v, a.size, a.uns)
  elseif op == "&" then return norm(x & y, size, uns)
  elseif op == "|" then return norm(x | y, size, uns)
  elseif op == "^" then return norm(x ~ y, size, uns)
  end
  local r
  if op == "==" then r = x == y
  elseif op == "!=" then r = x ~= y
  elseif op == "<" then r = uns and math.ult(x, y) or (not uns and x < y)
  elseif op == ">" then r = uns and math.ult(y, x) or (not uns and x > y)
  elseif op == "<=" then r = not (uns and math.ult(y, x) or (not uns and x > y))
  elseif op == ">=" then r = not (uns and math.ult(x, y) or (not uns and x < y))
  end
  return {v = r and 1 or 0, size = 4, uns = false}
end

local PREC = {
  ["||"] = 1, ["&&"] = 2, ["|"] = 3, ["^"] = 4, ["&"] = 5, ["=="] = 6, ["!="] = 6,
  ["<"] = 7, [">"] = 7, ["<="] = 7, [">="] = 7, ["<<"] = 8, [">>"] = 8,
  ["+"] = 9, ["-"] = 9, ["*"] = 10, ["/"] = 10, ["%"] = 10,
}

-- Parse and evaluate a conditional expression from parser `P` (peek, next,
-- accept, expect, and the hooks cast_start, type_name, sizeof_type,
-- alignof_type, ident, offsetof).
local expr
local function unary(P)
  local t = P:next()
  if t.k == "num" then
    if t.v.float then fail(t, "floating point constants are not supported") end
    return {v = t.v.v, size = t.v.size, uns = t.v.uns}
  elseif t.k == "id" then
    if t.v == "sizeof" or t.v == "__alignof__" or t.v == "_Alignof" or t.v == "__alignof" then
      local which = t.v == "sizeof" and "sizeof_type" or "alignof_type"
      if P:peek().v == "(" and P:cast_start(2) then
        P:next()
        local ty = P:type_name()
        P:expect(")")
        return {v = P[which](P, ty, t), size = 8, uns = true}
      end
      fail(t, "%s of an expression is not supported: give a type", t.v)
    elseif t.v == "__builtin_offsetof" or t.v == "offsetof" then
      P:expect("(")
      local ty = P:type_name()
      P:expect(",")
      local path = {P:expect_id()}
      while P:accept(".") do path[#path + 1] = P:expect_id() end
      P:expect(")")
      return {v = P:offsetof(ty, path, t), size = 8, uns = true}
    end
    return P:ident(t)
  elseif t.v == "(" then
    if P:cast_start(1) then
      local ty = P:type_name()
      P:expect(")")
      local v = unary(P)
      local size, signed = P:cast_info(ty, t)
      if size == 1 then
        local x = v.v & 0xff
        if signed and x >= 0x80 then x = x - 0x100 end
        return {v = x, size = 4, uns = false}
      elseif size == 2 then
        local x = v.v & 0xffff
        if signed and x >= 0x8000 then x = x - 0x10000 end
        return {v = x, size = 4, uns = false}
      elseif size == 0 then -- _Bool
        return {v = v.v ~= 0 and 1 or 0, size = 4, uns = false}
      end
      return norm(v.v, size, not signed)
    end
    local v = expr(P)
    P:expect(")")
    return v
  elseif t.v == "-" then
    local v = unary(P)
    return norm(-v.v, v.size, v.uns)
  elseif t.v == "+" then
    return unary(P)
  elseif t.v == "~" then
    local v = unary(P)
    return norm(~v.v, v.size, v.uns)
  elseif t.v == "!" then
    local v = unary(P)
    return {v = v.v == 0 and 1 or 0, size = 4, uns = false}
  end
  fail(t, "expected a constant expression, got '%s'", t.s ~= "" and t.s or t.v)
end

local function binary(P, minprec)
  local a = unary(P)
  while true do
    local t = P:peek()
    local prec = t.k == "p" and PREC[t.v]
    if not prec or prec < minprec then return a end
    P:next()
    local b = binary(P, prec + 1)
    if t.v == "&&" then a = {v = (a.v ~= 0 and b.v ~= 0) and 1 or 0, size = 4, uns = false}
    elseif t.v == "||" then a = {v = (a.v ~= 0 or b.v ~= 0) and 1 or 0, size = 4, uns = false}
    else a = binop(t, t.v, a, b) end
  end
end

function expr(P)
  local c = binary(P, 1)
  if P:accept("?") then
    local a = expr(P)
    P:expect(":")
    local b = expr(P)
    local size, uns = promote(a, b)
    local r = c.v ~= 0 and a or b
    return norm(r.v, size, uns)
  end
  return c
end

-- A token cursor over an array (directive lines).
local Cursor = {}
Cursor.__index = Cursor
function Cursor.new(toks, eoftok) return setmetatable({t = toks, i = 1, eof = eoftok}, Cursor) end
function Cursor:peek(k) return self.t[self.i + (k or 1) - 1] or self.eof end
function Cursor:next() local t = self:peek(); self.i = self.i + 1; return t end
function Cursor:accept(v)
  local t = self:peek()
  if t.k ~= "str" and t.v == v then self.i = self.i + 1; return t end
end
function Cursor:expect(v)
  return self:accept(v) or fail(self:peek(), "expected '%s'", v)
end
function Cursor.cast_start() return false end
function Cursor.ident() return {v = 0, size = 4, uns = false} end
function Cursor.type_name(_, t) fail(t, "types are not allowed in #if") end

-- ---- preprocessor ------------------------------------------------------

local expander, expand_list

local function read_file(path)
  local f, err, code = io.open(path, "rb")
  if not f then return nil, err, code end
  local s = f:read("a")
  f:close()
  return s
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

-- Phase 1: directives and conditionals. Appends the tokens of active lines
-- to `out` and, in order, markers {k = "define"|"undef"} so that phase 2
-- expands every use with the macros of that point.
local function directives(toks, st, out, dir)
  local i, cond = 1, {}
  local function active()
    return #cond == 0 or cond[#cond].on
  end
  local function line_from(j)
    local l = {}
    while not toks[j].bol do
      l[#l + 1] = toks[j]
      j = j + 1
    end
    return l, j
  end
  local function eval_if(hash, l, from)
    -- defined X / defined(X) first, then expand, unknown names are 0
    local pre, j = {}, from
    while l[j] do
      local t = l[j]
      if t.k == "id" and t.v == "defined" then
        local paren = l[j + 1] and l[j + 1].v == "("
        local name = l[j + (paren and 2 or 1)]
        if not name or name.k ~= "id" then fail(t, "defined needs a name") end
        pre[#pre + 1] = {k = "num", v = {v = st.macros[name.v] and 1 or 0, size = 4}, s = "1",
                         line = t.line, col = t.col, file = t.file}
        j = j + (paren and 4 or 2)
      else
        pre[#pre + 1] = t
        j = j + 1
      end
    end
    local eof = {k = "eof", v = "<eol>", s = "", line = hash.line, col = hash.col, file = hash.file}
    pre[#pre + 1] = eof
    local expanded = expand_list(pre, st.macros)
    local C = Cursor.new(expanded, eof)
    if #expanded == 1 then fail(hash, "#if without an expression") end
    local v = expr(C)
    if C:peek().k ~= "eof" then fail(C:peek(), "unexpected '%s' in #if", C:peek().s) end
    return v.v ~= 0
  end
  while toks[i].k ~= "eof" do
    local t = toks[i]
    if t.bol and t.k == "p" and t.v == "#" then
      local l
      l, i = line_from(i + 1)
      for _, x in ipairs(l) do x.bol = false end
      local d = l[1]
      local name = d and d.v
      local on = active()
      if not d then -- a lone '#'
        goto continue
      elseif name == "ifdef" or name == "ifndef" then
        local m = l[2]
        if not m or m.k ~= "id" then fail(d, "#%s needs a name", name) end
        local yes = on and ((st.macros[m.v] ~= nil) == (name == "ifdef"))
        cond[#cond + 1] = {on = yes, taken = yes, parent = on, tok = d}
      elseif name == "if" then
        local yes = on and eval_if(d, l, 2)
        cond[#cond + 1] = {on = yes, taken = yes, parent = on, tok = d}
      elseif name == "elif" then
        local c = cond[#cond] or fail(d, "#elif without #if")
        if c.parent and not c.taken then
          c.on = eval_if(d, l, 2)
          c.taken = c.on
        else
          c.on = false
        end
      elseif name == "else" then
        local c = cond[#cond] or fail(d, "#else without #if")
        c.on = c.parent and not c.taken
        c.taken = true
      elseif name == "endif" then
        if not cond[#cond] then fail(d, "#endif without #if") end
        cond[#cond] = nil
      elseif not on then -- skipped
        goto continue
      elseif name == "define" then
        local m = l[2]
        if not m or m.k ~= "id" then fail(d, "#define needs a name") end
        local def, j = {name = m.v, body = {}}, 3
        local p = l[3]
        if p and p.v == "(" and p.line == m.line and p.col == m.col + #m.s then
          def.params = {}
          j = 4
          while l[j] and l[j].v ~= ")" do
            if l[j].k == "id" then def.params[#def.params + 1] = l[j].v
            elseif l[j].v == "..." then def.params[#def.params + 1] = "__VA_ARGS__" end
            j = j + 1
          end
          if not l[j] then fail(p, "unterminated parameter list of macro '%s'", m.v) end
          j = j + 1
        end
        for k = j, #l do def.body[#def.body + 1] = l[k] end
        st.macros[m.v] = def
        out[#out + 1] = {k = "define", name = m.v, m = def}
      elseif name == "undef" then
        if l[2] then
          st.macros[l[2].v] = nil
          out[#out + 1] = {k = "undef", name = l[2].v}
        end
      elseif name == "include" then
        local f = l[2]
        if f and f.k == "str" and dir then
          local path = f.v:sub(1, 1) == "/" and f.v or dir .. "/" .. f.v
          local text = read_file(path)
          if text then
            st.depth = st.depth + 1
            if st.depth > 32 then fail(f, "#include nested too deep") end
            directives(lex(text, path), st, out, dirname(path))
            st.depth = st.depth - 1
          end
        end
      elseif name == "error" then
        fail(d, "#error")
      end
      -- #pragma, #warning, #line and unknown directives: ignored
      ::continue::
    else
      if active() then out[#out + 1] = t end
      i = i + 1
    end
  end
  if cond[#cond] then fail(cond[#cond].tok, "#%s without #endif", cond[#cond].tok.v) end
end

local function copy_tok(t, at, hide)
  return {k = t.k, v = t.v, s = t.s, line = at.line, col = at.col, file = at.file, hide = hide}
end

-- Phase 2: a reader over `list` expanding macros (hide sets stop
-- recursion). `macros` is updated by the define/undef markers it passes.
function expander(list, macros)
  local pos, stack = 1, {}
  local function raw()
    while true do
      local n = #stack
      if n > 0 then
        local t = stack[n]
        stack[n] = nil
        return t
      end
      local t = list[pos]
      if t.k ~= "eof" then pos = pos + 1 end
      if t.k == "define" then macros[t.name] = t.m
      elseif t.k == "undef" then macros[t.name] = nil
      else return t end
    end
  end
  local function unread(t) stack[#stack + 1] = t end
  local function get()
    local guard = 0
    while true do
      local t = raw()
      if t.k ~= "id" then return t end
      local m = macros[t.v]
      if not m or (t.hide and t.hide[t.v]) then return t end
      guard = guard + 1
      if guard > 100000 then fail(t, "macro expansion does not end") end
      local args
      if m.params then
        local nt = raw()
        if nt.v ~= "(" or nt.k == "str" then
          unread(nt)
          return t
        end
        args = {{}}
        local depth = 0
        while true do
          local a = raw()
          if a.k == "eof" then fail(t, "unterminated call of macro '%s'", t.v) end
          if a.v == "(" and a.k == "p" then depth = depth + 1
          elseif a.v == ")" and a.k == "p" then
            if depth == 0 then break end
            depth = depth - 1
          end
          if a.v == "," and a.k == "p" and depth == 0 and
             m.params[#args] ~= "__VA_ARGS__" then
            args[#args + 1] = {}
          else
            local cur = args[#args]
            cur[#cur + 1] = a
          end
        end
      end
      local hide = {}
      for k in pairs(t.hide or {}) do hide[k] = true end
      hide[t.v] = true
      local argof = {}
      if args then
        for k, p in ipairs(m.params) do argof[p] = args[k] or {} end
      end
      local body, b = {}, m.body
      local k = 1
      while b[k] do
        local x = b[k]
        if x.v == "#" and x.k == "p" and b[k + 1] and argof[b[k + 1].v] then
          local parts = {}
          for _, a in ipairs(argof[b[k + 1].v]) do parts[#parts + 1] = a.s end
          local st = table.concat(parts, " ")
          body[#body + 1] = {k = "str", v = st, s = '"' .. st .. '"', line = t.line, col = t.col,
                             file = t.file, hide = hide}
          k = k + 2
        elseif x.v == "##" and x.k == "p" and #body > 0 and b[k + 1] then
          local left = body[#body]
          local right = argof[b[k + 1].v] and argof[b[k + 1].v][1] or b[k + 1]
          local joined = lex(left.s .. right.s, t.file)
          body[#body] = copy_tok(joined[1], t, hide)
          if argof[b[k + 1].v] then
            for q = 2, #argof[b[k + 1].v] do body[#body + 1] = copy_tok(argof[b[k + 1].v][q], t, hide) end
          end
          k = k + 2
        elseif x.k == "id" and argof[x.v] then
          for _, a in ipairs(argof[x.v]) do body[#body + 1] = copy_tok(a, a, a.hide or hide) end
          k = k + 1
        else
          body[#body + 1] = copy_tok(x, t, hide)
          k = k + 1
        end
      end
      for j = #body, 1, -1 do unread(body[j]) end
    end
  end
  return get
end

-- The expansion of a token list (for #if), unknown names as 0, and calls
-- of unknown function-like names (__has_builtin(x)...) as 0 too.
function expand_list(list, macros)
  local get, out = expander(list, setmetatable({}, {__index = macros})), {}
  local t = get()
  while t.k ~= "eof" do
    local nxt = get()
    if t.k == "id" then
      out[#out + 1] = {k = "num", v = {v = 0, size = 4}, s = t.s, line = t.line, col = t.col,
                       file = t.file}
      if nxt.k == "p" and nxt.v == "(" then
        local depth = 1
        while depth > 0 and nxt.k ~= "eof" do
          nxt = get()
          if nxt.k == "p" and nxt.v == "(" then depth = depth + 1
          elseif nxt.k == "p" and nxt.v == ")" then depth = depth - 1 end
        end
        if nxt.k ~= "eof" then nxt = get() end
      end
    else
      out[#out + 1] = t
    end
    t = nxt
  end
  out[#out + 1] = t
  return out
end

-- ---- types ---------------------------------------------------------------

local function int(name, size, signed, extra)
  return {k = "int", name = name, size = size, align = size, signed = signed, enc = extra}
end

local BASE = {
  ["char"] = int("char", 1, true), ["signed char"] = int("signed char", 1, true),
  ["unsigned char"] = int("unsigned char", 1, false),
  ["short"] = int("short", 2, true), ["unsigned short"] = int("unsigned short", 2, false),
  ["int"] = int("int", 4, true), ["unsigned int"] = int("unsigned int", 4, false),
  ["long"] = int("long", 8, true), ["unsigned long"] = int("unsigned long", 8, false),
  ["long long"] = int("long long", 8, true),
  ["unsigned long long"] = int("unsigned long long", 8, false),
  ["__int128"] = int("__int128", 16, true), ["unsigned __int128"] = int("unsigned __int128", 16, false),
  ["_Bool"] = int("_Bool", 1, false, "bool"),
  ["float"] = {k = "float", name = "float", size = 4, align = 4},
  ["double"] = {k = "float", name = "double", size = 8, align = 8},
  ["long double"] = {k = "float", name = "long double", size = 16, align = 16},
  ["void"] = {k = "void"},
}
BASE["void *"] = {k = "ptr", to = BASE.void}

-- typedef names known without a declaration: name -> base type spelling
local PREDECLARED = {
  __u8 = "unsigned char", __s8 = "signed char", __u16 = "unsigned short", __s16 = "short",
  __u32 = "unsigned int", __s32 = "int", __u64 = "unsigned long long", __s64 = "long long",
  u8 = "unsigned char", s8 = "signed char", u16 = "unsigned short", s16 = "short",
  u32 = "unsigned int", s32 = "int", u64 = "unsigned long long", s64 = "long long",
  __be16 = "unsigned short", __le16 = "unsigned short", __be32 = "unsigned int",
  __le32 = "unsigned int", __be64 = "unsigned long long", __le64 = "unsigned long long",
  __sum16 = "unsigned short", __wsum = "unsigned int", __poll_t = "unsigned int",
  bool = "_Bool", size_t = "unsigned long", ssize_t = "long", ptrdiff_t = "long",
  pid_t = "int", uid_t = "unsigned int", gid_t = "unsigned int", off_t = "long",
  loff_t = "long long", time_t = "long", clockid_t = "int", umode_t = "unsigned short",
  int8_t = "signed char", int16_t = "short", int32_t = "int", int64_t = "long",
  uint8_t = "unsigned char", uint16_t = "unsigned short", uint32_t = "unsigned int",
  uint64_t = "unsigned long", uintptr_t = "unsigned long", intptr_t = "long",
  __kernel_size_t = "unsigned long", __kernel_pid_t = "int",
  __builtin_va_list = "void *", -- what clang's BPF target makes of it
}

local function resolve(t)
  while t.k == "typedef" do t = t.to end
  return t
end

local function sizeof(t, tok)
  if t.k == "typedef" then return sizeof(t.to, tok) end
  if t.k == "int" or t.k == "float" or t.k == "enum" then return t.size end
  if t.k == "ptr" then return 8 end
  if t.k == "array" then return (t.n or 0) * sizeof(t.of, tok) end
  if t.k == "struct" or t.k == "union" then
    if not t.complete then
      fail(tok, "%s %s is incomplete here", t.k, t.name or "(anonymous)")
    end
    return t.size
  end
  fail(tok, "void has no size")
end

local function alignof(t, tok)
  if t.k == "typedef" then return t.align or alignof(t.to, tok) end
  if t.k == "array" then return alignof(t.of, tok) end
  if t.k == "ptr" then return 8 end
  if t.k == "struct" or t.k == "union" then
    if not t.complete then
      fail(tok, "%s %s is incomplete here", t.k, t.name or "(anonymous)")
    end
    return t.align
  end
  if t.k == "void" then fail(tok, "void has no alignment") end
  return t.align or t.size
end

local function roundup(x, a) return (x + a - 1) // a * a end

-- ---- the declaration parser ---------------------------------------------

local P = {}
P.__index = P

function P:peek(k)
  k = k or 1
  while #self.buf < k do self.buf[#self.buf + 1] = self.get() end
  return self.buf[k]
end
function P:next()
  local t = self:peek()
  table.remove(self.buf, 1)
  return t
end
function P:accept(v)
  local t = self:peek()
  if (t.k == "p" or t.k == "id") and t.v == v then return self:next() end
end
function P:expect(v)
  local t = self:peek()
  if (t.k == "p" or t.k == "id") and t.v == v then return self:next() end
  fail(t, "expected '%s', got '%s'", v, t.k == "eof" and "end of input" or t.s)
end
function P:expect_id()
  local t = self:next()
  if t.k ~= "id" then fail(t, "expected a name, got '%s'", t.s) end
  return t.v
end

local QUALIFIERS = {
  const = true, volatile = true, restrict = true, __restrict = true, __restrict__ = true,
  __const = true, __volatile__ = true, static = true, extern = true, inline = true,
  __inline = true, __inline__ = true, __always_inline = true, register = true, auto = true,
  __extension__ = true, _Noreturn = true, __signed__ = false, _Thread_local = true,
  __thread = true, __noinline = true, __weak = true, __hidden = true, __ksym = true,
  __kconfig = true, __user = true, __kernel = true, __iomem = true, __percpu = true,
  __rcu = true, __force = true, __bitwise = true,
}
local BASEWORDS = {
  void = true, char = true, short = true, int = true, long = true, signed = true,
  unsigned = true, _Bool = true, float = true, double = true, __int128 = true,
  __signed__ = true, __signed = true,
}

function P:is_typedef(name)
  return self.typedefs[name] ~= nil or (PREDECLARED[name] ~= nil and self.typedefs[name] ~= false)
end

-- Does the token at k start a type name?
function P:cast_start(k)
  local t = self:peek(k)
  if t.k ~= "id" then return false end
  return BASEWORDS[t.v] or QUALIFIERS[t.v] or t.v == "struct" or t.v == "union" or
         t.v == "enum" or self:is_typedef(t.v) or t.v == "typeof" or t.v == "__typeof__"
end

function P:typedef_type(name)
  local t = self.typedefs[name]
  if t then return t end
  local base = PREDECLARED[name]
  t = {k = "typedef", name = name, to = BASE[base]}
  self.typedefs[name] = t
  return t
end

local ATTRIBUTE = {__attribute__ = true, __attribute = true}

-- __attribute__((...)) lists into `attrs` (packed, aligned)
function P:attributes(attrs)
  while true do
    local t = self:peek()
    if t.k ~= "id" then return attrs end
    if ATTRIBUTE[t.v] then
      self:next()
      self:expect("(")
      self:expect("(")
      repeat
        local a = self:peek()
        if a.k == "id" then
          self:next()
          local name = a.v:gsub("^__(.-)__$", "%1")
          if name == "packed" then
            attrs.packed = true
          elseif name == "aligned" then
            local n = 16 -- clang's default for a bare aligned on BPF
            if self:accept("(") then
              n = expr(self).v
              self:expect(")")
              if n <= 0 or n & (n - 1) ~= 0 then fail(a, "aligned(%d) is not a power of 2", n) end
            end
            attrs.aligned = math.max(attrs.aligned or 1, n)
          elseif self:peek().v == "(" then
            self:skip_balanced()
          end
        elseif a.v ~= "," then
          break
        end
      until not self:accept(",")
      self:expect(")")
      self:expect(")")
    elseif t.v == "__declspec" or t.v == "__asm__" or t.v == "asm" or t.v == "__asm" then
      self:next()
      self:skip_balanced()
    elseif t.v == "_Alignas" or t.v == "alignas" then
      self:next()
      self:expect("(")
      local n
      if self:cast_start(1) then n = alignof(self:type_name(), t) else n = expr(self).v end
      self:expect(")")
      attrs.aligned = math.max(attrs.aligned or 1, n)
    elseif QUALIFIERS[t.v] then
      self:next()
    else
      return attrs
    end
  end
end

function P:skip_balanced()
  local open = self:expect("(")
  local depth = 1
  while depth > 0 do
    local t = self:next()
    if t.k == "eof" then fail(open, "unbalanced '('") end
    if t.k == "p" and t.v == "(" then depth = depth + 1
    elseif t.k == "p" and t.v == ")" then depth = depth - 1 end
  end
end

-- declaration specifiers: returns the base type, storage ("typedef" or
-- nil) and the attributes seen
function P:specifiers()
  local words, base, storage, attrs, first = {}, nil, nil, {}, self:peek()
  while true do
    self:attributes(attrs)
    local t = self:peek()
    if t.k ~= "id" then break end
    if t.v == "typedef" then
      self:next()
      storage = "typedef"
    elseif BASEWORDS[t.v] then
      self:next()
      local w = t.v
      if w == "__signed__" or w == "__signed" then w = "signed" end
      words[#words + 1] = w
    elseif (t.v == "struct" or t.v == "union") and not base and #words == 0 then
      self:next()
      base = self:record(t.v, t)
    elseif t.v == "enum" and not base and #words == 0 then
      self:next()
      base = self:enum(t)
    elseif (t.v == "typeof" or t.v == "__typeof__") and not base and #words == 0 then
      self:next()
      self:expect("(")
      base = self:type_name()
      self:expect(")")
    elseif not base and #words == 0 and self:is_typedef(t.v) then
      self:next()
      base = self:typedef_type(t.v)
    else
      break
    end
  end
  if base then
    if #words > 0 then fail(first, "'%s' cannot be combined with a type name", words[1]) end
    return base, storage, attrs
  end
  if #words == 0 then
    fail(first, "expected a type, got '%s'", first.k == "eof" and "end of input" or first.s)
  end
  local n = {}
  for _, w in ipairs(words) do n[w] = (n[w] or 0) + 1 end
  local key
  if n.void then key = "void"
  elseif n._Bool then key = "_Bool"
  elseif n.float then key = "float"
  elseif n.double then key = n.long and "long double" or "double"
  elseif n.char then key = n.unsigned and "unsigned char" or n.signed and "signed char" or "char"
  elseif n.__int128 then key = n.unsigned and "unsigned __int128" or "__int128"
  elseif n.short then key = n.unsigned and "unsigned short" or "short"
  elseif (n.long or 0) >= 2 then key = n.unsigned and "unsigned long long" or "long long"
  elseif n.long then key = n.unsigned and "unsigned long" or "long"
  else key = n.unsigned and "unsigned int" or "int" end
  return BASE[key], storage, attrs
end

-- A declarator: its name (or nil) and a function turning the base type
-- into the declared type.
function P:declarator()
  local ptrs = 0
  while true do
    if self:accept("*") then
      ptrs = ptrs + 1
    elseif self:peek().k == "id" and (QUALIFIERS[self:peek().v] or
            ATTRIBUTE[self:peek().v]) then
      self:attributes({})
    else
      break
    end
  end
  local name, nametok, inner
  local t = self:peek()
  if t.v == "(" and t.k == "p" then
    local n2 = self:peek(2)
    if n2.v == "*" or n2.v == "(" or n2.v == "^" or
       (n2.k == "id" and not self:cast_start(2) and n2.v ~= "void") then
      self:next()
      name, inner, nametok = self:declarator()
      self:expect(")")
    end
  elseif t.k == "id" and not QUALIFIERS[t.v] and not ATTRIBUTE[t.v] then
    nametok = self:next()
    name = t.v
  end
  local suffixes = {}
  while true do
    local s = self:peek()
    if s.v == "[" and s.k == "p" then
      self:next()
      if self:accept("]") then
        suffixes[#suffixes + 1] = {k = "array", tok = s}
      else
        local n = expr(self)
        if n.v < 0 or (n.v == 0 and false) then fail(s, "array size %d is negative", n.v) end
        self:expect("]")
        suffixes[#suffixes + 1] = {k = "array", n = n.v, tok = s}
      end
    elseif s.v == "(" and s.k == "p" then
      self:skip_balanced()
      suffixes[#suffixes + 1] = {k = "func"}
    else
      break
    end
  end
  return name, function(base)
    local ty = base
    for _ = 1, ptrs do ty = {k = "ptr", to = ty} end
    for i = #suffixes, 1, -1 do
      local s = suffixes[i]
      if s.k == "array" then
        if resolve(ty).k == "void" then fail(s.tok, "array of void") end
        ty = {k = "array", of = ty, n = s.n, tok = s.tok}
      else
        ty = {k = "func", ret = ty}
      end
    end
    if inner then ty = inner(ty) end
    return ty
  end, nametok
end

-- A type name (casts, sizeof): specifiers and an abstract declarator.
function P:type_name()
  local base = self:specifiers()
  local _, wrap = self:declarator()
  return wrap(base)
end

function P.sizeof_type(_, ty, tok)
  return sizeof(ty, tok)
end
function P.alignof_type(_, ty, tok)
  return alignof(ty, tok)
end
function P.cast_info(_, ty, tok)
  local r = resolve(ty)
  if r.k == "ptr" then return 8, false end
  if r.k == "int" and r.enc == "bool" then return 0, false end
  if r.k ~= "int" and r.k ~= "enum" then fail(tok, "cannot cast to this type in a constant expression") end
  return r.size, r.signed
end
function P:ident(t)
  local c = self.consts[t.v]
  if c then return c end
  fail(t, "'%s' is not a constant", t.v)
end
function P.offsetof(_, ty, path, tok)
  local off = 0
  for _, name in ipairs(path) do
    local r = resolve(ty)
    if r.k ~= "struct" and r.k ~= "union" then fail(tok, "offsetof: not a struct or union") end
    sizeof(r, tok)
    local function find(rec, base)
      for _, m in ipairs(rec.members) do
        if m.name == name then return m, base + m.offset end
        if not m.name then
          local mr = resolve(m.type)
          local fm, fo = find(mr, base + m.offset)
          if fm then return fm, fo end
        end
      end
    end
    local m, bits = find(r, 0)
    if not m then fail(tok, "offsetof: no member '%s'", name) end
    if m.bits then fail(tok, "offsetof: '%s' is a bitfield", name) end
    off, ty = off + bits // 8, m.type
  end
  return off
end

-- struct/union: a reference, or a definition laid out here
function P:record(kind, kw)
  local attrs = self:attributes({})
  local name
  if self:peek().k == "id" and not QUALIFIERS[self:peek().v] then name = self:next().v end
  local rec
  if name then
    rec = self.tags[kind .. " " .. name]
    local other = self.tags[(kind == "struct" and "union " or "struct ") .. name]
    if other then fail(kw, "'%s' was declared as a %s", name, other.k) end
    if not rec then
      rec = {k = kind, name = name, complete = false, tok = kw}
      self.tags[kind .. " " .. name] = rec
      self.order[#self.order + 1] = rec
    end
  end
  if self:peek().v ~= "{" then
    if not name then fail(self:peek(), "expected '{' after %s", kind) end
    return rec
  end
  local open = self:next()
  if rec and rec.complete then fail(kw, "%s %s is defined twice", kind, name) end
  if not rec then
    rec = {k = kind, complete = false, tok = kw}
    self.order[#self.order + 1] = rec
  end
  local members = {}
  while not self:accept("}") do
    if self:peek().k == "eof" then fail(open, "unterminated %s", kind) end
    if self:accept(";") then goto next_member end
    if self:peek().v == "_Static_assert" then
      self:next()
      self:skip_balanced()
      self:expect(";")
      goto next_member
    end
    do
      local base, _, mattrs = self:specifiers()
      local r = resolve(base)
      if self:peek().v == ";" and (r.k == "struct" or r.k == "union") and not r.name then
        members[#members + 1] = {type = base, attrs = mattrs, tok = self:peek()}
      else
        repeat
          local name_, wrap, ntok = self:declarator()
          local m = {name = name_, type = wrap(base), tok = ntok or self:peek(), attrs = {}}
          for k, v in pairs(mattrs) do m.attrs[k] = v end
          if self:accept(":") then
            local w = expr(self)
            m.bits = w.v
            local rt = resolve(m.type)
            if rt.k ~= "int" and rt.k ~= "enum" then fail(m.tok, "bitfield '%s' is not an integer", name_ or "") end
            if m.bits < 0 or m.bits > rt.size * 8 then
              fail(m.tok, "bitfield '%s' has width %d, its type %d bits", name_ or "", m.bits, rt.size * 8)
            end
            if m.bits == 0 and name_ then fail(m.tok, "zero-width bitfield '%s' has a name", name_) end
          elseif not name_ then
            fail(m.tok, "a member needs a name")
          end
          self:attributes(m.attrs)
          members[#members + 1] = m
        until not self:accept(",")
      end
      self:expect(";")
    end
    ::next_member::
  end
  self:attributes(attrs)
  self:layout(rec, members, attrs, kind)
  return rec
end

-- The layout of a record by clang's rules for BPF (Itanium-style C layout).
function P.layout(_, rec, members, attrs, kind)
  local bits, align, size = 0, 1, 0
  local out = {}
  for i, m in ipairs(members) do
    local ty = m.type
    local r = resolve(ty)
    if r.k == "func" then fail(m.tok, "member '%s' is a function", m.name or "") end
    if r.k == "array" and not r.n then
      if i ~= #members or kind ~= "struct" then
        fail(m.tok, "flexible array '%s' is not the last member", m.name or "")
      end
    end
    local packed = attrs.packed or m.attrs.packed
    local tsize = r.k == "array" and not r.n and 0 or sizeof(ty, m.tok)
    local talign = alignof(ty, m.tok)
    local fa = packed and 1 or talign
    if m.attrs.aligned then fa = math.max(fa, m.attrs.aligned) end
    local off
    if m.bits then
      local unit = tsize * 8
      local falign = (packed and m.bits ~= 0) and 1 or talign
      if m.attrs.aligned then falign = math.max(falign, m.attrs.aligned) end
      local start = kind == "union" and 0 or bits
      if m.bits == 0 or (start % (falign * 8)) + m.bits > unit then
        start = roundup(start, falign * 8)
      elseif m.attrs.aligned then
        start = roundup(start, m.attrs.aligned * 8)
      end
      off = start
      if kind == "union" then
        size = math.max(size, roundup(m.bits, 8) // 8)
      else
        bits = start + m.bits
      end
      if m.name then align = math.max(align, falign) end
    else
      local start = kind == "union" and 0 or roundup(roundup(bits, 8), fa * 8)
      off = start
      if kind == "union" then
        size = math.max(size, tsize)
      else
        bits = start + tsize * 8
      end
      align = math.max(align, fa)
    end
    if m.name or not m.bits then
      out[#out + 1] = {name = m.name, type = ty, offset = off, bits = m.bits}
    end
  end
  if attrs.aligned then align = math.max(align, attrs.aligned) end
  if kind == "struct" then size = roundup(bits, 8) // 8 end
  rec.size = roundup(size, align)
  rec.align = align
  rec.members = out
  rec.complete = true
end

function P:enum(kw)
  local attrs = self:attributes({})
  local name
  if self:peek().k == "id" then name = self:next().v end
  local e = name and self.tags["enum " .. name]
  if self:peek().v ~= "{" then
    if not name then fail(self:peek(), "expected '{' after enum") end
    if not e then
      e = {k = "enum", name = name, size = 4, align = 4, values = {}, signed = false}
      self.tags["enum " .. name] = e
      self.order[#self.order + 1] = e
    end
    return e
  end
  local open = self:next()
  if e and e.defined then fail(kw, "enum %s is defined twice", name) end
  if not e then
    e = {k = "enum", name = name}
    if name then self.tags["enum " .. name] = e end
    self.order[#self.order + 1] = e
  end
  e.values, e.defined = {}, true
  local v = {v = -1, size = 4, uns = false}
  while not self:accept("}") do
    if self:peek().k == "eof" then fail(open, "unterminated enum") end
    local ntok = self:next()
    if ntok.k ~= "id" then fail(ntok, "expected an enumerator name, got '%s'", ntok.s) end
    if self:accept("=") then
      v = expr(self)
    else
      v = binop(ntok, "+", v, {v = 1, size = 4, uns = false})
    end
    local val = v.uns and as_uns(v.v, v.size) or v.v
    e.values[#e.values + 1] = {name = ntok.v, value = val, uns64 = v.uns and v.size == 8}
    self.consts[ntok.v] = {v = val, size = (val > 0x7fffffff or val < -0x80000000) and 8 or 4,
                           uns = false}
    if not self:accept(",") then
      self:expect("}")
      break
    end
  end
  self:attributes(attrs)
  -- clang: int when every value fits, else unsigned int, else 64 bits
  local lo, hi, ubig = 0, 0, false
  for _, x in ipairs(e.values) do
    if x.value < 0 and x.uns64 then ubig = true
    else
      lo, hi = math.min(lo, x.value), math.max(hi, x.value)
    end
  end
  e.signed = lo < 0 and not ubig
  if attrs.packed then
    local size = 1
    while size < 8 and (lo < -(1 << (size * 8 - 1)) or
                        hi >= (e.signed and (1 << (size * 8 - 1)) or (1 << (size * 8)))) do
      size = size * 2
    end
    e.size = ubig and 8 or size
  elseif ubig then
    e.size = 8
  elseif lo < 0 then
    e.size = (lo >= -0x80000000 and hi <= 0x7fffffff) and 4 or 8
  else
    e.size = hi <= 0xffffffff and 4 or 8
  end
  e.align = e.size
  return e
end

-- One top-level declaration (or a function definition, skipped).
function P:declaration()
  if self:accept(";") then return end
  local t = self:peek()
  if t.v == "_Static_assert" then
    self:next()
    self:skip_balanced()
    self:expect(";")
    return
  end
  local base, storage, sattrs = self:specifiers()
  if self:accept(";") then return end
  repeat
    local name, wrap, ntok = self:declarator()
    local ty = wrap(base)
    local attrs = self:attributes({})
    if storage == "typedef" then
      if not name then fail(ntok or self:peek(), "typedef without a name") end
      local td = {k = "typedef", name = name, to = ty, align = attrs.aligned or sattrs.aligned}
      self.typedefs[name] = td
      self.order[#self.order + 1] = td
    elseif ty.k == "func" and self:peek().v == "{" then
      local open = self:next()
      local depth = 1
      while depth > 0 do
        local b = self:next()
        if b.k == "eof" then fail(open, "unterminated function body") end
        if b.v == "{" and b.k == "p" then depth = depth + 1
        elseif b.v == "}" and b.k == "p" then depth = depth - 1 end
      end
      return
    end
    if self:accept("=") then -- an initializer: skipped to ',' or ';'
      local depth = 0
      while true do
        local b = self:peek()
        if b.k == "eof" then fail(b, "unterminated initializer") end
        if depth == 0 and (b.v == "," or b.v == ";") and b.k == "p" then break end
        if b.k == "p" and (b.v == "{" or b.v == "(") then depth = depth + 1
        elseif b.k == "p" and (b.v == "}" or b.v == ")") then depth = depth - 1 end
        self:next()
      end
    end
  until not self:accept(",")
  self:expect(";")
end

-- ---- BTF descriptions ------------------------------------------------------

local function describe(order)
  local list, ids = {}, {}
  local function new(d)
    list[#list + 1] = d
    return #list
  end
  local idx_type
  local emit
  function emit(t)
    if t.k == "void" or t.k == "func" then return 0 end
    if ids[t] then return ids[t] end
    local d, id
    if t.k == "int" then
      d = {kind = "int", name = t.name, size = t.size, signed = t.signed or nil,
           bool = t.enc == "bool" or nil}
      id = new(d)
    elseif t.k == "float" then
      d = {kind = "float", name = t.name, size = t.size}
      id = new(d)
    elseif t.k == "ptr" then
      d = {kind = "ptr"}
      id = new(d)
      ids[t] = id
      d.type = emit(t.to)
    elseif t.k == "array" then
      d = {kind = "array", nelems = t.n or 0}
      id = new(d)
      ids[t] = id
      d.type = emit(t.of)
      if not idx_type then
        idx_type = new({kind = "int", name = "__ARRAY_SIZE_TYPE__", size = 4})
      end
      d.index_type = idx_type
    elseif t.k == "typedef" then
      d = {kind = "typedef", name = t.name}
      id = new(d)
      ids[t] = id
      d.type = emit(t.to)
    elseif t.k == "enum" then
      d = {kind = t.size == 8 and "enum64" or "enum", name = t.name, size = t.size,
           signed = t.signed or nil, values = {}}
      if not t.defined then d = {kind = "fwd", name = t.name, enum = true} end
      for i, v in ipairs(t.values or {}) do d.values[i] = {name = v.name, value = v.value} end
      id = new(d)
    elseif t.k == "struct" or t.k == "union" then
      if not t.complete then
        id = new({kind = "fwd", name = t.name, union = t.k == "union" or nil})
      else
        d = {kind = t.k, name = t.name, size = t.size, members = {}}
        id = new(d)
        ids[t] = id
        for i, m in ipairs(t.members) do
          d.members[i] = {name = m.name, offset = m.offset, bits = m.bits or 0,
                          type = emit(m.type)}
        end
      end
    end
    ids[t] = id
    return id
  end
  for _, t in ipairs(order) do emit(t) end
  return list
end

-- What clang predefines for -target bpf that headers test.
local PREDEFINED = {
  __bpf__ = 1, __BPF__ = 1, __BPF_CPU_VERSION__ = 1, __LP64__ = 1, _LP64 = 1,
  __CHAR_BIT__ = 8, __SIZEOF_INT__ = 4, __SIZEOF_LONG__ = 8, __SIZEOF_LONG_LONG__ = 8,
  __SIZEOF_POINTER__ = 8, __SIZEOF_SHORT__ = 2, __SIZEOF_SIZE_T__ = 8,
  __ORDER_LITTLE_ENDIAN__ = 1234, __ORDER_BIG_ENDIAN__ = 4321, __ORDER_PDP_ENDIAN__ = 3412,
  __BYTE_ORDER__ = "__ORDER_LITTLE_ENDIAN__", __LITTLE_ENDIAN__ = 1,
  __GNUC__ = 4, __GNUC_MINOR__ = 2, __clang__ = 1, __STDC__ = 1, __STDC_VERSION__ = "201710L",
  -- what <linux/types.h> and <asm/byteorder.h> define (system includes are
  -- not read): little-endian bitfields, the aligned 64-bit types
  __LITTLE_ENDIAN = 1234, __LITTLE_ENDIAN_BITFIELD = 1,
  __aligned_u64 = "__u64 __attribute__((aligned(8)))",
  __aligned_be64 = "__be64 __attribute__((aligned(8)))",
  __aligned_le64 = "__le64 __attribute__((aligned(8)))",
  __bitwise = "", __bitwise__ = "",
}

--- Parse C declarations into the BTF type list `bpf.btf_build` takes.
-- @tparam string text C source (a header)
-- @tparam[opt] table opts `file=` the header's path: names it in errors and
-- resolves `#include "x.h"` relative to it; `macros=` a table name -> value
-- of predefined object-like macros
-- @treturn table the types: entry i is type id i, each `{kind=, name=, ...}`
-- @treturn table the constants: macros with integer values and enumerators
-- @usage local types = cdef.parse("#define N 4\nstruct s { int a[N]; };")
-- print(types[1].kind, types[1].name, types[1].size)   --> struct s 16
function M.parse(text, opts)
  opts = opts or {}
  local file = opts.file or "cdef"
  local st = {macros = {}, depth = 0}
  local out = {}
  local pre = {}
  local predefined = {}
  for k, v in pairs(PREDEFINED) do predefined[k] = v end
  for k, v in pairs(opts.macros or {}) do predefined[k] = v end
  for k, v in pairs(predefined) do
    local toks = lex(tostring(v), "<macro " .. k .. ">")
    toks[#toks] = nil
    local def = {name = k, body = toks}
    st.macros[k] = def
    pre[#pre + 1] = {k = "define", name = k, m = def}
  end
  for _, d in ipairs(pre) do out[#out + 1] = d end
  local toks = lex(text, file)
  directives(toks, st, out, opts.file and dirname(opts.file) or nil)
  out[#out + 1] = toks[#toks]
  local self = setmetatable({buf = {}, typedefs = {}, tags = {}, order = {}, consts = {}}, P)
  local macros = {}
  self.get = expander(out, macros)
  while self:peek().k ~= "eof" do self:declaration() end
  -- object-like macros that are integer constant expressions
  local consts = {}
  for name, c in pairs(self.consts) do consts[name] = c.v end
  for name, def in pairs(macros) do
    if not def.params and #def.body > 0 and (not PREDEFINED[name] or (opts.macros or {})[name]) then
      local eof = {k = "eof", v = "<eol>", s = "", line = 0, col = 0, file = file}
      local body = {{k = "id", v = name, s = name, line = 0, col = 0, file = file}, eof}
      local ok, v = pcall(function()
        local C = setmetatable({buf = {}, typedefs = self.typedefs, tags = self.tags,
                                consts = self.consts, order = {}}, P)
        C.get = expander(body, macros)
        local r = expr(C)
        if C:peek().k ~= "eof" then error("trailing") end
        return r
      end)
      if ok then consts[name] = v.uns and as_uns(v.v, v.size) or v.v end
    end
  end
  return describe(self.order), consts
end

return M
