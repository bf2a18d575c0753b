-- spec/metrics_spec.lua: libbpf.metrics renders real maps (a per-CPU hash
-- filled by a real tracepoint, histograms in the three layouts, standalone
-- maps) in the Prometheus and OpenMetrics text formats, decodes labels,
-- bounds cardinality and counts its own errors; promtool accepts the text.
local bpf = require "libbpf"
local metrics = require "libbpf.metrics"
local H = require "helpers"

-- the samples of a rendered body: {["name{labels}"] = value}
local function samples(body)
  local t = {}
  for line in body:gmatch("[^\n]+") do
    if line:sub(1, 1) ~= "#" then
      local k, v = line:match("^(%S+) (%S+)$")
      assert(k, "bad sample line: " .. line)
      t[k] = tonumber(v) or v
    end
  end
  return t
end

local function promtool_check(body)
  local path = H.tmpfile(body)
  local p = io.popen("promtool check metrics < " .. path .. " 2>&1; echo rc=$?")
  local out = p:read("a")
  p:close()
  os.remove(path)
  return out
end

local function hash(n, vsize, ksize)
  return assert(bpf.map_create{type = "hash", key_size = ksize or 4, value_size = vsize or 8,
                               max_entries = n or 64})
end

describe("libbpf.metrics", function()
  it("counts execs by comm from a per-CPU hash with a struct key, summed over CPUs", function()
    local dir = os.tmpname()
    os.remove(dir)
    local obj = assert(bpf.open("examples/execcount.bpf.o"))
    finally(function() obj:close() os.execute("rm -rf " .. dir) end)
    assert(obj:load())
    assert(obj:attach())
    -- a binary of our own, so that no other exec on the machine has its comm
    -- (named per run: another suite may be running the same spec right now)
    local comm = ("lm%06de"):format(math.random(0, 999999))
    assert(os.execute("mkdir -p " .. dir .. " && cp /bin/true " .. dir .. "/" .. comm))
    -- three on CPU 0, two on the last CPU: a reader of one CPU's value sees 3 or 2
    local last = bpf.num_possible_cpus() - 1
    for _ = 1, 3 do assert(os.execute("taskset -c 0 " .. dir .. "/" .. comm)) end
    for _ = 1, 2 do assert(os.execute(("taskset -c %d %s/%s"):format(last, dir, comm))) end
    local reg = metrics.new{prefix = "t_"}
    reg:counter{name = "exec_total", help = "execs", map = obj.maps.exec_counts,
                labels = {{name = "comm", field = "comm", decode = "string"}}}
    local body, ctype = reg:render()
    assert.are.equal(metrics.PROMETHEUS, ctype)
    assert.are.equal(5, samples(body)['t_exec_total{comm="' .. comm .. '"}'])
    assert.truthy(body:find("# TYPE t_exec_total counter\n", 1, true))
    assert.truthy(body:find("# HELP t_exec_total execs\n", 1, true))
    assert.matches("rc=0", promtool_check(body))
  end)

  it("renders histograms from a slot-keyed map: cumulative _bucket{le=}, +Inf, _sum, _count", function()
    local m = hash()
    m[0], m[1], m[3] = 2, 3, 1
    local reg = metrics.new()
    reg:histogram{name = "lat", map = m, buckets = 5}
    local body = reg:render()
    local s = samples(body)
    assert.are.same({2, 5, 5, 6, 6, 6},
      {s['lat_bucket{le="2"}'], s['lat_bucket{le="4"}'], s['lat_bucket{le="8"}'],
       s['lat_bucket{le="16"}'], s['lat_bucket{le="32"}'], s['lat_bucket{le="+Inf"}']})
    assert.are.equal(6, s.lat_count)
    assert.are.equal(0 * 2 + 2 * 3 + 8 * 1, s.lat_sum)   -- each count at its slot's low end
    assert.is_nil(s['lat_bucket{le="64"}'])
    assert.truthy(body:find("# TYPE lat histogram\n", 1, true))
    assert.matches("rc=0", promtool_check(body))
  end)

  it("renders linear histograms scaled by bucket_multiplier, overflow slot only in +Inf", function()
    local m = hash()
    m[0], m[2], m[3] = 1, 4, 7
    local reg = metrics.new()
    reg:histogram{name = "size", map = m, bucket_type = "linear", bucket_min = 10, bucket_step = 5,
                  bucket_multiplier = 0.5, buckets = 4, overflow = true}
    local s = samples(reg:render())
    assert.are.equal(1, s['size_bucket{le="7.5"}'])     -- (10 + 1 * 5) * 0.5
    assert.are.equal(1, s['size_bucket{le="10"}'])
    assert.are.equal(5, s['size_bucket{le="12.5"}'])
    assert.is_nil(s['size_bucket{le="15"}'])           -- the overflow slot
    assert.are.equal(12, s['size_bucket{le="+Inf"}'])
  end)

  it("renders a histogram per key from libbpf-tools' struct hist {slots[]} (runqlat, real events)", function()
    local obj = assert(bpf.open("examples/runqlat.bpf.o"))
    finally(function() obj:close() end)
    assert(obj:load())
    assert(obj:attach())
    H.run("sleep 0.01", 5)
    local reg = metrics.new()
    reg:histogram{name = "rq_seconds", map = obj.maps.hists, slots = "slots", bucket_multiplier = 1e-6,
                  labels = {{name = "comm", decode = function() return "all" end}}}
    local s = samples(reg:render())
    local count = s['rq_seconds_count{comm="all"}']
    assert.is_true(count > 0)
    assert.are.equal(count, s['rq_seconds_bucket{comm="all",le="+Inf"}'])
    local prev = 0
    for i = 0, 25 do
      local c = s[('rq_seconds_bucket{comm="all",le="%s"}'):format(metrics.number((1 << (i + 1)) * 1e-6))]
      assert(c, "bucket " .. i)
      assert.is_true(c >= prev)
      prev = c
    end
  end)

  it("renders histograms whose struct key holds the bucket (ebpf_exporter's layout)", function()
    -- key {u32 dev; u32 bucket}: a standalone map has no BTF, so a view
    -- unpacks its keys into lists; field 2 is the bucket, field 1 the label
    local m = hash(64, 8, 8)
    local function key(label, bucket) return label | bucket << 32 end
    m[key(7, 0)], m[key(7, 2)], m[key(9, 1)] = 1, 2, 5
    local view = {type = "hash"}
    function view.dump()
      local t = {}
      for k, v in pairs(assert(m:dump())) do t[{k & 0xffffffff, k >> 32}] = v end
      return t
    end
    local reg = metrics.new()
    reg:histogram{name = "h", map = view, buckets = 3, bucket = 2, labels = {{name = "dev", field = 1}}}
    local s = samples(reg:render())
    assert.are.same({1, 1, 3, 3}, {s['h_bucket{dev="7",le="2"}'], s['h_bucket{dev="7",le="4"}'],
      s['h_bucket{dev="7",le="8"}'], s['h_bucket{dev="7",le="+Inf"}']})
    assert.are.same({0, 5, 5}, {s['h_bucket{dev="9",le="2"}'], s['h_bucket{dev="9",le="4"}'],
      s['h_count{dev="9"}']})
  end)

  it("escapes label values and help text; OpenMetrics names families without _total and ends in # EOF", function()
    local m = hash()
    m[1] = 42
    local reg = metrics.new()
    reg:counter{name = "odd_total", help = 'a \\ b\nc "d"', map = m,
                labels = {{name = "v", decode = {[1] = 'x"y\\z\nw'}}}}
    local body = reg:render()
    assert.truthy(body:find('odd_total{v="x\\"y\\\\z\\nw"} 42\n', 1, true))
    assert.truthy(body:find('# HELP odd_total a \\\\ b\\nc "d"\n', 1, true))
    assert.matches("rc=0", promtool_check(body))
    local om, ctype = reg:render(metrics.format_for("application/openmetrics-text; version=1.0.0"))
    assert.are.equal(metrics.OPENMETRICS, ctype)
    assert.truthy(om:find("# TYPE odd counter\n", 1, true))
    assert.truthy(om:find('# HELP odd a \\\\ b\\nc \\"d\\"\n', 1, true))
    assert.truthy(om:find('odd_total{v="x\\"y\\\\z\\nw"} 42\n', 1, true))
    assert.are.equal("# EOF\n", om:sub(-6))
    assert.are.equal("prometheus", metrics.format_for("text/plain;version=0.0.4"))
    assert.are.equal("prometheus", metrics.format_for(nil))
  end)

  it("decodes labels: inet_ip, errno, ksym, cgroup, dev, string, hex", function()
    local d = metrics.decoders
    assert.are.equal("127.0.0.1", d.inet_ip(0x0100007f))           -- as loaded from a __be32
    assert.are.equal("10.1.2.3", d.inet_ip("\10\1\2\3"))
    assert.are.equal("2001:db8::1", d.inet_ip("\32\1\13\184" .. ("\0"):rep(11) .. "\1"))
    assert.are.equal("::ffff:192.168.0.1", d.inet_ip(("\0"):rep(10) .. "\255\255\192\168\0\1"))
    assert.are.equal("EACCES", d.errno(-13))
    assert.are.equal("ENOENT", d.errno(2))
    assert.are.equal("comm", d.string("comm\0\0junk"))
    assert.are.equal("0xff", d.hex(255))
    local syms = require "libbpf.syms"
    local addr = assert(syms.ksym_addr("do_nanosleep"))
    assert.are.equal("do_nanosleep", d.ksym(addr + 4))
    -- a cgroup's id is its directory's inode number
    local cg = H.make_cgroup("metrics")
    finally(function() H.remove_cgroup(cg) end)
    local p = io.popen("stat -c %i " .. cg)
    local ino = tonumber(p:read("l"))
    p:close()
    assert.are.equal(cg:sub(#H.cgroup2_root() + 1), d.cgroup(ino))
    -- a block device from /sys/dev/block, encoded as the kernel's dev_t
    p = io.popen("ls /sys/dev/block | head -1")
    local majmin = p:read("l")
    p:close()
    if majmin then
      local maj, min = majmin:match("(%d+):(%d+)")
      local want = H.slurp("/sys/dev/block/" .. majmin .. "/uevent"):match("DEVNAME=(%S+)")
      assert.are.equal(want, d.dev(tonumber(maj) << 20 | tonumber(min)))
    end
  end)

  it("keeps at most max_series series per metric and counts the dropped ones", function()
    local m = hash()
    for i = 1, 20 do m[i] = i end
    local reg = metrics.new{prefix = "p_"}
    reg:gauge{name = "g", map = m, labels = {"k"}, max_series = 5}
    local body = reg:render()
    local n = 0
    for _ in body:gmatch("\np_g{") do n = n + 1 end
    assert.are.equal(5, n)
    assert.are.equal(15, samples(body)['p_series_dropped_total{metric="g"}'])
    assert.are.equal(30, samples(reg:render())['p_series_dropped_total{metric="g"}'])
  end)

  it("counts map read errors and decode errors, and reports the scrape's duration", function()
    local obj = assert(bpf.open("examples/execcount.bpf.o"))
    finally(function() obj:close() end)
    assert(obj:load())
    local m = hash()
    m[1], m[2] = 1, 2
    local reg = metrics.new()
    -- a ring buffer map cannot be read as key/value pairs: the kernel says no
    reg:gauge{name = "rb", map = obj.maps.exec_events}
    reg:gauge{name = "g", map = m, labels = {{name = "k", decode = {[1] = "one"}}}}   -- 2: no label
    local s = samples(reg:render())
    assert.are.equal(1, s['map_read_errors_total{metric="rb"}'])
    assert.are.equal(1, s['decode_errors_total{metric="g"}'])
    assert.are.equal(1, s['g{k="one"}'])
    assert.is_true(s.scrape_duration_seconds >= 0)
    reg:lost("events", 3)
    assert.are.equal(3, samples(reg:render())['ringbuf_lost_samples_total{ringbuf="events"}'])
  end)

  it("reads a map larger than batch_max by iteration, yielding between steps, to the same text", function()
    local m = hash(2000)
    for i = 1, 1500 do m[i] = i * 3 end
    local reg = metrics.new{batch_max = 1000}
    reg:gauge{name = "g", map = m, labels = {"k"}}
    local yields = 0
    local with_yield = samples(reg:render("prometheus", function() yields = yields + 1 end))
    local batch = samples(reg:render())
    assert.are.equal(1500 * 3, with_yield['g{k="1500"}'])
    with_yield.scrape_duration_seconds, batch.scrape_duration_seconds = nil, nil
    assert.are.same(batch, with_yield)
    -- 1500 elements read in steps of 128, and a yield every 200 series rendered
    assert.is_true(yields >= 1500 // 128 + 1500 // 200, "only " .. yields .. " yields")
  end)

  it("rejects bad metric and label names", function()
    local reg = metrics.new()
    assert.has_error(function() reg:counter{name = "bad-name", map = hash()} end)
    assert.has_error(function() reg:counter{name = "ok", map = hash(), labels = {"1x"}} end)
    assert.has_error(function() reg:counter{name = "nomap"} end)
  end)
end)
