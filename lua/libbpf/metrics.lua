--- BPF maps as Prometheus metrics.
--
-- A registry holds metric definitions, each naming a loaded map: counters
-- and gauges from hash or array maps (one series per key, labels decoded
-- from the key, struct keys decoded by BTF), histograms from bucket maps
-- (the layouts `libbpf.hist` reads). `reg:render()` reads every map once
-- (`map:dump()`, which uses `BPF_MAP_LOOKUP_BATCH` where the map type has
-- it), sums per-CPU values and returns the Prometheus text exposition
-- format, or OpenMetrics text when asked (`metrics.format_for(accept)`).
--
-- Label decoders turn a key field into a label value: `"string"` (a
-- `char[N]` such as a comm, cut at the first NUL), `"uint"`, `"hex"`,
-- `"ksym"` (kernel address to symbol name), `"inet_ip"` (IPv4 or IPv6
-- address from an integer, bytes or a byte list), `"errno"` (`-13` or `13`
-- -> `"EACCES"`), `"cgroup"` (cgroup id -> path below the cgroup2 mount),
-- `"dev"` (the kernel's `major << 20 | minor` -> disk name), a table
-- (value -> label) or a function (value -> string; nil drops the series and
-- counts a decode error).
--
-- The registry also reports on itself (prefixed like the other metrics):
-- `scrape_duration_seconds` (reading and decoding the maps of this scrape),
-- `map_read_errors_total{metric}`, `decode_errors_total{metric}`,
-- `series_dropped_total{metric}` (series beyond a metric's `max_series`:
-- dropped, counted, never kept) and `ringbuf_lost_samples_total{ringbuf}`
-- (fed by `reg:lost`).
--
--     local metrics = require "libbpf.metrics"
--     local reg = metrics.new{prefix = "ebpf_exporter_"}
--     reg:counter{name = "exec_total", help = "execs by command",
--                 map = obj.maps.exec_counts,
--                 labels = {{name = "comm", field = "comm", decode = "string"}}}
--     local body, content_type = reg:render(metrics.format_for(accept_header))
--
-- @module libbpf.metrics
local M = {}

local Registry = {}
Registry.__index = Registry

local now
do
  local ok, cq = pcall(require, "cqueues")
  if ok then now = cq.monotime
  else
    local ok2, socket = pcall(require, "socket")
    now = ok2 and socket.gettime or os.clock
  end
end

--- Content type of the Prometheus text format (version 0.0.4).
-- @usage h:append("content-type", metrics.PROMETHEUS)
M.PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
--- Content type of the OpenMetrics text format (1.0.0).
-- @usage if ctype == metrics.OPENMETRICS then print("openmetrics") end
M.OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"

--- The format a scraper asks for in its `Accept` header.
-- @tparam[opt] string accept the header's value
-- @treturn string `"openmetrics"` when it names `application/openmetrics-text`, else `"prometheus"`
-- @usage local fmt = metrics.format_for(req_headers:get("accept"))
function M.format_for(accept)
  if accept and accept:find("application/openmetrics-text", 1, true) then return "openmetrics" end
  return "prometheus"
end

-- ---------------------------------------------------------------------------
-- text helpers

local function escape_label(s)
  if s:find('[\\"\n]') then
    s = s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n")
  end
  return s
end

local function escape_help(s, om)
  s = s:gsub("\\", "\\\\"):gsub("\n", "\\n")
  if om then s = s:gsub('"', '\\"') end
  return s
end

--- Escape a label value for the exposition formats (`\`, `"`, newline).
-- @tparam string s
-- @treturn string
-- @usage print(metrics.escape('a"b'))   --> a\"b
function M.escape(s) return escape_label(s) end

-- shortest text that reads back as the same number
local function num(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v == math.floor(v) and math.abs(v) < 2^53 then return ("%d"):format(v) end
  for p = 15, 17 do
    local s = ("%." .. p .. "g"):format(v)
    if tonumber(s) == v then return s end
  end
  return ("%.17g"):format(v)
end

--- A number as the exposition formats write it: integers as such, floats in
-- the shortest form that reads back the same, `+Inf`, `-Inf`, `NaN`.
-- @tparam number v
-- @treturn string
-- @usage print(metrics.number(2^-20))   --> 9.5367431640625e-07
function M.number(v) return num(v) end

local function check_name(what, s, pattern)
  if type(s) ~= "string" or not s:match(pattern) then
    error(("bad %s name %s"):format(what, tostring(s)), 3)
  end
end
local METRIC_NAME = "^[%a_:][%w_:]*$"
local LABEL_NAME = "^[%a_][%w_]*$"

-- ---------------------------------------------------------------------------
-- label decoders

local decoders = {}
--- The named label decoders: `name -> function(value) -> string|nil`; add
-- your own to use them by name.
-- @usage metrics.decoders.upper = function(v) return tostring(v):upper() end
-- print(metrics.decoders.errno(-13))   --> EACCES
-- @table decoders
M.decoders = decoders

function decoders.string(v)
  if type(v) ~= "string" then return nil end
  return (v:match("^[^%z]*"))
end

function decoders.uint(v)
  v = math.tointeger(v)
  return v and ("%u"):format(v) or nil
end
decoders.int = function(v) v = math.tointeger(v) return v and tostring(v) or nil end

function decoders.hex(v)
  v = math.tointeger(v)
  return v and ("0x%x"):format(v) or nil
end

function decoders.ksym(v)
  v = math.tointeger(v)
  if not v then return nil end
  local name = require("libbpf.syms").ksym(v)
  return name or ("0x%x"):format(v)
end

local function bytes_of(v, n)
  if type(v) == "string" then return #v == n and v or nil end
  if math.type(v) == "integer" and n == 4 then return string.pack("<I4", v) end
  if type(v) == "table" and #v == n then
    local t = {}
    for i = 1, n do t[i] = string.char(v[i] & 0xff) end
    return table.concat(t)
  end
end

local function ipv6(b)
  local w = {}
  for i = 1, 16, 2 do w[#w + 1] = (">I2"):unpack(b, i) end
  if b:sub(1, 12) == ("\0"):rep(10) .. "\255\255" then
    return ("::ffff:%d.%d.%d.%d"):format(b:byte(13, 16))
  end
  -- the longest run of zero words (2 or more) becomes "::"
  local best, best_len, i = nil, 1, 1
  while i <= 8 do
    if w[i] == 0 then
      local j = i
      while j <= 8 and w[j] == 0 do j = j + 1 end
      if j - i > best_len then best, best_len = i, j - i end
      i = j
    else
      i = i + 1
    end
  end
  local parts = {}
  for k = 1, 8 do parts[k] = ("%x"):format(w[k]) end
  if not best then return table.concat(parts, ":") end
  return table.concat(parts, ":", 1, best - 1) .. "::" .. table.concat(parts, ":", best + best_len, 8)
end

--- IPv4 from an integer as loaded from memory (network byte order bytes)
-- or 4 bytes; IPv6 from 16 bytes or a list of 16 bytes.
function decoders.inet_ip(v)
  local b4 = bytes_of(v, 4)
  if b4 then return ("%d.%d.%d.%d"):format(b4:byte(1, 4)) end
  local b16 = bytes_of(v, 16)
  if b16 then return ipv6(b16) end
  return nil
end

local ERRNO = { "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC",
  "EBADF", "ECHILD", "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST",
  "EXDEV", "ENODEV", "ENOTDIR", "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY",
  "EFBIG", "ENOSPC", "ESPIPE", "EROFS", "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK",
  "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP", [42] = "ENOMSG", [43] = "EIDRM",
  [61] = "ENODATA", [62] = "ETIME", [71] = "EPROTO", [75] = "EOVERFLOW", [84] = "EILSEQ",
  [88] = "ENOTSOCK", [90] = "EMSGSIZE", [95] = "EOPNOTSUPP", [97] = "EAFNOSUPPORT",
  [98] = "EADDRINUSE", [99] = "EADDRNOTAVAIL", [100] = "ENETDOWN", [101] = "ENETUNREACH",
  [103] = "ECONNABORTED", [104] = "ECONNRESET", [105] = "ENOBUFS", [107] = "ENOTCONN",
  [110] = "ETIMEDOUT", [111] = "ECONNREFUSED", [113] = "EHOSTUNREACH", [114] = "EALREADY",
  [115] = "EINPROGRESS", [122] = "EDQUOT", [125] = "ECANCELED" }

--- Linux errno number (either sign) to its name; 0 is `"0"`, unknown ones their number.
function decoders.errno(v)
  v = math.tointeger(v)
  if not v then return nil end
  return ERRNO[math.abs(v)] or tostring(v)
end

local cgroup_paths
local function scan_cgroups()
  cgroup_paths = {}
  local root
  for line in io.lines("/proc/mounts") do
    local dir, fstype = line:match("^%S+ (%S+) (%S+)")
    if fstype == "cgroup2" then root = dir break end
  end
  if not root then return end
  local p = io.popen(("find %q -type d -printf '%%i %%P\\n' 2>/dev/null"):format(root))
  for line in p:lines() do
    local ino, path = line:match("^(%d+) (.*)$")
    if ino then cgroup_paths[tonumber(ino)] = "/" .. path end
  end
  p:close()
end

--- cgroup v2 id (the directory's inode number) to its path below the
-- cgroup2 mount ("/" is the root); the mount is rescanned at most once a
-- second on an unknown id.
local last_scan = -math.huge
function decoders.cgroup(v)
  v = math.tointeger(v)
  if not v then return nil end
  if not cgroup_paths or (not cgroup_paths[v] and now() - last_scan > 1) then
    scan_cgroups()
    last_scan = now()
  end
  return cgroup_paths[v] or tostring(v)
end

local dev_names = {}
--- The kernel's internal dev_t (`major << 20 | minor`, as `disk_devt` and
-- biolatency's key) to the block device name from `/sys/dev/block`.
function decoders.dev(v)
  v = math.tointeger(v)
  if not v then return nil end
  local name = dev_names[v]
  if name then return name end
  local majmin = ("%d:%d"):format(v >> 20, v & 0xfffff)
  local f = io.open("/sys/dev/block/" .. majmin .. "/uevent")
  if f then
    name = f:read("a"):match("DEVNAME=(%S+)")
    f:close()
  end
  name = name or majmin
  dev_names[v] = name
  return name
end

local function decoder_of(d)
  if d == nil then return function(v)
    if type(v) == "string" then return decoders.string(v) end
    v = math.tointeger(v)
    return v and tostring(v) or nil
  end end
  if type(d) == "function" then return d end
  if type(d) == "table" then return function(v) return d[v] end end
  local f = decoders[d]
  if not f then error(("unknown label decoder %s"):format(tostring(d)), 4) end
  return f
end

-- ---------------------------------------------------------------------------
-- definitions

local function compile_labels(labels)
  local out = {}
  for i, l in ipairs(labels or {}) do
    if type(l) == "string" then l = {name = l} end
    check_name("label", l.name, LABEL_NAME)
    out[i] = {name = l.name, field = l.field, decode = decoder_of(l.decode)}
  end
  return out
end

local function is_percpu(map)
  local t = map.type
  return t == "percpu_hash" or t == "percpu_array" or t == "lru_percpu_hash" or t == "percpu_cgroup_storage"
end

local function pick(v, field)
  if field == nil then return v end
  if type(v) ~= "table" then return nil end
  return v[field]
end

-- one CPU's (or the only) value -> number
local function scalar(v, field)
  v = pick(v, field)
  if type(v) == "boolean" then return v and 1 or 0 end
  if type(v) ~= "number" then return nil end
  return v
end

local function value_of(def, v)
  if def.percpu then
    if type(v) ~= "table" then return nil end
    local n = 0
    for _, c in ipairs(v) do
      local x = scalar(c, def.value)
      if not x then return nil end
      n = n + x
    end
    return n
  end
  return scalar(v, def.value)
end

-- a value's bucket counts (list, slot 0 first) summed over CPUs
local function slots_of(def, v)
  if def.percpu then
    local sum = {}
    if type(v) ~= "table" then return nil end
    for _, c in ipairs(v) do
      local s = pick(c, def.slots)
      if type(s) ~= "table" then return nil end
      for i, x in ipairs(s) do sum[i] = (sum[i] or 0) + x end
    end
    return sum
  end
  local s = pick(v, def.slots)
  if type(s) ~= "table" then return nil end
  return s
end

local function define(self, kind, spec)
  if type(spec) ~= "table" then error("metric definition must be a table", 3) end
  check_name("metric", self.prefix .. tostring(spec.name), METRIC_NAME)
  if self.by_name[spec.name] then error(("metric %s defined twice"):format(spec.name), 3) end
  local map = spec.map
  if not map and kind ~= "custom" then error(("metric %s: no map"):format(spec.name), 3) end
  local def = {
    kind = kind, name = self.prefix .. spec.name, short = spec.name, help = spec.help or spec.name,
    map = map, labels = compile_labels(spec.labels), value = spec.value,
    max_series = spec.max_series or self.max_series, label_names = {},
  }
  for i, l in ipairs(def.labels) do def.label_names[i] = l.name end
  if map and kind ~= "custom" then def.percpu = is_percpu(map) end
  if kind == "counter" then
    def.family = def.name:gsub("_total$", "")
    def.sample = def.family .. "_total"
  else
    def.family, def.sample = def.name, def.name
  end
  self.by_name[spec.name] = def
  self.defs[#self.defs + 1] = def
  return def
end

--- Define a counter: one series per map entry, its value the entry's value
-- (summed over CPUs for per-CPU maps). The sample name ends in `_total`.
-- @tparam table spec `name`, `help`, `map` (a loaded map handle), `labels`
--   (a list of `{name=, field=, decode=}`: `field` names a member of a
--   struct key, no `field` takes the whole key; `decode` a decoder name,
--   table or function), `value` (a member of a struct value, default the
--   whole value), `max_series` (default the registry's)
-- @usage reg:counter{name = "exec_total", map = obj.maps.exec_counts,
--   labels = {{name = "comm", field = "comm", decode = "string"}}}
function Registry:counter(spec) define(self, "counter", spec) return self end

--- Define a gauge, like `counter` but the value may go down.
-- @tparam table spec as for `counter`
-- @usage reg:gauge{name = "queue_depth", map = obj.maps.depth, labels = {"cpu"}}
function Registry:gauge(spec) define(self, "gauge", spec) return self end

--- Define a histogram from a bucket map. The bucket counts come from one
-- of three layouts: `slots = "field"`, a list member of the value
-- (libbpf-tools' `struct hist { u32 slots[N]; }`; labels from the key);
-- `bucket = "field"`, a member of a struct key holding the slot number (as
-- ebpf_exporter's maps; the other labels from the other members, the value
-- is the count); or neither, the key itself being the slot (as
-- `libbpf.hist` reads). Slot `i` counts values below `2^(i+1)` (`"log2"`)
-- or below `bucket_min + (i+1) * bucket_step` (`"linear"`); each bound is
-- multiplied by `bucket_multiplier` (e.g. `1e-6` for microseconds to
-- seconds). With `overflow = true` the last slot holds everything above and
-- counts only in `+Inf`. `_sum` is the member `sum` of the value when
-- named, else a lower bound (each count at its slot's low end).
-- @tparam table spec `name`, `help`, `map`, `labels`, `bucket_type`
--   (`"log2"` default, `"linear"`), `slots` or `bucket`, `buckets` (number
--   of slots for the `bucket`/key layouts, default 32), `bucket_min`,
--   `bucket_step`, `bucket_multiplier`, `overflow`, `sum`, `max_series`
-- @usage reg:histogram{name = "run_queue_latency_seconds", map = obj.maps.hists,
--   slots = "slots", bucket_multiplier = 1e-6}
function Registry:histogram(spec)
  local def = define(self, "histogram", spec)
  def.bucket_type = spec.bucket_type or "log2"
  if def.bucket_type ~= "log2" and def.bucket_type ~= "linear" then
    error(("metric %s: bucket_type must be log2 or linear"):format(spec.name), 2)
  end
  def.slots, def.bucket, def.sum = spec.slots, spec.bucket, spec.sum
  def.nbuckets = spec.buckets or 32
  def.overflow = spec.overflow
  local mult, base, step = spec.bucket_multiplier or 1, spec.bucket_min or 0, spec.bucket_step or 1
  def.le, def.low = {}, {}
  for i = 0, 127 do
    if def.bucket_type == "log2" then
      def.le[i] = num((1 << (i + 1)) * mult)
      def.low[i] = (i == 0 and 0 or (1 << i)) * mult
    else
      def.le[i] = num((base + (i + 1) * step) * mult)
      def.low[i] = (base + i * step) * mult
    end
  end
  return self
end

local Custom = {}
Custom.__index = Custom

--- Define a metric whose values the program sets (events counted from a
-- ring buffer, build info): returns a handle with `h:inc(labels, n)`,
-- `h:set(labels, v)` and `h:clear()`, `labels` being a list of label
-- values in the order of `spec.labels`.
-- @tparam table spec `name`, `help`, `type` (`"counter"` or `"gauge"`),
--   `labels` (list of label names), `max_series`
-- @treturn table the handle
-- @usage local ev = reg:custom{name = "exec_events_total", type = "counter", labels = {"comm"}}
-- ev:inc({"bash"}, 1)
function Registry:custom(spec)
  local kind = spec.type or "gauge"
  if kind ~= "counter" and kind ~= "gauge" then error("custom metric type must be counter or gauge", 2) end
  local def = define(self, "custom", spec)
  def.ctype = kind
  if kind == "counter" then
    def.family = def.name:gsub("_total$", "")
    def.sample = def.family .. "_total"
  end
  def.values, def.count = {}, 0
  return setmetatable({def = def, reg = self}, Custom)
end

local function label_text(names, values)
  if #names == 0 then return "" end
  local t = {}
  for i, n in ipairs(names) do t[i] = n .. '="' .. escape_label(tostring(values[i])) .. '"' end
  return "{" .. table.concat(t, ",") .. "}"
end

local function custom_slot(h, values)
  local def = h.def
  local key = label_text(def.label_names, values)
  if def.values[key] == nil then
    if def.count >= def.max_series then
      h.reg:dropped(def.short, 1)
      return nil
    end
    def.count = def.count + 1
    def.values[key] = 0
  end
  return key
end

--- Add `n` (default 1) to a custom metric's series.
-- @tparam[opt] table values label values
-- @tparam[opt=1] number n
-- @usage h:inc({"bash"})
function Custom:inc(values, n)
  local key = custom_slot(self, values or {})
  if key then self.def.values[key] = self.def.values[key] + (n or 1) end
end

--- Set a custom metric's series to `v`.
-- @tparam table values label values
-- @tparam number v
-- @usage info:set({"execs", "count_exec", 42}, 1)
function Custom:set(values, v)
  local key = custom_slot(self, values or {})
  if key then self.def.values[key] = v end
end

--- Forget every series of a custom metric.
-- @usage info:clear()
function Custom:clear()
  self.def.values, self.def.count = {}, 0
end

--- A new registry.
-- @tparam[opt] table opts `prefix` (prepended to every metric name,
--   default `""`), `max_series` (per-metric series limit, default 10000),
--   `batch_max` (maps of up to this many entries, default 4096, are read
--   with one batch read even when `render` has a `yield`; larger ones by
--   iteration, yielding every 128 elements)
-- @treturn table the registry
-- @usage local reg = metrics.new{prefix = "ebpf_exporter_"}
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({
    prefix = opts.prefix or "", max_series = opts.max_series or 10000,
    batch_max = opts.batch_max or 4096,
    defs = {}, by_name = {}, self_defs = {},
  }, Registry)
  local function own(name, help, kind, labels)
    local h = self:custom{name = name, help = help, type = kind, labels = labels}
    -- the registry's own: listed after the user's, kept across redefinition
    table.remove(self.defs)
    self.by_name[name] = nil
    self.self_defs[#self.self_defs + 1] = h.def
    return h
  end
  self.scrape_duration = own("scrape_duration_seconds",
    "Time this scrape spent reading and decoding maps.", "gauge", {})
  self.read_errors = own("map_read_errors_total", "Map reads that failed.", "counter", {"metric"})
  self.decode_errors = own("decode_errors_total",
    "Map entries whose key or value could not be decoded.", "counter", {"metric"})
  self.dropped_series = own("series_dropped_total",
    "Series dropped because their metric reached max_series.", "counter", {"metric"})
  self.lost_samples = own("ringbuf_lost_samples_total",
    "Ring or perf buffer samples the kernel could not deliver.", "counter", {"ringbuf"})
  return self
end

--- Add `n` lost samples of ring buffer `name` to the registry's own metric.
-- @tparam string name the buffer
-- @tparam integer n samples lost
-- @usage reg:lost("exec_events", n)
function Registry:lost(name, n)
  self.lost_samples:inc({name}, n)
end

--- Count `n` series of `metric` dropped by the cardinality limit.
-- @tparam string metric
-- @tparam[opt=1] integer n
-- @usage reg:dropped("exec_total", 3)
function Registry:dropped(metric, n)
  local d = self.dropped_series.def
  local key = label_text(d.label_names, {metric})
  d.values[key] = (d.values[key] or 0) + (n or 1)
end

--- Forget every map metric and custom metric (the registry's own metrics
-- stay): for a configuration reload.
-- @usage reg:reset()
function Registry:reset()
  self.defs, self.by_name = {}, {}
end

-- ---------------------------------------------------------------------------
-- collection

local function labels_of(def, key)
  local vals = {}
  for i, l in ipairs(def.labels) do
    local raw = key
    if l.field ~= nil then
      if type(key) ~= "table" then return nil end
      raw = key[l.field]
    end
    local ok, s = pcall(l.decode, raw)
    if not ok or s == nil then return nil end
    vals[i] = s
  end
  return vals
end

local YIELD_EVERY = 200
local read_map

-- series of a counter or gauge: list of {labeltext, value}
local function collect_simple(self, def, dump, out, tick)
  local names = def.label_names
  local n = 0
  for k, v in pairs(dump) do
    local vals = labels_of(def, k)
    local x = vals and value_of(def, v)
    if not x then
      self:_err(self.decode_errors, def)
    elseif n >= def.max_series then
      self:dropped(def.short, 1)
    else
      n = n + 1
      out[n] = def.sample .. label_text(names, vals) .. " " .. num(x)
    end
    tick()
  end
  return n
end

-- histograms: key -> label values, accumulating bucket counts per label set
local function collect_hist(self, def, dump, tick)
  local groups, order = {}, {}
  local names = def.label_names
  for k, v in pairs(dump) do
    local vals = labels_of(def, k)
    -- slots: a dense list of counts (slot 0 first); or one slot and its count
    local slots, sum, slot, count
    if vals and def.slots then
      slots = slots_of(def, v)
      if slots and def.sum then
        sum = value_of({percpu = def.percpu, value = def.sum}, v)
      end
    elseif vals then
      slot = math.tointeger(def.bucket and pick(k, def.bucket) or k)
      count = value_of(def, v)
      if not (slot and count and slot >= 0 and slot < 128) then slot = nil end
    end
    if not slots and not slot then
      self:_err(self.decode_errors, def)
    else
      local lt = label_text(names, vals)
      local g = groups[lt]
      if not g then
        if #order >= def.max_series then
          self:dropped(def.short, 1)
        else
          g = {labels = vals, counts = {}, sum = 0, n = 0}
          groups[lt] = g
          order[#order + 1] = lt
        end
      end
      if g and slots then
        local gc = g.counts
        for i = 1, #slots do gc[i] = (gc[i] or 0) + slots[i] end
        if #slots > g.n then g.n = #slots end
        if sum then g.sum = g.sum + sum; g.has_sum = true end
      elseif g then
        g.counts[slot + 1] = (g.counts[slot + 1] or 0) + count
        if slot + 1 > g.n then g.n = slot + 1 end
      end
    end
    tick()
  end
  return groups, order
end

function Registry._err(_, h, def)
  local d = h.def
  local key = label_text(d.label_names, {def.short})
  d.values[key] = (d.values[key] or 0) + 1
end

local function render_hist(def, groups, order, out, tick)
  for _, lt in ipairs(order) do
    local g = groups[lt]
    local nb = def.slots and g.n or def.nbuckets
    if not def.slots and g.n > nb then nb = g.n end
    local cum, sum = 0, 0
    local prefix = lt == "" and "{" or lt:sub(1, -2) .. ","
    local last = def.overflow and nb - 1 or nb
    for i = 1, nb do
      local c = g.counts[i] or 0
      cum = cum + c
      sum = sum + c * def.low[i - 1]
      if i <= last then
        out[#out + 1] = def.name .. "_bucket" .. prefix .. 'le="' .. def.le[i - 1] .. '"} ' .. num(cum)
      end
    end
    out[#out + 1] = def.name .. "_bucket" .. prefix .. 'le="+Inf"} ' .. num(cum)
    out[#out + 1] = def.name .. "_sum" .. lt .. " " .. num(g.has_sum and g.sum or sum)
    out[#out + 1] = def.name .. "_count" .. lt .. " " .. num(cum)
    tick()
  end
end

local function header(out, def, kind, om)
  local fam = om and def.family or def.sample
  out[#out + 1] = "# HELP " .. fam .. " " .. escape_help(def.help, om)
  out[#out + 1] = "# TYPE " .. fam .. " " .. kind
end

local function render_custom(def, out, om)
  header(out, def, def.ctype, om)
  for lt, v in pairs(def.values) do out[#out + 1] = def.sample .. lt .. " " .. num(v) end
end

-- Every element of a map. One batch read (`map:dump()`) is one C call that
-- holds the loop for as long as the whole map takes to read and decode
-- (about 2 us an element): with a `yield` and a map larger than
-- `batch_max`, the map is read by iteration instead, yielding every
-- `ITER_STEP` elements, so that ring buffers are polled in between.
local ITER_STEP = 128
function read_map(self, map, yield)
  local max = map.max_entries
  if not yield or type(max) ~= "number" or max <= self.batch_max then
    return map:dump()
  end
  local t, n = {}, 0
  local ok, err = pcall(function()
    for k, v in pairs(map) do
      t[k] = v
      n = n + 1
      if n % ITER_STEP == 0 then yield() end
    end
  end)
  if not ok then return nil, tostring(err) end
  return t
end

--- Read every map and render the metrics.
-- @tparam[opt="prometheus"] string fmt `"prometheus"` or `"openmetrics"`
-- @tparam[opt] function yield called every few hundred series (and, for
--   maps larger than `batch_max`, every 128 elements read), so that an
--   event loop can run other work (ring buffer polling) during a big scrape
-- @treturn string the body
-- @treturn string its content type
-- @usage local body, ctype = reg:render("prometheus")
function Registry:render(fmt, yield)
  local om = fmt == "openmetrics"
  local t0 = now()
  local out = {}
  local count = 0
  local function tick()
    count = count + 1
    if yield and count % YIELD_EVERY == 0 then yield() end
  end
  for _, def in ipairs(self.defs) do
    if def.kind == "custom" then
      render_custom(def, out, om)
    else
      local dump, err = read_map(self, def.map, yield)
      if not dump then
        self:_err(self.read_errors, def)
        def.last_error = err
      else
        if yield then yield() end
        if def.kind == "histogram" then
          header(out, def, "histogram", om)
          local groups, order = collect_hist(self, def, dump, tick)
          render_hist(def, groups, order, out, tick)
        else
          header(out, def, def.kind, om)
          local body = {}
          collect_simple(self, def, dump, body, tick)
          table.move(body, 1, #body, #out + 1, out)
        end
      end
    end
  end
  self.scrape_duration:set({}, now() - t0)
  for _, def in ipairs(self.self_defs) do
    render_custom(def, out, om)
  end
  out[#out + 1] = om and "# EOF\n" or ""
  return table.concat(out, "\n"), om and M.OPENMETRICS or M.PROMETHEUS
end

return M
