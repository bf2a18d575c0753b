-- Errors that name the cause and the fix (issue 19): a misspelt method or
-- field says what was probably meant.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

describe("a misspelt name", function()
  it("on each handle class says which method or field was meant", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    assert(obj:load())
    local m, p = obj.maps.exec_counts, obj.progs.count_exec
    assert.error_matches(function() return m:lokup(1) end,
      "no method 'lokup' on libbpf.map %(did you mean lookup%?%)")
    assert.error_matches(function() return obj:lod() end,
      "no method 'lod' on libbpf.object %(did you mean load%?%)")
    assert.error_matches(function() return p:atach() end,
      "no method 'atach' on libbpf.program %(did you mean attach%?%)")
    assert.error_matches(function() return obj.lodaed end,
      "no field 'lodaed' on libbpf.object %(did you mean loaded%?%)")
    assert.error_matches(function() return m.max_entires end,
      "no field 'max_entires' on libbpf.map %(did you mean max_entries%?%)")
    local link <close> = assert(p:attach())
    assert.error_matches(function() link:destory() end,
      "no method 'destory' on libbpf.link %(did you mean destroy%?%)")
  end)

  it("on a class with no fields (ring and perf buffers) names the class and the method", function()
    local obj <close> = assert(bpf.open(H.obj("events")))
    assert(obj:load())
    local rb <close> = assert(bpf.ringbuf(obj.maps.events, function() end))
    assert.error_matches(function() return rb:pol(0) end,
      "no method 'pol' on libbpf.ringbuf %(did you mean poll%?%)")
    assert.error_matches(function() return rb.lost end,
      "no method 'lost' on libbpf.ringbuf %(did you mean close%?%)")
    assert.is_nil(rb.something_else)
    local pb <close> = assert(bpf.perfbuf(obj.maps.samples, {on_sample = function() end}))
    assert.error_matches(function() return pb:consme() end,
      "no method 'consme' on libbpf.perfbuf %(did you mean consume%?%)")
  end)

  it("far from every name stays nil, and right names are untouched", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    assert.is_nil(obj.something_else)
    assert.is_false(obj.loaded)
    assert.equal("counter", obj.name)
    assert.is_function(obj.maps.exec_counts.lookup)
  end)

  it("on a map whose keys can be strings, is looked up first (a present key wins, an absent one is nil)", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4, max_entries = 4})
    m:update("pops", 7)
    assert.equal(7, m.pops)     -- one edit from pop, but a key of this map
    assert.is_nil(m.popx)       -- absent: nil, as for any key
  end)
end)

describe("an absent value", function()
  it("is exactly one nil from lookup, lookup_and_delete, pop and peek", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 8, max_entries = 4})
    assert.equal(1, select("#", m:lookup(99)))                 -- the integer fast path
    assert.equal(1, select("#", m:lookup(99, {raw = true})))   -- the general path
    assert.equal(1, select("#", m:lookup_and_delete(99)))
    assert.is_nil(m:lookup(99))
    local q <close> = assert(bpf.map_create{type = "queue", key_size = 0, value_size = 4, max_entries = 4})
    assert.equal(1, select("#", q:peek()))
    assert.equal(1, select("#", q:pop()))
    assert.is_false(m:delete(99)) -- delete says whether there was something
  end)
end)

