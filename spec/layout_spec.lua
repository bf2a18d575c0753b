-- Rules the C core now has in one place (issue 12): one type-lookup rule,
-- one cached kernel BTF, one table of flag names.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local BPF_F_NO_PREALLOC = 1
local BPF_F_RDONLY_PROG = 128

local function loaded()
  local obj = assert(bpf.open(H.obj("events")))
  assert(obj:load())
  return obj
end

describe("one type-lookup rule", function()
  -- each of these resolved differently through btf:find, btf:type and
  -- bpf.ringbuf{type=} before the three lookups were merged
  local names = {"struct  event", "typedef __u32", "struct event", "event"}

  it("gives btf:find and btf:type the same id for every spelling", function()
    local obj <close> = loaded()
    local btf = assert(obj:btf())
    for _, name in ipairs(names) do
      local id = btf:find(name)
      assert.is_number(id, name)
      local t = btf:type(name)
      assert.is_table(t, name)
      assert.equal(id, t.id, name)
    end
    assert.equal(btf:find("struct event"), btf:find("struct  event"))
  end)

  it("lets bpf.ringbuf{type=} decode with the spelling btf:find accepts", function()
    local obj <close> = loaded()
    local got
    local rb <close> = assert(bpf.ringbuf(obj.maps.events2, function(ev) got = ev end,
                                          {type = "struct  event"}))
    assert(obj.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 1, 7, 0, 1)})
    assert.equal(1, rb:consume())
    assert.is_table(got)
    assert.equal(7, got.seq)
    assert.equal(4242, got.pid)
  end)
end)

describe("the kernel BTF", function()
  it("is one handle: bpf.btf_vmlinux() returns the same object every call", function()
    local a = assert(bpf.btf_vmlinux())
    local b = assert(bpf.btf_vmlinux())
    assert.is_true(rawequal(a, b))
    assert.is_true(rawequal(a, bpf.btf_kernel()))
  end)

  it("stays usable after a caller closes it (others share it)", function()
    do
      local v <close> = assert(bpf.btf_vmlinux())
      assert.is_table(v:type("struct task_struct"))
    end
    local v = assert(bpf.btf_vmlinux())
    assert.is_table(v:type("struct task_struct"))
  end)
end)

describe("flags by name", function()
  it("creates a map with flags given as a list of names", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4,
                                           max_entries = 8,
                                           flags = {"no_prealloc", "rdonly_prog"}})
    assert.equal(BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG, m.flags)
    assert.equal(BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG, m:info().flags)
  end)

  it("still takes a number", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4,
                                           max_entries = 8, flags = BPF_F_NO_PREALLOC})
    assert.equal(BPF_F_NO_PREALLOC, m.flags)
  end)

  it("raises naming an unknown flag", function()
    assert.error_matches(function()
      bpf.map_create{type = "hash", key_size = 4, value_size = 4, max_entries = 8,
                     flags = {"no_prealloc", "no_such_flag"}}
    end, "map_create: unknown flag 'no_such_flag'")
  end)

  it("takes update flags as a list of names", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4,
                                           max_entries = 8})
    assert(m:update(1, 10, {"noexist"}))
    local ok, _, errno = m:update(1, 11, {"noexist"})
    assert.is_nil(ok)
    assert.equal(17, errno) -- EEXIST
    assert.equal(10, m:lookup(1))
  end)
end)

describe("bpf.num_possible_cpus", function()
  it("is libbpf's count", function()
    local n = assert(bpf.num_possible_cpus())
    assert.is_true(math.type(n) == "integer" and n >= 1)
  end)
end)

describe("spec/tools/layers.lua (run by make lint)", function()
  local function run(dir)
    local p = io.popen("lua5.4 spec/tools/layers.lua " .. dir .. " 2>&1; echo rc=$?")
    local out = p:read("a")
    p:close()
    return out
  end

  local function tree(files)
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    for name, text in pairs(files) do
      local f = assert(io.open(dir .. "/" .. name, "w"))
      f:write(text)
      f:close()
    end
    return dir
  end

  it("finds no circle in csrc/", function()
    assert.matches("no call or include circle\nrc=0\n$", run("csrc"))
  end)

  it("fails on a call circle and names the functions", function()
    local dir = tree{
      ["a.c"] = '#include "a.h"\nint a_f(void)\n{\n\treturn b_g();\n}\n',
      ["b.c"] = "static int helper(void) { return 1; }\nint b_g(void)\n{\n\treturn a_f() + helper();\n}\n",
      ["a.h"] = "int a_f(void);\nint b_g(void);\n",
    }
    finally(function() os.execute("rm -rf " .. dir) end)
    local out = run(dir)
    assert.matches("call circle: a%.c %-%(b_g%)%-> b%.c %-%(a_f%)%-> a%.c", out)
    assert.matches("rc=1\n$", out)
  end)

  it("fails on an include circle", function()
    local dir = tree{
      ["x.h"] = '#include "y.h"\n', ["y.h"] = '#include "x.h"\n',
      ["m.c"] = '#include "x.h"\nstatic int f(void) { return 0; }\n',
    }
    finally(function() os.execute("rm -rf " .. dir) end)
    local out = run(dir)
    assert.matches("include circle: x%.h %-> y%.h %-> x%.h", out)
    assert.matches("rc=1\n$", out)
  end)
end)
