-- bpf.cdef: C declarations to a libbpf.btf in process, laid out as clang
-- lays them out for -target bpf (checked against clang's own BTF for every
-- header of the examples and specs and for spec/cdef/*.h); btf= next to
-- type= for ring, perf and user ring buffers and m:set_type, with records
-- written by a real BPF program whose record type is in no BTF.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

-- What the headers assume from vmlinux.h/linux/types.h when clang compiles
-- them alone (bpf.cdef knows these names without a declaration).
local PRELUDE = [[
typedef unsigned char __u8; typedef signed char __s8; typedef unsigned short __u16;
typedef short __s16; typedef unsigned int __u32; typedef int __s32;
typedef unsigned long long __u64; typedef long long __s64;
typedef __u8 u8; typedef __s8 s8; typedef __u16 u16; typedef __s16 s16;
typedef __u32 u32; typedef __s32 s32; typedef __u64 u64; typedef __s64 s64;
typedef _Bool bool; typedef unsigned long size_t; typedef int pid_t;
typedef unsigned int uid_t; typedef unsigned int gid_t;
typedef __u16 __be16; typedef __u32 __be32; typedef __u64 __be64;
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
]]

local function lines(cmd)
  local out = {}
  for l in io.popen(cmd):lines() do out[#out + 1] = l end
  return out
end

local function spell(t)
  if t.kind == "typedef" then return t.name end
  if t.kind == "enum64" then return "enum " .. t.name end
  return t.kind .. " " .. t.name
end

-- the named records, enums and typedefs of a btf
local function named_types(btf)
  local out = {}
  for id = 1, btf.count do
    local t = btf:type(id)
    if t.name ~= "" and (t.kind == "struct" or t.kind == "union" or t.kind == "typedef"
                         or t.kind == "enum" or t.kind == "enum64") then
      out[#out + 1] = t
    end
  end
  return out
end

local function resolve(btf, id)
  local t = btf:type(id)
  while t and (t.kind == "typedef" or t.kind == "array" or t.kind == "const"
               or t.kind == "volatile") do
    t = btf:type(t.type_id)
  end
  return t
end

-- every difference of type `ida` of `a` (cdef) and `idb` of `b` (clang):
-- size, member names, bit offsets, bitfield sizes, member sizes, and the
-- same for anonymous member records
local function compare(a, b, ida, idb, path, errs)
  local ta, tb = a:type(ida), b:type(idb)
  if ta.size ~= tb.size then errs[#errs + 1] = ("%s: size %s, clang %s"):format(path, ta.size, tb.size) end
  if not ta.members then return end
  if #ta.members ~= #(tb.members or {}) then
    errs[#errs + 1] = ("%s: %d members, clang %d"):format(path, #ta.members, #(tb.members or {}))
    return
  end
  for i, ma in ipairs(ta.members) do
    local mb = tb.members[i]
    local p = path .. "." .. (ma.name ~= "" and ma.name or "(anon)")
    if ma.name ~= mb.name then errs[#errs + 1] = ("%s: named %s by clang"):format(p, mb.name) end
    if ma.bit_offset ~= mb.bit_offset then
      errs[#errs + 1] = ("%s: bit offset %d, clang %d"):format(p, ma.bit_offset, mb.bit_offset)
    end
    if ma.bits ~= mb.bits then errs[#errs + 1] = ("%s: %d bits, clang %d"):format(p, ma.bits, mb.bits) end
    local sa, sb = a:type(ma.type_id), b:type(mb.type_id)
    if (sa and sa.size) ~= (sb and sb.size) then
      errs[#errs + 1] = ("%s: member size %s, clang %s"):format(p, sa and sa.size, sb and sb.size)
    end
    local ra, rb = resolve(a, ma.type_id), resolve(b, mb.type_id)
    if ra and rb and ra.name == "" and ra.members and rb.members then
      compare(a, b, ra.id, rb.id, p, errs)
    end
  end
end

-- the struct/union names a header defines, read with a pattern (so that a
-- record bpf.cdef missed altogether is noticed too)
local function defined_records(path)
  local text = H.read(path):gsub("/%*.-%*/", " "):gsub("//[^\n]*", " ")
  local names = {}
  for kind, name in text:gmatch("(%f[%w_]%a+)%s+([%a_][%w_]*)%s*{") do
    if kind == "struct" or kind == "union" then names[#names + 1] = kind .. " " .. name end
  end
  return names
end

-- Compile `path` with clang (-target bpf -g), one global per named type so
-- that each is in the BTF, and compare with bpf.cdef{file = path}.
-- Returns the number of types compared and the list of differences.
local function check_header(path)
  local cb = assert(bpf.cdef{file = path})
  local errs = {}
  for _, name in ipairs(defined_records(path)) do
    if not cb:find(name) then errs[#errs + 1] = name .. ": defined in the header, not in bpf.cdef's BTF" end
  end
  local types = named_types(cb)
  if #types == 0 then return 0, errs end
  local src = {PRELUDE, ('#include "%s"'):format(lines("realpath " .. path)[1])}
  for i, t in ipairs(types) do src[#src + 1] = ("%s __cdef_g%d;"):format(spell(t), i) end
  local dir = lines("mktemp -d")[1]
  local f = assert(io.open(dir .. "/t.c", "w"))
  f:write(table.concat(src, "\n"), "\n")
  f:close()
  local p = io.popen(("clang -target bpf -g -O2 -Ibuild -I/usr/include/%s-linux-gnu -c %s/t.c -o %s/t.o 2>&1")
                     :format(lines("uname -m")[1], dir, dir))
  local out = p:read("a")
  local ok = p:close()
  local kb = ok and bpf.btf_parse(dir .. "/t.o")
  os.execute("rm -rf " .. dir)
  assert(ok, path .. ": clang failed:\n" .. out)
  assert(kb, path .. ": no BTF in clang's object")
  for _, t in ipairs(types) do
    local kid = kb:find(spell(t))
    if not kid then errs[#errs + 1] = spell(t) .. ": not in clang's BTF"
    else compare(cb, kb, t.id, kid, spell(t), errs) end
  end
  kb:close()
  return #types, errs
end

describe("bpf.cdef lays types out as clang does for -target bpf", function()
  local groups = {
    {"the examples' headers", "ls examples/*.h"},
    {"the spec objects' headers", "ls spec/bpf/*.h spec/bpf/legacy/*.h"},
    {"the libbpf-tools style headers of spec/cdef", "ls spec/cdef/*.h"},
    {"the kernel's uapi headers linux/bpf.h, perf_event.h, if_ether.h, udp.h",
     "ls /usr/include/linux/bpf.h /usr/include/linux/perf_event.h /usr/include/linux/if_ether.h "
     .. "/usr/include/linux/udp.h"},
  }
  for _, g in ipairs(groups) do
    it(g[1] .. ": size, bit offset and bitfield size of every member", function()
      local headers, total, report = lines(g[2]), 0, {}
      assert.is_true(#headers > 0)
      for _, h in ipairs(headers) do
        local n, errs = check_header(h)
        total = total + n
        for _, e in ipairs(errs) do report[#report + 1] = h .. ": " .. e end
      end
      assert(#report == 0, #report .. " differences from clang:\n  " .. table.concat(report, "\n  "))
      assert.is_true(total >= #headers - 2, "too few types compared: " .. total)
    end)
  end

  it("has at least 20 libbpf-tools style headers covering every feature", function()
    local headers = lines("ls spec/cdef/*.h")
    assert.is_true(#headers >= 20, #headers .. " headers")
    local all = {}
    for _, h in ipairs(headers) do all[#all + 1] = H.read(h) end
    all = table.concat(all, "\n")
    for _, feature in ipairs({"__attribute__((packed))", "aligned(", "[];", ": 0;", "1ULL << 63",
                              "union {", "#include \"", "sizeof(", "#if ", "(int)"}) do
      assert.is_truthy(all:find(feature, 1, true), "no header uses " .. feature)
    end
  end)

  it("gives the integer macros and enumerators as constants", function()
    local btf, c = bpf.cdef{file = "spec/cdef/macros.h"}
    assert.equal(4096, c.PAGE_SIZE)
    assert.equal(8, c.MAX_ENTRIES)
    assert.equal(17, c.NR)
    assert.equal(15, c.MASK)
    assert.equal(-4, c.NEG)
    assert.equal(16, c.SZ)
    assert.is_nil(c.HALF)                   -- function-like
    local _, e = bpf.cdef{file = "spec/cdef/enums.h"}
    assert.equal(16, e.ST_LAST)
    assert.equal(-1, e.N_MINUS)
    assert.equal(1 << 63, e.B_TWO)
    assert.equal("__u64[4]", btf:type("struct sized").members[14].type)
  end)
end)

describe("bpf.cdef on mutated headers", function()
  -- 600 headers of spec/cdef with random edits: each parses or raises
  -- file:line:column, and none runs away (an instruction budget; once
  -- `__attributeX__` looped forever)
  it("parses or raises with a position, in bounded time", function()
    local cdef = require "libbpf.cdef"
    local texts = {}
    for _, h in ipairs(lines("ls spec/cdef/*.h examples/*.h")) do texts[#texts + 1] = H.read(h) end
    local pieces = {"(", ")", "{", "}", ";", ",", "*", "[", "]", ":", "#", "\n", "struct", "union",
                    "enum", "0", "-1", "1ULL<<70", "__attribute__((", "__attributeX__", "aligned",
                    "packed", "#define X(", "#if", "#endif", "'", '"', "/*", "\\\n", "sizeof(",
                    "typedef", "int", "x", "=", "...", "##", "#else"}
    local rnd = 12345
    local function random(n) rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd % n + 1 end
    local bad = {}
    for i = 1, 600 do
      local s = i == 1 and "struct a { int x; } __attributeX__((aligned(8)));" or texts[random(#texts)]
      for _ = 1, i == 1 and 0 or random(4) do
        local p, r = random(#s + 1), random(3)
        if r == 1 then s = s:sub(1, p - 1) .. pieces[random(#pieces)] .. s:sub(p)
        elseif r == 2 then s = s:sub(1, p - 1) .. s:sub(p + random(10))
        else s = s:sub(1, p - 1) .. string.char(random(256) - 1) .. s:sub(p) end
      end
      local budget = 0
      debug.sethook(function()
        budget = budget + 1
        if budget > 500 then debug.sethook(); error("runaway parse", 0) end
      end, "", 10000)
      local ok, err = pcall(cdef.parse, s)
      debug.sethook()
      if not ok and not (type(err) == "string" and err:match("^[^:]+:%d+:%d+: ")) then
        bad[#bad + 1] = ("input %d: %s"):format(i, tostring(err))
      end
    end
    assert(#bad == 0, table.concat(bad, "\n"))
  end)
end)

describe("bpf.cdef errors", function()
  local cases = {
    {"struct s {\n  int a\n};", "cdef:3:1: expected ';', got '}'"},
    {"struct s {\n  unknown_t a;\n};", "cdef:2:3: expected a type, got 'unknown_t'"},
    {"#define N (4 +\nstruct s { char a[N]; };", "cdef:2:20: expected a constant expression, got ']'"},
    {"struct s { char a[M]; };", "cdef:1:19: 'M' is not a constant"},
    {"struct s { int a : 40; };", "cdef:1:16: bitfield 'a' has width 40, its type 32 bits"},
    {"struct s { int a[]; int b; };", "cdef:1:16: flexible array 'a' is not the last member"},
    {"struct t;\nstruct s { struct t x; };", "cdef:2:21: struct t is incomplete here"},
    {"#ifdef X\nstruct s { int a; };", "cdef:1:2: #ifdef without #endif"},
    {"/* open", "cdef:1:1: unterminated comment"},
    {"struct s { int a; };\nstruct s { int b; };", "cdef:2:1: struct s is defined twice"},
    {"struct s { char c[1 / 0]; };", "cdef:1:21: division by zero in a constant expression"},
  }
  for _, c in ipairs(cases) do
    it("names line and column: " .. c[2], function()
      local ok, err = pcall(bpf.cdef, c[1])
      assert.is_false(ok)
      assert.equal(c[2], err)
    end)
  end

  it("names the file of file= and of an included header", function()
    local dir = lines("mktemp -d")[1]
    local f = assert(io.open(dir .. "/inner.h", "w"))
    f:write("struct inner {\n  int x;\n  bad y;\n};\n")
    f:close()
    f = assert(io.open(dir .. "/outer.h", "w"))
    f:write("#include \"inner.h\"\nstruct outer { struct inner i; };\n")
    f:close()
    local ok, err = pcall(bpf.cdef, {file = dir .. "/outer.h"})
    os.execute("rm -rf " .. dir)
    assert.is_false(ok)
    assert.equal(dir .. "/inner.h:3:3: expected a type, got 'bad'", err)
  end)

  it("returns nil, message, errno for a file that cannot be read", function()
    local btf, msg, errno = bpf.cdef{file = "/nonexistent/x.h"}
    assert.is_nil(btf)
    assert.matches("/nonexistent/x.h", msg, 1, true)
    assert.equal(2, errno)
  end)
end)

-- what cdef_event.bpf.c writes for sequence number seq
local function expected(seq)
  return {
    pid = 1000 + seq, ppid = -seq - 1, exit_code = 0xfffffff0 + (seq & 7),
    duration_ns = 0x100000000 * seq + 7, comm = "cdef-task", filename = "/usr/bin/cdef",
    exit_event = seq & 1 == 1, prio = seq & 31, cpu = (seq * 3) & 0x7ff,
    addr_v4 = 0x0a000001 + seq, delta = -seq * 1000, seq = seq,
  }
end
local PLAIN = {"pid", "ppid", "exit_code", "duration_ns", "comm", "filename", "exit_event",
               "delta", "seq"}

describe("btf= with a record type declared only in the header", function()
  local header = H.read("spec/bpf/cdef_event.h")

  local function loaded()
    local obj = assert(bpf.open(H.obj("cdef_event")))
    assert(obj:load())
    return obj
  end
  local function emit(obj, count, start)
    local r = assert(obj.progs.emit:test_run{ctx = string.pack("I4I4", count, start)})
    assert.equal(count, r.retval)
  end

  it("is not in the object's BTF: type= alone cannot decode it", function()
    local obj <close> = loaded()
    assert.is_nil(obj:btf():find("struct event"))
    assert.has_error(function() bpf.ringbuf(obj.maps.rb, print, {type = "struct event"}) end,
      "libbpf.ringbuf: type 'struct event' is not in the BTF of map 'rb' (give btf=, e.g. bpf.cdef(header))")
  end)

  it("decodes records as tables equal field by field to what the program wrote", function()
    local obj <close> = loaded()
    local got = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.rb, function(ev) got[#got + 1] = ev end,
                                          {type = "struct event", btf = bpf.cdef(header)}))
    collectgarbage()                        -- the btf handle is kept by the ring buffer
    emit(obj, 40, 3)
    assert.equal(40, rb:consume())
    for i, ev in ipairs(got) do
      local want = expected(i + 2)
      for k, v in pairs(want) do assert.equal(v, ev[k], k .. " of record " .. i) end
      assert.equal(want.addr_v4 & 0xff, ev.addr_v6[1])    -- the anonymous union's other member
    end
  end)

  it("reads the same fields through view=true", function()
    local obj <close> = loaded()
    local n, bad = 0, nil
    local rb <close> = assert(bpf.ringbuf(obj.maps.rb, function(v)
      n = n + 1
      local want = expected(n + 99)
      for _, k in ipairs(PLAIN) do
        if not bad and v[k] ~= want[k] then bad = ("record %d: %s = %s, want %s"):format(n, k, v[k], want[k]) end
      end
    end, {type = "struct event", btf = bpf.cdef(header), view = true}))
    emit(obj, 25, 100)
    assert.equal(25, rb:consume())
    assert.equal(25, n)
    assert.is_nil(bad)
  end)

  it("reads batches, and b:column, through the given btf", function()
    local obj <close> = loaded()
    local records, cols = {}, {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.rb, function(b)
      for i = 1, #b do records[#records + 1] = b[i] end
      for _, k in ipairs({"pid", "duration_ns", "comm", "delta"}) do
        for _, v in ipairs(b:column(k)) do
          cols[k] = cols[k] or {}
          cols[k][#cols[k] + 1] = v
        end
      end
    end, {type = "struct event", btf = bpf.cdef(header), batch = 16}))
    emit(obj, 50, 0)
    assert.equal(50, rb:consume())
    assert.equal(50, #records)
    for i, ev in ipairs(records) do
      local want = expected(i - 1)
      for k, v in pairs(want) do assert.equal(v, ev[k], k .. " of record " .. i) end
      for k, col in pairs(cols) do assert.equal(want[k], col[i], k .. " column, record " .. i) end
    end
  end)

  it("keeps a closed btf handle's types for the stream; the handle itself raises", function()
    local obj <close> = loaded()
    local btf = bpf.cdef(header)
    local got = {}
    local rb <close> = assert(bpf.ringbuf(obj.maps.rb, function(ev) got[#got + 1] = ev.pid end,
                                          {type = "struct event", btf = btf}))
    btf:close()
    assert.has_error(function() btf:sizeof("struct event") end, "libbpf.btf: btf is closed")
    collectgarbage()
    emit(obj, 2, 5)
    assert.equal(2, rb:consume())
    assert.same({1005, 1006}, got)
  end)

  it("raises naming the problem: btf= without type=, a type not in it, not a btf", function()
    local obj <close> = loaded()
    local btf = bpf.cdef(header)
    assert.has_error(function() bpf.ringbuf(obj.maps.rb, print, {btf = btf}) end,
                     "libbpf.ringbuf: btf= needs type=")
    assert.has_error(function() bpf.ringbuf(obj.maps.rb, print, {type = "struct nope", btf = btf}) end,
                     "libbpf.ringbuf: type 'struct nope' is not in the given btf")
    assert.has_error(function() bpf.ringbuf(obj.maps.rb, print, {type = "struct event", btf = {}}) end,
                     "libbpf.ringbuf: option 'btf' must be a libbpf.btf, got table")
  end)
end)

describe("btf= on the other streams and maps", function()
  local REC = bpf.cdef[[
    struct rec { __u64 seq; __u32 pid; __u32 kind; char comm[16]; };
    struct cmd { __u64 value; __u32 op; __u32 pad; };
  ]]

  it("perf buffers decode samples through a type of the given btf", function()
    local obj <close> = assert(bpf.open(H.obj("events")))
    assert(obj:load())
    local got = {}
    local pb <close> = assert(bpf.perfbuf(obj.maps.samples, {
      on_sample = function(_, ev) got[#got + 1] = ev end, type = "struct rec", btf = REC}))
    assert(obj.progs.perf_emit:test_run{ctx = string.pack("I8I8I8", 3, 20, 0),
                                        flags = 1, cpu = 0})
    H.wait_until(function() pb:poll(50); return #got == 3 end, 5, "3 perf samples")
    for i, ev in ipairs(got) do
      assert.same({seq = 19 + i, pid = 4242, kind = (i - 1) & 3, comm = "lua-libbpf"}, ev)
    end
  end)

  it("user ring buffers encode through a type of the given btf", function()
    local obj <close> = assert(bpf.open(H.obj("events")))
    assert(obj:load())
    local urb <close> = assert(bpf.user_ringbuf(obj.maps.commands, {type = "struct cmd", btf = REC}))
    assert(urb:write{value = 40, op = 7})
    assert(urb:write{value = 2, op = 9})
    assert(obj.progs.drain:test_run{})
    assert.equal(2, obj.maps.drained[0])
    assert.equal(42, obj.maps.drained[1])
    assert.equal(9, obj.maps.drained[2])
  end)

  it("m:set_type{value=, btf=} types a map from a header, kept after the handle goes", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 16,
                                            max_entries = 4})
    local btf = bpf.cdef"struct cmd { __u64 value; __u32 op; __u32 pad; };"
    assert.equal(m, m:set_type{key = "__u32", value = "struct cmd", btf = btf})
    btf:close()
    btf = nil                               -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    m[3] = {value = 1 << 40, op = 5}
    assert.same({value = 1 << 40, op = 5, pad = 0}, m[3])
    assert.equal(string.pack("I8I4I4", 1 << 40, 5, 0), m:lookup(3, {raw = true}))
  end)

  it("m:lookup and m:dump take {type=, btf=} for one call", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 16,
                                            max_entries = 4})
    m:update(1, string.pack("I8I4I4", 77, 3, 0))
    assert.same({value = 77, op = 3, pad = 0}, m:lookup(1, {type = "struct cmd", btf = REC}))
    assert.same({[1] = {value = 77, op = 3, pad = 0}},
                m:dump{type = "struct cmd", key_type = "__u32", btf = REC})
    assert.has_error(function() m:lookup(1, {type = "struct cmd", btf = "x"}) end)
  end)

  it("takes another object's BTF (obj:btf()) and outlives that object", function()
    local src = assert(bpf.open(H.obj("events")))
    local m <close> = assert(bpf.map_create{type = "array", key_size = 4, value_size = 16,
                                            max_entries = 1})
    m:set_type{value = "struct command", btf = src:btf()}
    src:close()
    collectgarbage()
    m[0] = {value = 9, op = 1}
    assert.same({value = 9, op = 1, pad = 0}, m[0])
  end)

  it("raises when set_type's btf= is not a btf or the type is not in it", function()
    local m <close> = assert(bpf.map_create{type = "array", key_size = 4, value_size = 16,
                                            max_entries = 1})
    assert.has_error(function() m:set_type{value = "struct cmd", btf = 42} end)
    assert.has_error(function() m:set_type{value = "struct nope", btf = REC} end)
  end)
end)

describe("bpf.btf_build", function()
  it("writes a BTF from descriptions that the codecs read", function()
    local b = bpf.btf_build{
      {kind = "int", name = "int", size = 4, signed = true},
      {kind = "struct", name = "pair", size = 8, members = {
        {name = "a", type = 1, offset = 0}, {name = "b", type = 1, offset = 32}}},
      {kind = "enum64", name = "big", size = 8, values = {{name = "HUGE", value = 1 << 62}}},
    }
    assert.equal(8, b:sizeof("struct pair"))
    assert.same({a = 1, b = -2}, b:decode("struct pair", string.pack("i4i4", 1, -2)))
    assert.equal(1 << 62, b:type("enum big").values[1].value)
  end)

  it("raises naming the entry for every malformed description", function()
    local bad = {
      {{kind = "int", name = "int", size = 3}, "entry 1 %(int%): btf__add failed"},
      {{kind = "int", size = 4}, "entry 1 %(int%): 'name' is missing"},
      {{kind = "ptr", type = 7}, "entry 1 %(ptr%): 'type' = 7 is out of range"},
      {{kind = "struct", name = "s", size = 4, members = {{name = "x", type = 0, offset = 64}}},
       "entry 1 %(struct%): 'offset' = 64 is out of range"},
      {{kind = "struct", name = "s", size = 4, members = {{name = "x", type = 0, offset = 16, bits = 20}}},
       "entry 1 %(struct%): member 'x' ends past the end"},
      {{kind = "struct", name = "s", size = 4, members = 5}, "'members' must be a list"},
      {{kind = "enum", name = "e", size = 3, values = {}}, "bad enum size"},
      {{kind = "array", type = 0, index_type = 0, nelems = -1}, "'nelems' = %-1 is out of range"},
      {{kind = "nope"}, "entry 1 %(nope%): unknown kind"},
      {{kind = 5}, "'kind' must be a string"},
      {"not a table", "entry 1 %(%?%): not a table"},
    }
    for _, c in ipairs(bad) do
      local ok, err = pcall(bpf.btf_build, {c[1]})
      assert.is_false(ok)
      assert.matches(c[2], err)
    end
    assert.has_error(function() bpf.btf_build("x") end)
    -- metamethods of the descriptions are not run (raw reads)
    local trap = setmetatable({}, {__index = function() error("ran") end})
    assert.has_no_error(function() pcall(bpf.btf_build, {trap}) end)
    assert.matches("'kind' is missing", select(2, pcall(bpf.btf_build, {trap})))
  end)
end)