describe("a failure from the kernel", function()
  it("E2BIG on update says the map is full, with its max_entries", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4,
                                            max_entries = 1, name = "tiny"})
    m[1] = 1
    local ok, err, code = m:update(2, 2)
    assert.is_nil(ok)
    assert.equal("update of map 'tiny' failed (the map is full: max_entries 1): Argument list too long", err)
    assert.equal(7, code)
    assert.error_matches(function() m[3] = 3 end, "the map is full: max_entries 1")
  end)

  it("ENOENT on a uprobe says whether the file or the function is missing", function()
    local obj <close> = assert(bpf.open(H.obj("attach")))
    assert(obj:load())
    local p = obj.progs.on_malloc
    local l, err, code = p:attach_uprobe{path = "libc.so.6", func = "lbpf_no_such_fn"}
    assert.is_nil(l)
    assert.matches("%(no function 'lbpf_no_such_fn' in [^)]*/libc%.so%.6%) failed: No such file or directory", err)
    assert.equal(2, code)
    l, err = p:attach_uprobe{path = "/nonexistent/lbpf", func = "main"}
    assert.is_nil(l)
    assert.matches("%(no file '/nonexistent/lbpf'%)", err)
    l, err = p:attach_uprobe{path = "liblbpfnosuch.so.1", func = "main"}
    assert.is_nil(l)
    assert.matches("%(no file 'liblbpfnosuch.so.1' in the library or program search paths%)", err)
  end)

  it("EPERM without privileges says which are needed, and the token way", function()
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local bpf = require "libbpf"
      bpf.set_print(function() end)
      local obj = assert(bpf.open(arg[1]))
      print(select(2, obj:load()))
    ]])
    f:close()
    os.execute("chmod 644 " .. script)
    local p = io.popen(("setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all " ..
      "env LUA_PATH=%q LUA_CPATH=%q lua5.4 %s %s 2>&1"):format(os.getenv("LUA_PATH") or "",
      os.getenv("LUA_CPATH") or "", script, H.obj("counter")))
    local out = p:read("a")
    p:close()
    os.remove(script)
    assert.matches("failed %(this process lacks the privileges BPF needs: run as root, or with CAP_BPF", out)
    assert.matches("bpf.open%(path, {token_path=}%)%): Operation not permitted", out)
  end)

  it("EPERM with CAP_BPF alone names the capability of the hook kind", function()
    local function load_as_nobody(caps, autoload_xdp)
      local p = io.popen(("setpriv --reuid=65534 --regid=65534 --clear-groups " ..
        "--inh-caps=-all,%s --ambient-caps=-all,%s env LUA_PATH=%q LUA_CPATH=%q lua5.4 -e %q 2>&1")
        :format(caps, caps, os.getenv("LUA_PATH") or "", os.getenv("LUA_CPATH") or "",
          ("local bpf = require 'libbpf' bpf.set_print(nil) " ..
           "local obj = assert(bpf.open(%q)) obj.progs.xdp_pass:set_autoload(%s) " ..
           "print(obj:load())"):format(H.obj("counter"), autoload_xdp)))
      local out = p:read("a")
      p:close()
      return out
    end
    -- the tracepoint program needs CAP_PERFMON
    assert.matches("load 'count_exec' failed (this process has CAP_BPF but not CAP_PERFMON, " ..
      "which tracing programs need): Operation not permitted", load_as_nobody("+bpf,+net_admin", false),
      1, true)
    -- with it, the tracing program loads; the XDP one needs CAP_NET_ADMIN
    assert.matches("libbpf.object(counter, libbpf, loaded", load_as_nobody("+bpf,+perfmon", false), 1, true)
    assert.matches("load 'xdp_pass' failed (this process has CAP_BPF but not CAP_NET_ADMIN, " ..
      "which networking programs need): Operation not permitted", load_as_nobody("+bpf,+perfmon", true),
      1, true)
    assert.matches("libbpf.object(counter, libbpf, loaded", load_as_nobody("+bpf,+perfmon,+net_admin", true),
      1, true)
  end)
end)

describe("obj.maps and obj.progs written by the user", function()
  it("are read with their handles' types checked: other values there are skipped", function()
    local obj <close> = assert(bpf.open(H.obj("counter")))
    obj.maps.stray, obj.progs.stray = {}, io.stdout -- tables the object also reads
    obj.progs.other = obj.maps.exec_counts          -- a handle of another class
    assert(obj:load())
    local links = assert(obj:attach())
    assert.truthy(links.count_exec)
    assert.is_nil(links.stray)
    obj.maps.stray2 = 42
    assert.matches("libbpf.object%(counter", tostring(obj))
  end)
end)
