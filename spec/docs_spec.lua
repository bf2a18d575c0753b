-- `make docs` builds the HTML reference from the LDoc comments, and that
-- reference covers the whole public surface of the loaded module: every
-- `bpf.*` function and constant, every method and read-only field of every
-- class metatable, each with an example that is valid Lua.
--
-- The surface is enumerated at run time, never from a hand list:
--  * functions and constants: the keys of `require "libbpf"`;
--  * classes: every metatable in the registry whose key starts with
--    "libbpf." (luaL_newmetatable's `__name` equals its key);
--  * methods: the class's method table, `__index` itself when it is a
--    table, else `__index`'s upvalue 1 (lbpf_index in csrc/util.c, and the
--    batch's own closure, keep the methods there);
--  * fields (read-only properties answered by the getter, `map.fd`...):
--    `mt.__fields` (set by csrc/lbpf.c lbpf_class_fields for every class with a getter).
--
-- Naming in the reference (docs/api.luadoc): class `libbpf.X` is the LDoc
-- `@type X`; its methods are `X:method`, its fields `X.field` (an `@field`
-- entry in the class section); module functions and constants are plain
-- names. Every entry carries a `@usage`.
--
-- Metamethods are part of a class but need no entries of their own: the
-- ones a user writes code against are described in the class's introduction
-- (META_MARKERS says what text stands for each); `__gc`, `__tostring`,
-- `__name`, `__index`, `__newindex` and `__fields` are not checked. A class
-- whose interface is only metamethods (`vars`, `event_view`,
-- `user_ringbuf_sample`: LDoc drops a section without entries) documents
-- them as `X:__index` etc.; such entries must name metamethods it has.

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Metatables in the registry that users never get a handle of.
local INTERNAL = {
  ["libbpf.elf_file"] = "elf_symbols' ELF file, closed before it returns (csrc/syms.c)",
  ["libbpf.busy_guard"] = "a to-be-closed mark on the stack of a call using an object (csrc/handles.c)",
  ["libbpf.print_frame"] = "a to-be-closed print frame around a libbpf call (csrc/print.c)",
}

-- What the class introduction must contain (HTML) for each metamethod.
local META_MARKERS = {
  __close = "&lt;close&gt;",
  __pairs = "pairs(",
  __len = "#",
  __call = "()",
}

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- The method table of a class metatable (see the header).
local function methods_of(mt)
  local idx = rawget(mt, "__index")
  local t
  if type(idx) == "table" then
    t = idx
  elseif type(idx) == "function" then
    local _, up = debug.getupvalue(idx, 1)
    t = type(up) == "table" and up or {}
  else
    t = {}
  end
  local out = {}
  for k, v in pairs(t) do
    if type(k) == "string" and not k:match("^__") and type(v) == "function" then
      out[#out + 1] = k
    end
  end
  table.sort(out)
  return out
end

local function fields_of(name, mt)
  -- csrc/lbpf.c lbpf_class_fields: the names the class's getter answers
  local _ = name
  return rawget(mt, "__fields") or {}, "__fields"
end

-- Every class metatable in the registry, by name.
local function classes()
  local out = {}
  for k, v in pairs(debug.getregistry()) do
    if type(k) == "string" and k:match("^libbpf%.") and type(v) == "table"
       and rawget(v, "__name") == k then
      out[k] = v
    end
  end
  return out
end

-- The entries of an LDoc module page: name -> the HTML of its <dt>/<dd>,
-- and class name -> the HTML of its introduction.
local function parse_page(html)
  local items, class_intro = {}, {}
  for chunk in html:gmatch("<dt>(.-)</dd>") do
    local name = chunk:match('<a name = "(.-)"></a>')
    if name then items[name] = chunk end
  end
  for cls, intro in html:gmatch('<a name="Class_([%w_]+)"></a>(.-)<dl') do
    class_intro[cls] = intro
  end
  return items, class_intro
end

-- The @usage blocks of an LDoc source file: {line = n, code = "..."}.
local function usages(text)
  local out, cur = {}, nil
  local n = 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    local body = line:match("^%s*%-%-%-?%s?(.*)$")
    if cur and (not body or body:match("^@") or line:match("^%s*%-%-%-")) then
      out[#out + 1] = cur
      cur = nil
    end
    if body then
      local first = body:match("^@usage%s?(.*)$")
      if first then
        cur = {line = n, code = first}
      elseif cur then
        cur.code = cur.code .. "\n" .. body
      end
    end
  end
  if cur then out[#out + 1] = cur end
  return out
end

local bpf, core

describe("make docs", function()
  setup(function()
    bpf = require "libbpf"
    core = require "libbpf.core"
  end)

  it("writes docs/html with every module and the C core's functions", function()
    os.remove("docs/html/index.html")
    local p = io.popen("make --no-print-directory docs 2>&1; echo \"rc=$?\"")
    local out = p:read("a")
    p:close()
    assert.matches("rc=0\n$", out)
    -- ldoc prints its complaints as "file:line: message"
    assert.is_nil(out:match("[^\n]*:%d+: [^\n]*"), "ldoc warned:\n" .. out)
    local index = assert(read("docs/html/index.html"), "docs/html/index.html missing")
    for _, mod in ipairs({"libbpf", "libbpf.core", "libbpf.repl", "libbpf.pretty"}) do
      assert.matches('href="modules/' .. mod:gsub("%.", "%%.") .. '.html"', index)
    end
    assert.matches("getting%-started", index)
    local page = assert(read("docs/html/modules/libbpf.core.html"))
    for _, name in ipairs({"open", "open_buffer", "set_print", "object:load", "object:attach",
                           "map:lookup", "map:update", "map:reuse_fd", "program:attach_tracepoint",
                           "program:test_run", "link:destroy"}) do
      assert.matches('<a name = "' .. name:gsub("%p", "%%%0") .. '"', page)
    end
    assert.matches("Dropping a link does", page)
  end)

  describe("the API reference", function()
    local core_items, core_intro, lua_items
    setup(function()
      -- make the metatables that are created on first use exist too
      core.elf_symbols("/proc/self/exe")
      core_items, core_intro = parse_page(assert(read("docs/html/modules/libbpf.core.html"),
                                                 "run the make docs test first"))
      lua_items = parse_page(assert(read("docs/html/modules/libbpf.html")))
    end)

    -- name -> where it was found; fails listing every missing name at once
    local function check(expected)
      local missing, no_usage = {}, {}
      for _, e in ipairs(expected) do
        local chunk = e.page[e.name]
        if not chunk then
          missing[#missing + 1] = e.name .. " (" .. e.what .. ")"
        elseif not chunk:find("<h3>Usage:</h3>", 1, true) then
          no_usage[#no_usage + 1] = e.name
        end
      end
      assert(#missing == 0, #missing .. " undocumented:\n  " .. table.concat(missing, "\n  "))
      assert(#no_usage == 0, #no_usage .. " without @usage:\n  " .. table.concat(no_usage, "\n  "))
    end

    it("documents every bpf.* function and constant", function()
      local expected = {}
      for _, k in ipairs(sorted_keys(bpf)) do
        local in_core = rawget(core, k) ~= nil
        expected[#expected + 1] = {name = k, page = in_core and core_items or lua_items,
                                   what = (in_core and "libbpf.core " or "libbpf ") .. type(bpf[k])}
      end
      assert.is_true(#expected >= 20, "the module table looks empty")
      check(expected)
    end)

    it("documents every class, and every method and field of each", function()
      local expected, counts = {}, {}
      local undocumented_classes = {}
      for _, name in ipairs(sorted_keys(classes())) do
        local mt = classes()[name]
        if not INTERNAL[name] then
          local cls = name:gsub("^libbpf%.", "")
          if not core_intro[cls] then
            undocumented_classes[#undocumented_classes + 1] = name
          end
          local n = 0
          for _, m in ipairs(methods_of(mt)) do
            expected[#expected + 1] = {name = cls .. ":" .. m, page = core_items,
                                       what = "method of " .. name}
            n = n + 1
          end
          local fields, source = fields_of(name, mt)
          for _, f in ipairs(fields) do
            expected[#expected + 1] = {name = cls .. "." .. f, page = core_items,
                                       what = "field of " .. name .. " (" .. source .. ")"}
            n = n + 1
          end
          counts[#counts + 1] = ("%s %d"):format(cls, n)
          for meta, marker in pairs(META_MARKERS) do
            if rawget(mt, meta) ~= nil and core_intro[cls]
               and not core_intro[cls]:find(marker, 1, true) then
              undocumented_classes[#undocumented_classes + 1] =
                name .. " (its introduction does not mention " .. meta .. ")"
            end
          end
        end
      end
      assert(#undocumented_classes == 0, "classes without a section (@type):\n  "
             .. table.concat(undocumented_classes, "\n  "))
      assert.is_true(#expected >= 100, "too few methods and fields found: " .. #expected)
      check(expected)
      -- the count of names per class, for the record
      io.stderr:write("\n[docs] " .. table.concat(counts, ", ") .. "\n")
    end)

    it("documents every function of the Lua modules (lua/libbpf/*.lua)", function()
      local expected, n = {}, 0
      for path in io.popen("ls lua/libbpf/*.lua"):lines() do
        local mod = "libbpf." .. path:match("([%w_]+)%.lua$")
        local page = assert(read("docs/html/modules/" .. mod .. ".html"), mod .. ": no page")
        local items = parse_page(page)
        for _, k in ipairs(sorted_keys(require(mod))) do
          expected[#expected + 1] = {name = k, page = items, what = mod}
        end
        n = n + 1
      end
      assert.is_true(n >= 5 and #expected >= 30, "too few Lua modules or functions found")
      check(expected)
    end)

    it("finds every classic class and its methods in the registry", function()
      -- guards the enumeration itself: were __index to change shape, the
      -- checks above would see no methods and pass on nothing
      local all = classes()
      for _, name in ipairs({"libbpf.object", "libbpf.map", "libbpf.program", "libbpf.link",
                             "libbpf.btf", "libbpf.ringbuf", "libbpf.perfbuf",
                             "libbpf.user_ringbuf", "libbpf.ringbuf_batch"}) do
        assert.is_table(all[name], name)
        assert.is_true(#methods_of(all[name]) > 0, name .. ": no methods found")
      end
      -- internal classes are registered on first use: use each once, so
      -- that this spec does not depend on what ran before it
      assert(bpf.elf_symbols("/bin/true"))
      local obj <close> = assert(bpf.open("spec/bpf/counter.bpf.o"))
      assert(obj:load())
      all = classes()
      for name in pairs(INTERNAL) do
        assert.is_table(all[name], "INTERNAL names a class that does not exist: " .. name)
      end
    end)

    it("documents nothing that does not exist", function()
      local all, known = classes(), {}
      for k in pairs(bpf) do known[k] = true end
      for name, mt in pairs(all) do
        local cls = name:gsub("^libbpf%.", "")
        known["Class_" .. cls] = true
        for _, m in ipairs(methods_of(mt)) do known[cls .. ":" .. m] = true end
        for _, f in ipairs((fields_of(name, mt))) do known[cls .. "." .. f] = true end
        -- a class with neither methods nor fields (vars, event_view) is
        -- documented by entries for its metamethods
        for k in pairs(mt) do
          if type(k) == "string" and k:match("^__") then known[cls .. ":" .. k] = true end
        end
      end
      local extra = {}
      for name in pairs(core_items) do
        if not known[name] then extra[#extra + 1] = name end
      end
      for cls in pairs(core_intro) do
        if not known["Class_" .. cls] then extra[#extra + 1] = "@type " .. cls end
      end
      table.sort(extra)
      assert(#extra == 0, "documented but not in the module:\n  " .. table.concat(extra, "\n  "))
    end)

    it("lists in __fields only names that a C getter answers", function()
      local csrc = {}
      for path in io.popen("ls csrc/*.c"):lines() do csrc[#csrc + 1] = read(path) end
      csrc = table.concat(csrc, "\n")
      local stale = {}
      for class, mt in pairs(classes()) do
        for _, f in ipairs(rawget(mt, "__fields") or {}) do
          if not csrc:find('strcmp%(%w+, "' .. f .. '"%)') then
            stale[#stale + 1] = class .. "." .. f
          end
        end
      end
      assert(#stale == 0, "not answered by any getter in csrc:\n  " .. table.concat(stale, "\n  "))
    end)

    it("has examples in api.luadoc that call only functions and methods that exist", function()
      -- Lua's own methods the examples use (files, strings, luasocket)
      local known = {read = true, write = true, close = true, gmatch = true, rep = true,
                     getfd = true}
      for _, mt in pairs(classes()) do
        for _, m in ipairs(methods_of(mt)) do known[m] = true end
      end
      local unknown = {}
      for _, u in ipairs(usages(assert(read("docs/api.luadoc")))) do
        local code = u.code:gsub('"[^"\n]*"', '""')
        for m in code:gmatch(":([%a_][%w_]*)%s*[%(%{\"]") do
          if not known[m] then unknown[#unknown + 1] = ("line %d: :%s"):format(u.line, m) end
        end
        for f in code:gmatch("%f[%w_]bpf%.([%a_][%w_]*)") do
          if bpf[f] == nil then unknown[#unknown + 1] = ("line %d: bpf.%s"):format(u.line, f) end
        end
      end
      assert(#unknown == 0, "examples use names the module does not have:\n  "
             .. table.concat(unknown, "\n  "))
    end)

    it("has examples that are valid Lua", function()
      local files = {"docs/api.luadoc", "lua/libbpf.lua"}
      for path in io.popen("ls lua/libbpf/*.lua"):lines() do files[#files + 1] = path end
      local bad, n = {}, 0
      for _, path in ipairs(files) do
        for _, u in ipairs(usages(assert(read(path)))) do
          n = n + 1
          local ok, err = load(u.code, "=" .. path .. ":" .. u.line, "t")
          if not ok then bad[#bad + 1] = err end
        end
      end
      assert.is_true(n >= 100, "too few @usage blocks found: " .. n)
      assert(#bad == 0, "@usage that does not compile:\n  " .. table.concat(bad, "\n  "))
    end)
  end)
end)
