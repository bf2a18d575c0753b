#!/usr/bin/env lua5.4
--- exporter: BPF maps as Prometheus metrics over HTTP, like Cloudflare's
-- ebpf_exporter.
--
--     lua5.4 examples/exporter.lua --listen 127.0.0.1:9435 examples/exporter/execs.lua ...
--
-- Each config file (Lua, returning a table) names BPF objects, the
-- globals to set before load, and the metrics their maps become (see
-- `examples/exporter/*.lua` and `libbpf.metrics`). One cqueues loop runs
-- everything, with no thread and no busy loop: lua-http serves `/metrics`,
-- each ring buffer's epoll fd is one more pollable of the loop (its records
-- counted into a metric), and signals come through a signalfd. SIGHUP
-- re-reads the configs: an object whose file, globals and programs did not
-- change keeps its programs attached (same links), only its metric
-- definitions are replaced; new objects are loaded, gone ones closed.
-- SIGINT and SIGTERM detach everything and exit 0.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
  -- Debian's lua-http and some of its pure-Lua dependencies are installed
  -- for Lua 5.1 to 5.3 only; they run unchanged on 5.4
  .. ";/usr/share/lua/5.3/?.lua;/usr/share/lua/5.3/?/init.lua"
  .. ";/usr/share/lua/5.2/?.lua;/usr/share/lua/5.2/?/init.lua"
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local metrics = require "libbpf.metrics"
local cqueues = require "cqueues"
local signal = require "cqueues.signal"
local http_server = require "http.server"
local http_headers = require "http.headers"

local function log(fmt, ...)
  io.stdout:write(os.date("!%H:%M:%S "), fmt:format(...), "\n")
  io.stdout:flush()
end

-- ---------------------------------------------------------------------------
-- command line

local function usage(code)
  io.stderr:write("usage: exporter.lua [--listen HOST:PORT] [--prefix P] [--max-series N] CONFIG.lua...\n",
    "  serves the metrics the configs define on http://HOST:PORT/metrics (default 127.0.0.1:9435)\n")
  os.exit(code)
end

