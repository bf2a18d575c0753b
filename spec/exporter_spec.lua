-- spec/exporter_spec.lua: examples/exporter.lua as a process of its own on a
-- loopback port (make test runs the specs in their own network namespace):
-- execs show in its /metrics by comm, the run-queue histogram has its
-- buckets, promtool accepts the text, a real Prometheus server scrapes it,
-- SIGHUP adds metrics without re-attaching unchanged programs and SIGTERM
-- detaches everything.
local bpf = require "libbpf"
local H = require "helpers"
local http = require "socket.http"
local ltn12 = require "ltn12"
local json = require "dkjson"

local CWD = os.getenv("PWD")

local function get(url, headers)
  local chunks = {}
  local ok, code, resp_headers = http.request{url = url, sink = ltn12.sink.table(chunks),
                                             headers = headers}
  if not ok then return nil, code end
  return table.concat(chunks), code, resp_headers
end

local function samples(body)
  local t = {}
  for line in body:gmatch("[^\n]+") do
    if line:sub(1, 1) ~= "#" then
      local k, v = line:match("^(%S+) (%S+)$")
      if k then t[k] = tonumber(v) end
    end
  end
  return t
end

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d))
  return d
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- Command names unique to this run: exec tracepoints see every namespace,
-- so two suites running at once must not count each other's execs.
local RUN = ("%06d"):format(math.random(0, 999999))
local EXEC, LOST, PROM = "lx" .. RUN .. "e", "lx" .. RUN .. "l", "lx" .. RUN .. "p"

-- a copy of /bin/true named `comm`: its execs are ours alone
local function exec_binary(dir, comm)
  local path = dir .. "/" .. comm
  assert(os.execute(("cp /bin/true %s"):format(path)))
  return path
end

-- start the exporter on `port` with the config files; returns the spawn handle
local function start(port, ...)
  local cmd = ("cd %s && exec lua5.4 examples/exporter.lua --listen 127.0.0.1:%d %s"):format(
    CWD, port, table.concat({...}, " "))
  local h = H.spawn(cmd)
  h:wait_output("listening on 127.0.0.1:" .. port, 30)
  return h
end

local function metrics_of(port)
  local body, code = get(("http://127.0.0.1:%d/metrics"):format(port))
  assert(body, code)
  assert.are.equal(200, code)
  return body
end

-- {program name = {id=, link_id=}} from the exporter's program_info metric
local function programs(body)
  local t = {}
  for obj, prog, id, link in body:gmatch(
      'ebpf_exporter_ebpf_program_info{object="([^"]*)",program="([^"]*)",id="(%d+)",link_id="(%d+)"}') do
    t[prog] = {object = obj, id = tonumber(id), link_id = tonumber(link)}
  end
  return t
end

-- end a spawned process (if still running) and remove its files
local function stop(h, secs)
  if not h then return end
  pcall(h.signal, h, "TERM")
  pcall(h.finish, h, secs or 10)
  h:cleanup()
end

local function kernel_ids()
  local links, progs = {}, {}
  for _, l in ipairs(assert(bpf.links())) do links[l.id] = l end
  for _, p in ipairs(assert(bpf.progs())) do progs[p.id] = p end
  return links, progs
end

