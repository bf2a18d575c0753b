-- Maps and globals under misuse (issue 13, items 6, 7, 8, 10, 12, 14, 15):
-- stale hot-path caches, swallowed errors, fds that are not maps, dumps
-- sized by max_entries, clears that never end, global-data maps resized or
-- frozen behind libbpf's back, unpin of files that are not pins. Calls that
-- crashed or hung the process run in a child lua5.4 (with a time limit), so
-- that a regression fails the spec instead of killing busted.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local OBJ = H.obj("harden_maps")

local function loaded(name)
  local obj = assert(bpf.open(H.obj(name or "harden_maps")))
  assert(obj:load())
  return obj
end

--- Run Lua source `src` in a child lua5.4 (same module paths), killed after
-- `limit` seconds (default 20); `arg[1]` is spec/bpf/. `prefix` runs before
-- lua5.4 in the same shell (ulimit, unshare...). Returns the output (stdout
-- and stderr) and the exit status (124: timed out).
local function child(src, prefix, limit)
  local path = H.tmpfile('local bpf = require "libbpf"\nbpf.set_print(function() end)\n', src)
  local p = io.popen(("%s timeout -s KILL %d lua5.4 %s %s 2>&1; echo \"exit=$?\"")
    :format(prefix or "", limit or 20, path, H.bpfdir))
  local out = p:read("a")
  p:close()
  os.remove(path)
  local rc = tonumber(out:match("exit=(%d+)%s*$"))
  return out:gsub("exit=%d+%s*$", ""), rc
end

--- A fresh directory in the run's private bpffs, removed afterwards.
local function bpffs_dir()
  local dir = ("/sys/fs/bpf/hmaps-%d-%d"):format(H.pid(), math.random(1e9))
  assert(os.execute("mkdir " .. dir))
  finally(function() os.execute("rm -rf " .. dir) end)
  return dir
end

describe("the integer fast path", function()
  -- item 6
  it("follows m:set_type{} made after the map's first use", function()
    local obj <close> = loaded()
    local m = obj.maps.small
    m[1] = 0xFFFFFFFF
    assert.equal(0xFFFFFFFF, m[1])                 -- u32: the fast path
    m:set_type{value = "int"}
    assert.equal(-1, m[1])
    assert.equal(-1, m:lookup(1))
    m:update(2, -2)
    assert.equal(-2, m[2])
    assert.equal(-2, m:dump()[2])
  end)

  -- item 14: the fd libbpf closes on a second reuse_fd may be taken by
  -- another map; the fast path must not keep writing to that number
  it("follows m:reuse_fd() made after the map's first use", function()
    local out, rc = child([[
      local function mk() return assert(bpf.map_create{type = "array", key_size = 4,
                                                       value_size = 4, max_entries = 4}) end
      local o = assert(bpf.open(arg[1] .. "harden_maps.bpf.o"))
      local m = o.maps.small
      local a, b = mk(), mk()
      assert(m:reuse_fd(a))
      assert(m:update(1, 11))              -- caches the fd of the first reuse
      assert(m:reuse_fd(b))                -- libbpf closes that fd
      local c = mk()                       -- may get its number
      assert(m:update(1, 22))
      print("a", a[1], "b", b[1], "c", c[1], "m", m[1])
    ]])
    assert.equal(0, rc, out)
    assert.matches("a\t11\tb\t22\tc\t0\tm\t22", out, 1, true)
  end)
end)

describe("m[k] = nil", function()
  -- item 7
  it("raises when the kernel refuses the delete (array map)", function()
    local obj <close> = loaded()
    local m = obj.maps.small
    m[1] = 5
    assert.has_error(function() m[1] = nil end,
                     "delete in map 'small' failed: Invalid argument")
    assert.equal(5, m[1])
  end)

  it("is silent for an absent key of a hash map", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 4,
                                            max_entries = 4})
    m[1] = 1
    m[1] = nil
    m[2] = nil
    assert.is_nil(m[1])
    assert.is_nil(next(m:dump()))
  end)
end)