local opts = {listen = "127.0.0.1:9435", prefix = "ebpf_exporter_", configs = {}}
do
  local i = 1
  while i <= #arg do
    local a = arg[i]
    if a == "--listen" or a == "--prefix" or a == "--max-series" then
      if not arg[i + 1] then usage(2) end
      opts[a:sub(3):gsub("-", "_")] = arg[i + 1]
      i = i + 2
    elseif a == "-h" or a == "--help" then
      usage(0)
    elseif a:sub(1, 1) == "-" then
      usage(2)
    else
      opts.configs[#opts.configs + 1] = a
      i = i + 1
    end
  end
  if #opts.configs == 0 then usage(2) end
end
local host, port = opts.listen:match("^(.*):(%d+)$")
if not host then usage(2) end

local reg = metrics.new{prefix = opts.prefix, max_series = tonumber(opts.max_series)}

-- ---------------------------------------------------------------------------
-- configs and objects

-- canonical text of a Lua value: what makes an object "unchanged"
local function canon(v)
  if type(v) ~= "table" then return type(v) .. ":" .. tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local t = {}
  for _, k in ipairs(keys) do t[#t + 1] = canon(k) .. "=" .. canon(v[k]) end
  return "{" .. table.concat(t, ",") .. "}"
end

local function file_id(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  -- the bytes themselves: a rebuilt object is a changed object
  return #s .. ":" .. s
end

local function read_configs()
  local objects = {}
  for _, path in ipairs(opts.configs) do
    local cdir = path:match("^(.*)/[^/]*$") or "."
    local chunk, err = loadfile(path, "t")
    if not chunk then return nil, err end
    local ok, conf = pcall(chunk, cdir)
    if not ok then return nil, path .. ": " .. tostring(conf) end
    if type(conf) ~= "table" or type(conf.objects) ~= "table" then
      return nil, path .. ": must return {objects = {name = {...}}}"
    end
    for name, o in pairs(conf.objects) do
      if objects[name] then return nil, ("object %s defined twice"):format(name) end
      if type(o.file) ~= "string" then return nil, ("object %s: no file"):format(name) end
      local file = o.file:sub(1, 1) == "/" and o.file or cdir .. "/" .. o.file
      local bytes = file_id(file)
      if not bytes then return nil, ("object %s: cannot read %s"):format(name, file) end
      objects[name] = {name = name, conf = o, file = file,
        signature = file .. "\0" .. bytes .. "\0" .. canon(o.vars or {}) .. "\0" .. canon(o.programs or {})}
    end
  end
  return objects
end

local loaded = {}   -- name -> {obj=, links=, rbs=, signature=, ...}

local function close_entry(e)
  for _, r in ipairs(e.rbs or {}) do
    r.closing = true
    cqueues.cancel(r.fd)   -- wakes its poller, which then returns
    r.rb:close()
  end
  if e.obj then e.obj:close() end   -- destroys the links
end

local function load_entry(spec)
  local e = {name = spec.name, signature = spec.signature, rbs = {}, links = {}}
  local o = spec.conf
  local obj, err = bpf.open(spec.file)
  if not obj then return nil, err end
  e.obj = obj
  local ok, perr = pcall(function()
    for k, v in pairs(o.vars or {}) do obj.vars[k] = v end
  end)
  if not ok then close_entry(e) return nil, perr end
  if o.programs then   -- only these programs load and attach
    local want = {}
    for _, p in ipairs(o.programs) do want[p] = true end
    for pname, p in pairs(obj.progs) do p:set_autoload(want[pname] or false) end
  end
  local lok, lerr = obj:load()
  if not lok then close_entry(e) return nil, lerr end
  local links, aerr = obj:attach()
  if not links then close_entry(e) return nil, aerr end
  e.links = links
  return e
end

-- ---------------------------------------------------------------------------
-- ring buffers on the loop

local cq = cqueues.new()

local function ringbuf_counter_labels(def)
  local names = {}
  for i, l in ipairs(def.labels or {}) do names[i] = type(l) == "string" and l or l.name end
  return names
end

-- decode an event's labels as the metric definitions decode map keys
local function event_labels(def, ev)
  local vals = {}
  for i, l in ipairs(def.labels or {}) do
    if type(l) == "string" then l = {name = l, field = l} end
    local raw = ev[l.field or l.name]
    local d = l.decode
    local f = type(d) == "function" and d or (type(d) == "table" and function(v) return d[v] end)
      or metrics.decoders[d or (type(raw) == "string" and "string" or "int")]
    local s = f and f(raw)
    if s == nil then return nil end
    vals[i] = s
  end
  return vals
end

local function start_ringbufs(e)
  for _, rconf in ipairs(e.conf.ringbufs or {}) do
    local map = e.obj.maps[rconf.map]
    if not map then error(("object %s: no ring buffer map %s"):format(e.name, tostring(rconf.map))) end
    local r = {conf = rconf, name = e.name .. "." .. rconf.map}
    local rb = assert(bpf.ringbuf(map, function(ev)
      local h = r.counter   -- set by define_metrics, replaced on each reload
      if h then
        local vals = event_labels(rconf.count, ev)
        if vals then h:inc(vals, 1)
        else reg.decode_errors:inc({rconf.count.name}, 1) end
      end
    end, {type = rconf.type}))
    r.rb, r.fd = rb, rb:epoll_fd()
    local pollable = {pollfd = r.fd, events = "r"}
    e.rbs[#e.rbs + 1] = r
    cq:wrap(function()
      while not r.closing do
        cqueues.poll(pollable)
        if r.closing then break end
        local n, perr = rb:consume()
        if not n then log("ring buffer %s: %s", r.name, tostring(perr)) end
      end
    end)
  end
end

-- ---------------------------------------------------------------------------
-- metric definitions (rebuilt on every reload; the maps are the objects')

local function define_metrics()
  reg:reset()
  local info = reg:custom{name = "ebpf_program_info", type = "gauge",
    help = "Attached programs: config object, program name, program id and link id.",
    labels = {"object", "program", "id", "link_id"}}
  local names = {}
  for name in pairs(loaded) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local e = loaded[name]
    local m = e.conf.metrics or {}
    local function with_map(d)
      local c = {}
      for k, v in pairs(d) do c[k] = v end
      c.map = e.obj.maps[d.map]
      if not c.map then error(("object %s: metric %s: no map %s"):format(name, d.name, tostring(d.map))) end
      return c
    end
    for _, d in ipairs(m.counters or {}) do reg:counter(with_map(d)) end
    for _, d in ipairs(m.gauges or {}) do reg:gauge(with_map(d)) end
    for _, d in ipairs(m.histograms or {}) do reg:histogram(with_map(d)) end
    for _, r in ipairs(e.rbs) do
      local c = r.conf.count
      r.counter = c and reg:custom{name = c.name, help = c.help, type = "counter",
                                  labels = ringbuf_counter_labels(c)} or nil
    end
    for pname, l in pairs(e.links) do
      local li = l:info()
      if li then info:set({name, pname, li.prog_id, li.id}, 1) end
    end
  end
end

-- ring buffer records the kernel could not deliver, from the object's
-- drop counter map (`lost_map`: a map whose values add up to the drops)
local function update_lost()
  for _, e in pairs(loaded) do
    for _, r in ipairs(e.rbs) do
      local lm = r.conf.lost_map and e.obj.maps[r.conf.lost_map]
      if lm then
        local total = 0
        for _, v in pairs(lm:dump() or {}) do
          if type(v) == "table" then for _, c in ipairs(v) do total = total + c end
          else total = total + v end
        end
        reg.lost_samples:set({r.name}, total)
      end
    end
  end
end

-- ---------------------------------------------------------------------------
-- load and reload

local scraping = 0

local function apply(objects)
  -- new objects first: if one fails, nothing changes
  local fresh = {}
  for name, spec in pairs(objects) do
    local old = loaded[name]
    if not old or old.signature ~= spec.signature then
      local e, err = load_entry(spec)
      if not e then
        for _, f in pairs(fresh) do close_entry(f) end
        return nil, ("object %s: %s"):format(name, tostring(err))
      end
      e.conf = spec.conf
      fresh[name] = e
    end
  end
  while scraping > 0 do cqueues.sleep(0.01) end   -- a scrape reads the old maps
  local kept, started, stopped = 0, 0, 0
  for name, e in pairs(loaded) do
    if fresh[name] or not objects[name] then
      close_entry(e)
      loaded[name] = nil
      stopped = stopped + 1
    else
      e.conf = objects[name].conf   -- new metric definitions, same programs
      kept = kept + 1
    end
  end
  for name, e in pairs(fresh) do
    loaded[name] = e
    start_ringbufs(e)
    started = started + 1
  end
  define_metrics()
  return kept, started, stopped
end

local function reload()
  local objects, err = read_configs()
  if not objects then return nil, err end
  local ok, kept, started, stopped = pcall(apply, objects)
  if not ok then return nil, kept end
  if not kept then return nil, started end
  return ("%d kept, %d loaded, %d closed"):format(kept, started, stopped)
end

-- ---------------------------------------------------------------------------
-- HTTP

local function respond(stream, status, ctype, body)
  local h = http_headers.new()
  h:append(":status", status)
  h:append("content-type", ctype)
  h:append("content-length", tostring(#body))
  stream:write_headers(h, false)
  stream:write_chunk(body, true)
end

local function onstream(_, stream)
  local req = stream:get_headers()
  if not req then return end
  local path = (req:get(":path") or "/"):match("^[^?]*")
  if path == "/metrics" then
    scraping = scraping + 1
    local ok, body, ctype = pcall(function()
      update_lost()
      -- yield to the loop every few hundred series: ring buffers keep
      -- being consumed during a big scrape
      return reg:render(metrics.format_for(req:get("accept")), function() cqueues.sleep(0) end)
    end)
    scraping = scraping - 1
    if ok then respond(stream, "200", ctype, body)
    else respond(stream, "500", "text/plain", tostring(body) .. "\n") end
  elseif path == "/" then
    respond(stream, "200", "text/html",
      '<html><body><a href="/metrics">metrics</a></body></html>\n')
  else
    respond(stream, "404", "text/plain", "not found\n")
  end
end

-- ---------------------------------------------------------------------------
-- main

signal.block(signal.SIGHUP, signal.SIGINT, signal.SIGTERM)
local first, ferr = reload()
if not first then
  io.stderr:write("exporter: ", tostring(ferr), "\n")
  os.exit(1)
end

local server = assert(http_server.listen{
  host = host, port = tonumber(port), reuseaddr = true, cq = cq, onstream = onstream,
  onerror = function(_, ctx, op, err) log("http %s: %s %s", tostring(op), tostring(err), tostring(ctx)) end,
})
assert(server:listen())
local _, bound_host, bound_port = server:localname()

local function shutdown(why)
  log("%s: detaching", why)
  server:close()
  for name, e in pairs(loaded) do
    close_entry(e)
    loaded[name] = nil
  end
  log("stopped")
  os.exit(0)
end

cq:wrap(function()
  local listener = signal.listen(signal.SIGHUP, signal.SIGINT, signal.SIGTERM)
  while true do
    local sig = listener:wait()
    if sig == signal.SIGHUP then
      local res, err = reload()
      if res then log("reloaded: %s", res) else log("reload failed: %s", tostring(err)) end
    elseif sig == signal.SIGINT or sig == signal.SIGTERM then
      shutdown(sig == signal.SIGINT and "SIGINT" or "SIGTERM")
    end
  end
end)

log("listening on %s:%d (%s)", bound_host, bound_port, first)
while true do
  local ok, err = cq:step()
  if not ok then log("loop: %s", tostring(err)) end
end