describe("examples/exporter.lua", function()
  it("serves execs by comm and run-queue histogram buckets over HTTP; promtool accepts them", function()
    local dir = tmpdir()
    local h
    finally(function()
      stop(h)
      os.execute("rm -rf " .. dir)
    end)
    h = start(19501, "examples/exporter/execs.lua", "examples/exporter/runqlat.lua")
    local exe = exec_binary(dir, EXEC)
    H.run(exe, 4)
    local key = 'ebpf_exporter_exec_total{comm="' .. EXEC .. '"}'
    local ev_key = 'ebpf_exporter_exec_events_total{comm="' .. EXEC .. '"}'
    local body = H.wait_until(function()
      local b = metrics_of(19501)
      local s = samples(b)
      return s[key] == 4 and s[ev_key] == 4 and b
    end, 10, "4 execs of " .. EXEC .. " in /metrics (map and ring buffer)", function() return metrics_of(19501) end)
    local s = samples(body)
    -- the histogram: every bucket cumulative, +Inf equal to the count
    local count = s.ebpf_exporter_run_queue_latency_seconds_count
    assert.is_true(count > 0)
    assert.are.equal(count, s['ebpf_exporter_run_queue_latency_seconds_bucket{le="+Inf"}'])
    local buckets, prev = 0, 0
    for le, c in body:gmatch('ebpf_exporter_run_queue_latency_seconds_bucket{le="([%d.e+-]+)"} (%d+)') do
      assert.is_true(tonumber(c) >= prev, "bucket le=" .. le .. " below the one before")
      prev = tonumber(c)
      buckets = buckets + 1
    end
    assert.are.equal(25, buckets)   -- 26 slots, the last one only in +Inf
    assert.truthy(body:find("# TYPE ebpf_exporter_run_queue_latency_seconds histogram\n", 1, true))
    assert.are.equal(0, s['ebpf_exporter_ringbuf_lost_samples_total{ringbuf="execs.exec_events"}'])
    write(dir .. "/m.txt", body)
    local p = io.popen("promtool check metrics < " .. dir .. "/m.txt 2>&1; echo rc=$?")
    local out = p:read("a")
    p:close()
    assert.are.equal("rc=0\n", out)
    -- OpenMetrics when the scraper asks for it
    local om, _, hdrs = get("http://127.0.0.1:19501/metrics",
      {accept = "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5"})
    assert.matches("^application/openmetrics%-text", hdrs["content-type"])
    assert.truthy(om:find("# TYPE ebpf_exporter_exec counter\n", 1, true))
    assert.are.equal("# EOF\n", om:sub(-6))
    h:signal("TERM")
    assert.are.equal(0, h:finish(10))
    h = nil
  end)

  it("counts ring buffer records the kernel had no room for as lost samples", function()
    local dir = tmpdir()
    local h
    finally(function()
      if h then pcall(h.signal, h, "CONT") end
      stop(h)
      os.execute("rm -rf " .. dir)
    end)
    h = start(19505, "examples/exporter/execs.lua")
    local exe = exec_binary(dir, LOST)
    -- the exporter stopped: nobody consumes the 64 KiB ring (2048 records)
    h:signal("STOP")
    assert(os.execute(("for i in $(seq 2500); do %s; done"):format(exe)))
    h:signal("CONT")
    local s = H.wait_until(function()
      local t = samples(metrics_of(19505))
      return t['ebpf_exporter_exec_total{comm="' .. LOST .. '"}'] == 2500 and t
    end, 20, "2500 execs of " .. LOST .. " in /metrics")
    local lost = s['ebpf_exporter_ringbuf_lost_samples_total{ringbuf="execs.exec_events"}']
    local seen = s['ebpf_exporter_exec_events_total{comm="' .. LOST .. '"}'] or 0
    assert.is_true(lost >= 2500 - seen and seen < 2500,
      ("lost %s, seen %s of 2500"):format(tostring(lost), tostring(seen)))
  end)

  it("is scraped by a real Prometheus server whose API finds the exec counter growing", function()
    local dir = tmpdir()
    local h, prom
    finally(function()
      stop(prom, 20)
      stop(h)
      os.execute("rm -rf " .. dir)
    end)
    h = start(19502, "examples/exporter/execs.lua")
    local exe = exec_binary(dir, PROM)
    H.run(exe, 2)
    write(dir .. "/prometheus.yml", [[
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ebpf
    static_configs:
      - targets: ['127.0.0.1:19502']
]])
    prom = H.spawn(("exec prometheus --config.file=%s/prometheus.yml --storage.tsdb.path=%s/data " ..
      "--web.listen-address=127.0.0.1:19592 --log.level=warn"):format(dir, dir))
    local query = "http://127.0.0.1:19592/api/v1/query?query=" ..
      ('ebpf_exporter_exec_total{comm="' .. PROM .. '"}'):gsub("[^%w_]", function(c)
        return ("%%%02X"):format(c:byte()) end)
    local function series()
      local body = get(query)
      if not body then return nil end
      local doc = json.decode(body)
      local r = doc and doc.data and doc.data.result
      return r and r[1]
    end
    local first = H.wait_until(function()
      local r = series()
      return r and tonumber(r.value[2]) >= 2 and r
    end, 60, "Prometheus to have scraped the exec counter", function() return prom.output() end)
    assert.are.equal("ebpf_exporter_exec_total", first.metric.__name__)
    assert.are.equal(PROM, first.metric.comm)
    assert.are.equal("ebpf", first.metric.job)
    assert.are.equal("127.0.0.1:19502", first.metric.instance)
    H.run(exe, 3)
    local grown = H.wait_until(function()
      local r = series()
      return r and tonumber(r.value[2]) >= 5 and r
    end, 30, "the exec counter to grow in Prometheus", function() return prom.output() end)
    assert.are.equal(5, tonumber(grown.value[2]))
  end)

  it("reloads on SIGHUP: a new object and metric, the unchanged program keeps its link", function()
    local dir = tmpdir()
    local h
    finally(function()
      stop(h)
      os.execute("rm -rf " .. dir)
    end)
    local execs = ([[
return { objects = { execs = {
  file = %q,
  metrics = { counters = { { name = "exec_total", map = "exec_counts",
    labels = { { name = "comm", field = "comm", decode = "string" } } } }%s },
} %s } }
]])
    local runqlat = (', runqlat = { file = %q, metrics = { histograms = { { name = "rq_seconds", ' ..
      'map = "hists", slots = "slots", bucket_multiplier = 1e-6 } } } }'):format(CWD .. "/examples/runqlat.bpf.o")
    local gauge = ', gauges = { { name = "ringbuf_drops", map = "ringbuf_drops", labels = { "slot" } } }'
    local conf = dir .. "/conf.lua"
    write(conf, execs:format(CWD .. "/examples/execcount.bpf.o", "", ""))
    h = start(19503, conf)
    local before = programs(metrics_of(19503))
    assert.truthy(before.count_exec, "count_exec in program_info")
    assert.is_nil(before.sched_switch)
    local links = kernel_ids()
    assert.truthy(links[before.count_exec.link_id], "the link of count_exec in bpf.links()")

    write(conf, execs:format(CWD .. "/examples/execcount.bpf.o", gauge, runqlat))
    h:signal("HUP")
    h:wait_output("reloaded: 1 kept, 1 loaded, 0 closed", 20)
    local body = metrics_of(19503)
    local after = programs(body)
    assert.truthy(after.sched_switch, "runqlat's programs attached")
    assert.are.same(before.count_exec, after.count_exec)
    links = kernel_ids()
    assert.truthy(links[before.count_exec.link_id], "count_exec's link still in the kernel")
    assert.are.equal(before.count_exec.id, links[before.count_exec.link_id].prog_id)
    assert.truthy(body:find('\nebpf_exporter_ringbuf_drops{slot="0"} 0\n', 1, true))
    assert.truthy(body:find("\nebpf_exporter_rq_seconds_count ", 1, true))

    -- a changed object (another global value) is reloaded: new programs, new links
    local changed = execs:format(CWD .. "/examples/execcount.bpf.o", "", "")
      :gsub("file = ", "programs = { 'count_exec' }, file = ")
    write(conf, changed)
    h:signal("HUP")
    h:wait_output("reloaded: 0 kept, 1 loaded, 2 closed", 20)
    local third = programs(metrics_of(19503))
    assert.is_nil(third.sched_switch)
    assert.are_not.equal(before.count_exec.link_id, third.count_exec.link_id)
    links = kernel_ids()
    assert.is_nil(links[before.count_exec.link_id], "the old link is gone")
    assert.is_nil(links[after.sched_switch.link_id], "runqlat's links are gone")

    -- a config that does not load changes nothing
    write(conf, "return {objects = {x = {file = '/nonexistent.bpf.o'}}}")
    h:signal("HUP")
    h:wait_output("reload failed", 20)
    assert.are.same(third, programs(metrics_of(19503)))
  end)

  it("detaches everything and exits 0 on SIGTERM, and on SIGINT", function()
    for _, sig in ipairs({"TERM", "INT"}) do
      local h = start(19504, "examples/exporter/execs.lua", "examples/exporter/runqlat.lua",
                      "examples/exporter/biolatency.lua")
      finally(function() h:cleanup() end)
      local progs = programs(metrics_of(19504))
      local links, kprogs = kernel_ids()
      local n = 0
      for name, p in pairs(progs) do
        assert.truthy(links[p.link_id], name .. "'s link")
        assert.truthy(kprogs[p.id], name .. "'s program")
        n = n + 1
      end
      assert.is_true(n >= 6, "the three configs' programs")
      h:signal(sig)
      assert.are.equal(0, h:finish(20))
      assert.truthy(h.output():find("SIG" .. sig .. ": detaching", 1, true))
      -- the kernel may free a program from a work queue: give it a moment
      local left
      H.wait_until(function()
        links, kprogs = kernel_ids()
        left = nil
        for name, p in pairs(progs) do
          if links[p.link_id] then left = name .. "'s link" end
          if kprogs[p.id] then left = name .. "'s program" end
        end
        return not left
      end, 10, "every link and program of the exporter to go after SIG" .. sig, function() return left end)
      assert.is_nil(get("http://127.0.0.1:19504/metrics"))
    end
  end)
end)