describe("map_from_pinned/_fd", function()
  -- item 8
  it("refuse a program, without keeping its fd", function()
    local obj <close> = loaded()
    local dir = bpffs_dir()
    local pin = dir .. "/prog"
    -- the program's id, from its fd's fdinfo, and pinned by bpftool
    local id = H.slurp(("/proc/%d/fdinfo/%d"):format(H.pid(), obj.progs.noop.fd))
      :match("prog_id:%s*(%d+)")
    assert(os.execute(("bpftool prog pin id %s %s"):format(id, pin)))
    local before = H.fd_count()
    local m, err, code = bpf.map_from_pinned(pin)
    assert.is_nil(m)
    assert.equal(("map_from_pinned '%s': not a BPF map: Invalid argument"):format(pin), err)
    assert.equal(22, code)
    assert.equal(before, H.fd_count())
    m, err = bpf.map_from_fd(obj.progs.noop.fd)
    assert.is_nil(m)
    assert.matches("not a BPF map", err)
    assert.equal(before, H.fd_count())
    -- a pinned map still opens
    assert(obj.maps.small:pin(dir .. "/small"))
    local s <close> = assert(bpf.map_from_pinned(dir .. "/small"))
    assert.equal(4, s.max_entries)
  end)

  it("refuses reuse_fd of a program's fd", function()
    local obj <close> = loaded()
    local o2 <close> = assert(bpf.open(OBJ))
    local ok, err = pcall(o2.maps.small.reuse_fd, o2.maps.small, obj.progs.noop.fd)
    assert.is_false(ok)
    assert.matches(("fd %d is not a BPF map"):format(obj.progs.noop.fd), err, 1, true)
  end)
end)

describe("m:dump()", function()
  -- item 10: a 1-entry map sized for 2^21 values of 512 bytes (no
  -- preallocation) dumped by a child whose address space is 256 MiB
  it("reads a huge, nearly empty map in bounded memory", function()
    if os.getenv("LBPF_ASAN") then -- ASan reserves terabytes of address space
      pending("ulimit -v cannot run under ASan: runs in make test")
      return
    end
    local out, rc = child([[
      local m = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 512,
                                      max_entries = 2^21, flags = "no_prealloc"})
      m[7] = ("x"):rep(512)
      local d = assert(m:dump())
      local n = 0
      for k, v in pairs(d) do n = n + 1; assert(k == 7 and v == ("x"):rep(512)) end
      print("entries", n)
    ]], "ulimit -v 262144;")
    assert.equal(0, rc, out)
    assert.matches("entries\t1", out, 1, true)
  end)

  it("reads every entry of a hash map bigger than one chunk", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 1024,
                                            max_entries = 4096})
    local function val(k) return ("%-8d"):format(k):rep(128) end
    for k = 1, 1000 do m[k] = val(k) end
    local d = m:dump()
    local n = 0
    for k, v in pairs(d) do n = n + 1; assert.equal(val(k), v) end
    assert.equal(1000, n)
  end)

  -- a 256 KiB value makes the chunk one element: a bucket of two or more
  -- (48 keys in 64 buckets: some share one) returns ENOSPC and the chunk grows
  it("reads hash buckets larger than its first chunk", function()
    local m <close> = assert(bpf.map_create{type = "hash", key_size = 4, value_size = 262144,
                                            max_entries = 64})
    for k = 1, 48 do m[k] = ("%-8d"):format(k):rep(32768) end
    local n = 0
    for k, v in pairs(assert(m:dump())) do
      n = n + 1
      assert.equal(("%-8d"):format(k):rep(32768), v)
    end
    assert.equal(48, n)
  end)
end)

describe("per-CPU maps", function()
  -- item 12: libbpf_num_possible_cpus() fails when
  -- /sys/devices/system/cpu/possible cannot be read
  it("refuse by name when the number of possible CPUs is unknown", function()
    local out, rc = child([[
      local m = assert(bpf.map_create{type = "percpu_array", key_size = 4, value_size = 8,
                                      max_entries = 1})
      print(pcall(m.lookup, m, 0))
      print(pcall(m.update, m, 0, 1))
    ]], "unshare --mount --propagation private sh -c " ..
        "'mount -t tmpfs none /sys/devices/system/cpu && exec \"$0\" \"$@\"'")
    assert.equal(0, rc, out)
    local _, n = out:gsub("false\tlibbpf%.map: cannot tell the number of possible CPUs " ..
                          "for per%-CPU map '': No such file or directory", "")
    assert.equal(2, n, out)
  end)
end)

describe("map iterators called by hand", function()
  -- item 14 (fuzz F2): the function pairs() returns, called with anything
  it("raise or iterate, never crash (maps and obj.vars)", function()
    local out, rc = child([[
      local o = assert(bpf.open(arg[1] .. "harden_maps.bpf.o")); assert(o:load())
      local t = assert(bpf.open(arg[1] .. "typed.bpf.o")); assert(t:load())
      local e = assert(bpf.open(arg[1] .. "events.bpf.o")); assert(e:load())
      local junk = {nil, 0, -1, math.maxinteger, 0/0, "", "\0\1", {}, o, o.maps.small,
                    t.maps.counts, print, true}
      local iters = {pairs(o.vars), pairs(o.maps.small), t.maps.percpu_hits:pairs(),
                     pairs(t.maps.queue), pairs(t.maps.outer), pairs(e.maps.events)}
      local calls = 0
      for _, it in ipairs(iters) do
        for i = 1, #junk + 1 do
          for j = 1, #junk + 1 do
            pcall(it, junk[i], junk[j]); calls = calls + 1
          end
        end
      end
      print("calls", calls)
    ]])
    assert.equal(0, rc, out)
    assert.matches("calls\t%d+", out)
  end)
end)

describe("m:clear()", function()
  -- item 14 (fuzz F4) and the misuse fuzzer's seed 50
  it("ends on a perf event array and a map-in-map array", function()
    local out, rc = child([[
      local e = assert(bpf.open(arg[1] .. "events.bpf.o")); assert(e:load())
      local t = assert(bpf.open(arg[1] .. "typed.bpf.o")); assert(t:load())
      print("samples", e.maps.samples:clear())
      local inner = assert(bpf.map_create{type = "array", key_size = 4, value_size = 4,
                                          max_entries = 1})
      t.maps.outer[1] = inner
      print("outer", t.maps.outer:clear())
      print("outer after", t.maps.outer[1])
    ]], nil, 20)
    assert.equal(0, rc, out)
    assert.matches("samples\t0", out, 1, true)
    assert.matches("outer\t1", out, 1, true)
    assert.matches("outer after\tnil", out, 1, true)
  end)

  it("refuses a ring buffer by name", function()
    local out, rc = child([[
      local e = assert(bpf.open(arg[1] .. "events.bpf.o")); assert(e:load())
      print(pcall(e.maps.events.clear, e.maps.events))
    ]], nil, 20)
    assert.equal(0, rc, out)
    assert.matches("false\tlibbpf.map: clear: map 'events' of type ringbuf cannot be cleared",
                   out, 1, true)
  end)
end)

describe("a global-data map", function()
  -- item 15 (fuzz F6) and item 14: libbpf 1.1 keeps their image at the ELF's
  -- size, munmaps value_size x max_entries at close and copies value_size
  -- bytes at load
  it("refuses a new size before load", function()
    local out, rc = child([[
      local o = assert(bpf.open(arg[1] .. "harden_maps.bpf.o"))
      local bss, data = o.maps["harden_m.bss"], o.maps["harden_m.data"]
      print(pcall(bss.set_value_size, bss, 4096 * 4))
      print(pcall(data.set_max_entries, data, 64))
      print(pcall(o.maps[".data.custom"].set_value_size, o.maps[".data.custom"], 4096))
      assert(bss:set_value_size(8))                -- the same size is no change
      assert(data:set_initial_value(string.pack("<i4", 42)))
      assert(o:load())
      print("level", o.vars.level, "hits", o.vars.hits)
      o:close()
      local ok, err = pcall(function()             -- memory after the image still mapped
        local big = {} for i = 1, 1000 do big[i] = ("y"):rep(4096) end
      end)
      print("after close", ok)
    ]])
    assert.equal(0, rc, out)
    local _, n = out:gsub("false\tlibbpf%.map: set_%a+_%a+: map '[%w_.]+' holds global " ..
                          "variables; its size %(value_size %d+, max_entries 1%) cannot change", "")
    assert.equal(3, n, out)
    assert.matches("level\t42\thits\t0", out, 1, true)
    assert.matches("after close\ttrue", out, 1, true)
  end)

  -- item 15 (and the misuse fuzzer's seed 79, freeze of .data.custom then a
  -- ring buffer): a frozen map refuses a writable mapping
  -- libbpf 1.5 (unlike 1.1) maps the globals writable itself at load, and
  -- the kernel freezes no map with a writable mapping: there freeze fails
  -- (EBUSY) and the globals stay writable.
  local maps_at_load = not bpf.libbpf_version:match("^1%.1%.")
  it("frozen after load reads through obj.vars and refuses writes", function()
    local out, rc = child([[
      local o = assert(bpf.open(arg[1] .. "harden_maps.bpf.o")); assert(o:load())
      print("freeze", o.maps["harden_m.bss"]:freeze())
      print("freeze", o.maps[".data.custom"]:freeze())
      print("hits", o.vars.hits, "note", (o.vars.note:gsub("%z", "")), "level", o.vars.level)
      print(pcall(function() o.vars.hits = 5 end))
      o.vars.level = 9                             -- .data is not frozen
      assert(o.maps["harden_m.data"]:lookup(0, {raw = true}) == string.pack("<i4", 9))
      local e = assert(bpf.open(arg[1] .. "events.bpf.o")); assert(e:load())
      local rb = assert(bpf.ringbuf(e.maps.events, function() end))
      o:close()                                    -- must unmap only its own memory
      assert(e.progs.emit:test_run{ctx = string.pack("I4I4I4I4", 3, 0, 0, 0)})
      print("polled", rb:poll(0))
      e:close()
    ]])
    assert.equal(0, rc, out)
    assert.matches("hits\t0\tnote\tnote\tlevel\t3", out, 1, true)
    if maps_at_load then
      for _, name in ipairs{"harden_m.bss", ".data.custom"} do
        assert.matches("freeze\tnil\tfreeze of map '" .. name .. "' failed: Device or resource busy\t16",
                       out, 1, true)
      end
      assert.matches("\ntrue\n", out, 1, true)       -- hits = 5: not frozen, writable
    else
      assert.matches("freeze\ttrue\nfreeze\ttrue\n", out, 1, true)
      assert.matches("libbpf.vars: 'hits' is read-only (its map harden_m.bss is frozen)",
                     out, 1, true)
    end
    assert.matches("polled\t3", out, 1, true)
  end)
end)

describe("m:unpin(path)", function()
  -- item 15: only a pin on bpffs, never through a symlink
  local function scratch_file()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    return path
  end

  it("refuses a file that is not on bpffs", function()
    local obj <close> = loaded()
    local file = scratch_file()
    local s <close> = assert(bpf.map_create{type = "array", key_size = 4, value_size = 4,
                                            max_entries = 1, name = "solo"})
    for _, m in ipairs{s, obj.maps.small} do
      local ok, err = m:unpin(file)
      assert.is_nil(ok)
      assert.matches("at '" .. file .. "' refused: not on a BPF filesystem", err, 1, true)
      assert.is_true(H.exists(file))
    end
  end)

  it("refuses symlinks, in the name or on the way, and removes a real pin", function()
    local obj <close> = loaded()
    local dir = bpffs_dir()
    local s <close> = assert(bpf.map_create{type = "array", key_size = 4, value_size = 4,
                                            max_entries = 1, name = "solo"})
    assert(os.execute(("mkdir %s/real && ln -s real %s/via && ln -s real/pin %s/link")
      :format(dir, dir, dir)))
    assert(s:pin(dir .. "/real/pin"))
    local ok, err = s:unpin(dir .. "/link")
    assert.is_nil(ok)
    assert.matches("refused: a symlink, not a pin", err, 1, true)
    ok, err = s:unpin(dir .. "/via/pin")
    assert.is_nil(ok)
    assert.matches("refused: a directory on its path is a symlink", err, 1, true)
    ok, err = s:unpin(dir .. "/real")
    assert.is_nil(ok)
    assert.matches("refused: not a pin", err, 1, true)
    assert.is_true(H.exists(dir .. "/real/pin"))
    assert.is_true(s:unpin(dir .. "/real/pin"))
    assert.is_false(H.exists(dir .. "/real/pin"))
    -- an object's map: unpinned, then pinned again
    local m = obj.maps.small
    assert(m:pin(dir .. "/small"))
    assert.is_nil((m:unpin(dir .. "/link")))
    assert.is_true(m:unpin())
    assert.is_false(H.exists(dir .. "/small"))
    assert(m:pin(dir .. "/small"))
    assert.is_true(H.exists(dir .. "/small"))
    assert.is_true(m:unpin(dir .. "/small"))
  end)
end)
