--- API-misuse fuzzer, the child process (issue 13): every method, field and
-- metamethod of every handle class, and every module function, called in a
-- random order with hostile arguments, on handles before load, after load
-- and after close, from inside callbacks, with garbage collection between.
-- Each call runs in pcall: a Lua error is fine, a crash is not. The line of
-- each call is written (and flushed) to the log before the call is made, so
-- the parent (spec/fuzz_misuse_spec.lua) knows which call crashed.
--
--     lua5.4 spec/fuzz/misuse.lua SEED CALLS LOGFILE TMPDIR
--
-- Env: FUZZ_ALL=1 also makes the calls listed in spec/fuzz/known.lua.
-- Ends by printing "FUZZ DONE <calls>".
local bpf = require "libbpf"

local SEED = assert(tonumber(arg[1]), "seed")
local CALLS = assert(tonumber(arg[2]), "calls")
local LOG = assert(io.open(assert(arg[3], "log file"), "w"))
local TMP = assert(arg[4], "temp dir")   -- on bpffs: the only place pins go
local ALL = os.getenv("FUZZ_ALL") == "1"
local KNOWN = require "fuzz.known"
local NETNS = os.getenv("FUZZ_NETNS") == "1"  -- run in a private netns

math.randomseed(SEED)
local R = math.random
local function pick(t) return t[R(#t)] end

local OBJS = {"spec/bpf/typed.bpf.o", "spec/bpf/events.bpf.o",
              "spec/bpf/counter.bpf.o", "spec/bpf/hist.bpf.o"}

-- A private copy of the USDT target: a uprobe at a hostile offset must not
-- land in a binary that other processes (or other specs) run.
local UPROBE_BIN = os.tmpname()    -- not on bpffs: it holds no plain files
os.execute("cp spec/usdt/usdt_target " .. UPROBE_BIN .. " 2>/dev/null")

---------------------------------------------------------------------------
-- Safety: calls that would harm the host or hang rather than test the
-- module. Kept short; each has its reason.
---------------------------------------------------------------------------
local SKIP = {
  -- handles on other processes' maps, programs and links: fuzzing update,
  -- clear, destroy or detach on them would break other programs
  ["func map_from_id"] = true, ["func prog_from_id"] = true,
  ["func link_from_id"] = true,
  -- a cgroup program (set_type can make one of any program) attached to a
  -- real cgroup filters or drops the whole machine's traffic
  ["libbpf.program:attach_cgroup"] = true,
  -- bpf.compile runs clang (a tenth of a second or more a call) and writes
  -- the user's compile cache and `keep` directories; its argument checks are
  -- spec/compile_spec.lua's, its C helpers are not in the bpf table
  ["func compile"] = true,
  -- installs the process's signal handlers: a SIGTERM (a timeout) would only
  -- set a flag, never end the run
  ["func watch_signals"] = true,
}
if not NETNS then
  -- outside a private network namespace, XDP/tc/netns attachments would act
  -- on the host's interfaces and sockets
  SKIP["libbpf.program:attach_xdp"] = true
  SKIP["libbpf.program:attach_tc"] = true
  SKIP["libbpf.program:attach_netns"] = true
  SKIP["libbpf.program:attach_tcx"] = true
  SKIP["libbpf.program:attach_netfilter"] = true
end

-- option values clamped wherever they appear, with why
local CLAMP = {
  ["repeat"] = function(v) return math.type(v) == "integer" and v % 64 or v end, -- test_run loops
  pages = function(v) return math.type(v) == "integer" and v % 128 or v end,     -- pinned memory
  max_entries = function(v) return math.type(v) == "integer" and v % 65537 or v end, -- kernel memory
  value_size = function(v) return math.type(v) == "integer" and v % 65537 or v end,
  key_size = function(v) return math.type(v) == "integer" and v % 513 or v end,
  sample_period = function(v) return math.type(v) == "integer" and 1000000 + v % 1000 or v end, -- interrupt storm
  sample_freq = function(v) return math.type(v) == "integer" and v % 1000 or v end,
  path = function(v) return type(v) == "string" and UPROBE_BIN or v end,  -- uprobes elsewhere
  pin_root_path = function(v) return type(v) == "string" and TMP or v end,
  btf_custom_path = function(v) return v end,
}

local function clamp_opt(k, v)
  local f = CLAMP[k]
  if f then return f(v) end
  return v
end

local function tmp_path(v)
  if type(v) == "string" then return TMP .. "/p" .. (#v % 3) end
  return v
end

-- per-target argument fixes, applied to the positional arguments
local FIX = {
  ["libbpf.ringbuf:poll"] = function(a)   -- nil or -1 waits forever
    a[2] = math.type(a[2]) == "integer" and a[2] % 11 or 0
  end,
  ["libbpf.map:set_max_entries"] = function(a) a[2] = clamp_opt("max_entries", a[2]) end,
  ["libbpf.map:set_value_size"] = function(a) a[2] = clamp_opt("value_size", a[2]) end,
  ["libbpf.map:set_key_size"] = function(a) a[2] = clamp_opt("key_size", a[2]) end,
  ["libbpf.map:pin"] = function(a) a[2] = tmp_path(a[2]) end,
  ["libbpf.map:unpin"] = function(a) a[2] = tmp_path(a[2]) end,
  ["libbpf.map:set_pin_path"] = function(a) a[2] = tmp_path(a[2]) end,
  ["libbpf.link:pin"] = function(a) a[2] = tmp_path(a[2]) end,
  ["libbpf.link:unpin"] = function(a) a[2] = tmp_path(a[2]) end,
  -- only our own pins
  ["func map_from_pinned"] = function(a) a[1] = tmp_path(a[1]) end,
  ["func link_from_pinned"] = function(a) a[1] = tmp_path(a[1]) end,
}
FIX["libbpf.perfbuf:poll"] = FIX["libbpf.ringbuf:poll"]
FIX["func sleep"] = function(a)   -- whole seconds would add up: a few ms at most
  if type(a[1]) == "number" and a[1] == a[1] then a[1] = math.abs(a[1]) % 0.005 end
end

---------------------------------------------------------------------------
-- Discovery: classes, methods, metamethods and functions, at run time
---------------------------------------------------------------------------
local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks)
  return ks
end

local CLASSES, METHODS = {}, {}
local reg = debug.getregistry()
for _, cname in ipairs(sorted_keys(reg)) do
  local mt = reg[cname]
  if cname:match("^libbpf%.") and type(mt) == "table" then
    CLASSES[#CLASSES + 1] = cname
    local idx, methods = rawget(mt, "__index"), nil
    if type(idx) == "table" then
      methods = idx
    elseif type(idx) == "function" then
      local _, up = debug.getupvalue(idx, 1)
      if type(up) == "table" then methods = up end
    end
    for _, m in ipairs(methods and sorted_keys(methods) or {}) do
      if type(methods[m]) == "function" then
        METHODS[#METHODS + 1] = {cls = cname, name = m, fn = methods[m],
                                 label = cname .. ":" .. m}
      end
    end
    for _, m in ipairs(sorted_keys(mt)) do
      if m:match("^__") and type(mt[m]) == "function" then
        METHODS[#METHODS + 1] = {cls = cname, name = m, fn = mt[m], meta = true,
                                 label = cname .. "." .. m}
      end
    end
  end
end
-- a skipped function takes no slot: adding one (bpf.compile) leaves every
-- seed's call sequence as it was
for _, f in ipairs(sorted_keys(bpf)) do
  if type(bpf[f]) == "function" and not SKIP["func " .. f] then
    METHODS[#METHODS + 1] = {name = f, fn = bpf[f], func = true, label = "func " .. f}
  end
end

local DEFAULT_FIELDS = {
  ["libbpf.object"] = {"maps", "progs", "name", "format", "loaded", "vars"},
  ["libbpf.map"] = {"name", "type", "key_size", "value_size", "max_entries",
                    "flags", "fd", "pin_path", "autocreate"},
  ["libbpf.program"] = {"name", "section", "type", "fd", "autoload",
                        "autoattach", "log_level", "insn_count"},
  ["libbpf.link"] = {"fd", "kind", "pin_path", "destroyed"},
  ["libbpf.perfbuf"] = {"lost"},
  ["libbpf.btf"] = {"count"},
  ["libbpf.vars"] = {"runs", "data_val", "tag", "label", "multiplier", "nope"},
  ["libbpf.event_view"] = {"seq", "pid", "kind", "comm", "nope"},
  ["libbpf.ringbuf_batch"] = {"seq", "comm"},
}
local function fields_of(cls)
  local mt = reg[cls]
  local f = type(mt) == "table" and rawget(mt, "__fields")
  if type(f) == "table" then
    local l = {}
    for k, v in pairs(f) do l[#l + 1] = type(k) == "string" and k or v end
    table.sort(l, function(a, b) return tostring(a) < tostring(b) end)
    if #l > 0 then return l end
  end
  return DEFAULT_FIELDS[cls] or {"name", "fd"}
end

---------------------------------------------------------------------------
-- The pool: handles and values seen so far, with printable names
---------------------------------------------------------------------------
local pool, byclass = {}, {}     -- entries {v=, name=, cls=}
local nextid = 0
local names = setmetatable({}, {__mode = "k"})
local POOL_MAX = 160

local function classof(v)
  if type(v) ~= "userdata" then return nil end
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return nil end
  local n = rawget(mt, "__name")
  return type(n) == "string" and n or nil
end

local function add(v, label)
  if v == nil or names[v] then return v end
  local t = type(v)
  if t ~= "userdata" and t ~= "function" and t ~= "table" and t ~= "thread" then
    return v
  end
  nextid = nextid + 1
  local cls = classof(v)
  local name = (cls or t) .. "#" .. nextid .. (label and ("[" .. label .. "]") or "")
  names[v] = name
  local e = {v = v, name = name, cls = cls}
  if #pool >= POOL_MAX then
    -- drop one: its handle becomes garbage, collected later
    table.remove(pool, R(#pool))
  end
  pool[#pool + 1] = e
  if cls then
    byclass[cls] = byclass[cls] or {}
    local l = byclass[cls]
    if #l >= 40 then table.remove(l, R(#l)) end
    l[#l + 1] = v
  end
  return v
end

-- an object's maps and programs, in name order (pairs order is not stable
-- from run to run, the seed's sequence should be)
-- the programs that fill a map's ring (events.bpf.o), by map: for sources
-- whose callbacks should run
local filler = setmetatable({}, {__mode = "k"})
local fed = {}      -- {ring=, prog=, which=}: rings with a program to fill them

local function add_members(o)
  for _, what in ipairs({"maps", "progs"}) do
    local t = o[what]
    for _, n in ipairs(sorted_keys(t)) do add(t[n], n) end
  end
  local p = o.progs
  if p.emit then
    filler[o.maps.events] = {p.emit, 0}
    filler[o.maps.events2] = {p.emit, 1}
    filler[o.maps.samples] = {p.perf_emit}
  end
end

local function repr(v, depth)
  local t = type(v)
  if t == "string" then
    if #v > 24 then return ("<str %d bytes>"):format(#v) end
    return ("%q"):format(v):gsub("\\\n", "\\n")
  elseif t == "boolean" or t == "nil" then
    return tostring(v)
  elseif t == "number" then
    if v ~= v then return "0/0" end
    if math.type(v) == "integer" then
      if v == math.mininteger then return "math.mininteger" end
      return tostring(v)
    end
    if v == math.huge then return "math.huge" elseif v == -math.huge then return "-math.huge" end
    return ("%.17g"):format(v)
  elseif t == "table" and not names[v] and (depth or 0) < 2 then
    local parts = {}
    for _, k in ipairs(sorted_keys(v)) do
      parts[#parts + 1] = k .. "=" .. repr(rawget(v, k), (depth or 0) + 1)
    end
    for i = 1, math.min(#v, 4) do parts[#parts + 1] = repr(rawget(v, i), (depth or 0) + 1) end
    local mt = getmetatable(v)
    return "{" .. table.concat(parts, ", ") .. "}" .. (mt and "<mt>" or "")
  elseif names[v] then
    return names[v]
  end
  return "<" .. t .. ">"
end

---------------------------------------------------------------------------
-- Hostile values
---------------------------------------------------------------------------
local NaN = 0 / 0
local INTS = {0, 1, -1, 2, 7, 8, 16, 64, 255, 256, 4096, 65535, 65536,
              0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, -0x80000000,
              math.maxinteger, math.mininteger, 1 << 53}
local FLOATS = {NaN, math.huge, -math.huge, 0.5, -0.0, 1e300, 2^63, 3.0}
local STRINGS = {"", "\0", "\0\0\0\0", "\255\255\255\255\255\255\255\255",
                 ("A"):rep(72), ("\0"):rep(4096), ("x"):rep(70000),
                 "events", "events2", "samples", "commands", "counts", "queue",
                 "runs", "data_val", "tag", "label", "seq", "comm", "pid",
                 "struct event", "struct command", "__u32", "u32", "int",
                 "enum color", "struct inner", "char", "nope", "x", "1",
                 "raw_tp/sys_enter", "lo", "sys_enter", "syscalls:sys_enter_getpid",
                 "sched/sched_process_exec", "software", "cpu-clock", "ingress",
                 "egress", "skb", "hash", "array", "ringbuf", "%s%s%n", "\xff\xfe"}
local OPT_KEYS = {"type", "raw", "view", "batch", "on_sample", "on_lost", "pages",
                  "ctx", "data", "data_out", "ctx_out", "repeat", "flags", "cpu",
                  "ifindex", "ifname", "hook", "mode", "map", "name", "kconfig",
                  "pin_root_path", "btf_custom_path", "key", "value", "key_size",
                  "value_size", "max_entries", "inner_map", "config", "sample_freq",
                  "sample_period", "pid", "tid", "func", "offset", "path", "retprobe",
                  "cookie", "provider", "attach_type", "log_level", "handle",
                  "priority", "links", "destroy", "vars", "nope"}

local gen -- forward
local depth = 0
local fuzz_calls -- forward: make n random calls (used by callbacks)

local function random_handle(cls)
  local l = cls and byclass[cls]
  if l and #l > 0 then return l[R(#l)] end
  if #pool > 0 then return pool[R(#pool)].v end
  return nil
end

-- a handle of a class for which pred(h) holds (in pcall), if one turns up
local function find_handle(cls, pred)
  local l = byclass[cls]
  if not l or #l == 0 then return nil end
  for _ = 1, 12 do
    local h = l[R(#l)]
    local ok, yes = pcall(pred, h)
    if ok and yes then return h end
  end
  return nil
end

local function map_of_type(t)
  return function(m) return m.type == t and m.fd >= 0 end
end

-- a handle to close or otherwise disturb from inside a metamethod
local function disturb()
  local h = random_handle(pick({"libbpf.object", "libbpf.map", "libbpf.ringbuf",
                                "libbpf.perfbuf", "libbpf.user_ringbuf",
                                "libbpf.btf", "libbpf.link"}))
  if h == nil then return end
  local how = R(4)
  if how == 1 then
    local mt = getmetatable(h)
    local close = type(mt) == "table" and rawget(mt, "__close")
    if close then pcall(close, h) end
  elseif how == 2 then
    pcall(function() h:close() end)
  elseif how == 3 then
    collectgarbage()
  else
    if depth < 2 then fuzz_calls(1) end
  end
end

-- a table whose metamethods close objects mid-call
local function closer_table(seed)
  local t = {}
  local mt = {
    __index = function(_, k)
      disturb()
      local v = seed and seed[k]
      if v == nil and R(2) == 1 then v = gen(1) end
      return clamp_opt(k, v)
    end,
    __len = function() disturb(); return pick(INTS) end,
    __tostring = function() disturb(); return "closer" end,
    __pairs = function(self) disturb(); return next, self, nil end,
  }
  if R(2) == 1 then mt.__name = "closer" end
  return setmetatable(t, mt)
end

local function option_table()
  local t = {}
  for _ = 1, R(0, 4) do
    local k = pick(OPT_KEYS)
    t[k] = clamp_opt(k, gen(1))
  end
  return t
end

-- callbacks: record what they are given (views, batches, records: valid only
-- during the callback, so later use is misuse), make nested calls, raise or
-- return hostile values
local function callback()
  local kind = R(6)
  return function(...)
    local n = select("#", ...)
    for i = 1, math.min(n, 3) do
      local v = select(i, ...)
      if type(v) == "userdata" or type(v) == "table" then add(v, "cb") end
    end
    if kind == 1 then error("fuzz callback error") end
    if kind == 2 and depth < 2 then fuzz_calls(R(3)) end
    if kind == 3 then disturb() end
    if kind == 4 then return pick(INTS) end
    if kind == 5 then return pick(FLOATS) end
    return nil
  end
end

function gen(level)
  level = level or 0
  local k = R(100)
  if k <= 25 and #pool > 0 then
    return pool[R(#pool)].v
  elseif k <= 40 then
    return pick(INTS)
  elseif k <= 45 then
    return pick(FLOATS)
  elseif k <= 65 then
    local s = pick(STRINGS)
    if R(10) == 1 then
      local b = {}
      for i = 1, R(0, 96) do b[i] = string.char(R(0, 255)) end
      s = table.concat(b)
    end
    return s
  elseif k <= 70 then
    return nil
  elseif k <= 73 then
    return R(2) == 1
  elseif level < 1 and k <= 83 then
    return option_table()
  elseif level < 1 and k <= 86 then
    local t = {1, 2, 3}
    t.self = t
    t[4] = t
    return add(t, "cyclic")
  elseif k <= 90 then
    return closer_table(level < 1 and option_table() or nil)
  elseif k <= 95 then
    return callback()
  elseif k <= 97 then
    return io.stdout           -- a userdata of a foreign class
  elseif k <= 98 then
    return coroutine.create(function() end)
  end
  return {}
end

---------------------------------------------------------------------------
-- Calls
---------------------------------------------------------------------------
local ncall = 0

local function known_crash(line)
  if ALL then return nil end
  for _, k in ipairs(KNOWN) do
    if line:find(k.pattern) then return k.id end
  end
end

local function log(line)
  LOG:write(line, "\n")
  LOG:flush()
end

-- results worth reusing; functions are named after the call that gave them
-- (an iterator from `libbpf.vars.__pairs` says so in later call lines)
local function keep(label, ...)
  for i = 1, math.min(select("#", ...), 4) do
    local v = select(i, ...)
    if type(v) == "userdata" or type(v) == "table" then
      add(v)
    elseif type(v) == "function" then
      add(v, label)
    end
  end
end

-- log the call, then make it in pcall
local function call(label, fn, args, n)
  ncall = ncall + 1
  local parts = {}
  for i = 1, n do parts[i] = repr(args[i]) end
  local line = ("%d %s%s(%s)"):format(ncall, ("  "):rep(depth), label,
                                      table.concat(parts, ", "))
  local id = known_crash(line)
  if id then
    log(line .. "  -- skipped: " .. id)
    return
  end
  log(line)
  depth = depth + 1
  local res = table.pack(pcall(fn, table.unpack(args, 1, n)))
  depth = depth - 1
  if res[1] then keep(label, table.unpack(res, 2, res.n)) end
end

local function method_call()
  local m = pick(METHODS)
  if SKIP[m.label] then return end
  local args, n = {}, R(0, 4)
  local first = 1
  if not m.func then
    -- self: mostly a handle of the class (in any state), sometimes anything
    local r = R(10)
    if r <= 7 then args[1] = random_handle(m.cls) or gen()
    elseif r <= 9 then args[1] = random_handle()
    else args[1] = gen() end
    first = 2
    n = n + 1
  end
  if m.name == "__index" or m.name == "__newindex" then
    args[2] = R(2) == 1 and pick(fields_of(m.cls)) or gen()
    if n < 2 then n = 2 end
    first = 3
  end
  for i = first, n do args[i] = gen() end
  if FIX[m.label] then FIX[m.label](args); n = math.max(n, 2) end
  call(m.label, m.fn, args, n)
end

local function field_op()
  local cls = pick(CLASSES)
  local h = random_handle(cls)
  if h == nil then return end
  local f = R(3) == 1 and gen() or pick(fields_of(classof(h) or cls))
  if f == nil then f = "name" end
  if R(3) == 1 then
    call("set", function(o, k, v) o[k] = v end, {h, f, gen()}, 3)
  else
    call("get", function(o, k) return o[k] end, {h, f}, 2)
  end
end

-- pairs() on a handle, keeping the iterator triple; and calls of kept
-- iterators, by hand, with right and wrong arguments
local iters = {}
local function pairs_op()
  local h = random_handle()
  if h == nil then return end
  if R(2) == 1 then
    call("pairs", function(o)
      local f, s, c = pairs(o)
      if #iters >= 20 then table.remove(iters, 1) end
      iters[#iters + 1] = {f = f, s = s, c = c, name = repr(o)}
      -- walk a few steps the normal way
      local k = c
      for _ = 1, R(0, 3) do
        k = f(s, k)
        if k == nil then break end
      end
    end, {h}, 1)
  elseif #iters > 0 then
    local it = pick(iters)
    local a
    local shape = R(4)
    if shape == 1 then a = {it.s, it.c}
    elseif shape == 2 then a = {it.s, gen()}
    elseif shape == 3 then a = {gen(), gen()}
    else a = {gen()} end
    call("iter<" .. it.name .. ">", it.f, a, #a < 2 and 2 or #a)
  end
end

local function gc_op()
  local r = R(3)
  if r == 1 then
    call("collectgarbage", collectgarbage, {"collect"}, 1)
  elseif r == 2 then
    -- forget some handles so that the collector frees them
    for _ = 1, R(1, 8) do
      if #pool > 0 then table.remove(pool, R(#pool)) end
    end
    for _, cls in ipairs(CLASSES) do   -- in order: the seed's sequence stays the same
      local l = byclass[cls]
      if l and #l > 0 and R(2) == 1 then table.remove(l, R(#l)) end
    end
    call("collectgarbage", collectgarbage, {"collect"}, 1)
  else
    call("collectgarbage", collectgarbage, {"step", R(0, 100)}, 2)
  end
end

-- sequences that reach the deeper states: loaded objects, events in rings
local function scenario()
  local r = R(8)
  if r == 1 then
    local path = pick(OBJS)
    call("func open", function(p)
      local o = bpf.open(p)
      if o then
        add(o, p:match("([%w_]+)%.bpf%.o"))
        add_members(o)
      end
    end, {path}, 1)
  elseif r == 2 then
    local o = random_handle("libbpf.object")
    if o then call("libbpf.object:load", function(x) return x:load() end, {o}, 1) end
  elseif r == 3 then
    -- events into the rings of a loaded events object
    local p = find_handle("libbpf.program", function(x)
      return x.fd >= 0 and (x.name == "emit" or x.name == "perf_emit" or x.name == "drain")
    end) or random_handle("libbpf.program")
    if p then
      call("emit", function(pr)
        if pr.name == "emit" then
          return pr:test_run{ctx = string.pack("I4I4I4I4", R(0, 40), R(0, 100), R(0, 3), R(0, 1))}
        elseif pr.name == "perf_emit" then
          return pr:test_run{ctx = string.pack("I8I8I8", R(0, 10), 0, R(0, 300))}
        elseif pr.name == "drain" then
          return pr:test_run{}
        end
      end, {p}, 1)
      -- and read them at once, in callbacks
      local h = find_handle(pick({"libbpf.ringbuf", "libbpf.perfbuf"}), function() return true end)
      if h then call("consume", function(x) return x:consume() end, {h}, 1) end
    end
  elseif r == 4 then
    local m = find_handle("libbpf.map", map_of_type("ringbuf")) or random_handle("libbpf.map")
    local opts = pick({{}, {type = "struct event"}, {raw = true}, {view = true},
                       {batch = true}, {batch = R(1, 5), type = "struct event"},
                       {batch = 2, raw = true}, option_table()})
    call("func ringbuf", function(...)
      local rb = bpf.ringbuf(...)
      if rb and filler[m] then
        if #fed >= 8 then table.remove(fed, 1) end
        fed[#fed + 1] = {ring = rb, prog = filler[m][1], which = filler[m][2]}
      end
      return rb
    end, {m, callback(), opts}, 3)
  elseif r == 5 then
    local m = find_handle("libbpf.map", map_of_type("perf_event_array")) or random_handle("libbpf.map")
    local opts = pick({{on_sample = callback()}, {on_sample = callback(), on_lost = callback(),
                       type = "struct event"}, {on_sample = callback(), view = true},
                       {on_sample = callback(), raw = true},
                       {on_sample = callback(), batch = true, type = "struct event"},
                       {on_sample = callback(), on_lost = callback(), batch = R(1, 5), raw = true,
                        pages = 1},
                       {on_sample = callback(), fields = {"seq", "comm"}, type = "struct event"},
                       option_table()})
    call("func perfbuf", function(...)
      local pb = bpf.perfbuf(...)
      if pb and filler[m] then
        if #fed >= 8 then table.remove(fed, 1) end
        fed[#fed + 1] = {ring = pb, prog = filler[m][1]}
      end
      return pb
    end, {m, opts}, 2)
  elseif r == 6 then
    local m = find_handle("libbpf.map", map_of_type("user_ringbuf")) or random_handle("libbpf.map")
    call("func user_ringbuf", bpf.user_ringbuf, {m, pick({nil, {type = "struct command"}})}, 2)
  elseif r == 7 and #fed > 0 and R(2) == 1 then
    -- fill a ring through its program, then read it: the callbacks run
    local f = pick(fed)
    call("fill", function(e)
      if e.which then
        e.prog:test_run{ctx = string.pack("I4I4I4I4", R(1, 20), 0, 0, e.which)}
      else
        e.prog:test_run{ctx = string.pack("I8I8I8", R(1, 5), 0, R(0, 300))}
      end
    end, {f}, 1)
    call("poll0", function(x) return x:poll(0) end, {f.ring}, 1)
  elseif r == 7 then
    local h = find_handle("libbpf.ringbuf", function() return true end) or
              find_handle("libbpf.perfbuf", function() return true end) or random_handle()
    if h then call("poll/consume", function(x)
      if R(2) == 1 then return x:poll(R(0, 5)) end
      return x:consume()
    end, {h}, 1) end
  else
    local o = random_handle("libbpf.object")
    if o then call("vars/btf", function(x)
      add(x.vars, "vars")
      add(x:btf(), "btf")
    end, {o}, 1) end
  end
end

function fuzz_calls(n)
  for _ = 1, n do
    local r = R(100)
    if r <= 45 then method_call()
    elseif r <= 60 then field_op()
    elseif r <= 70 then pairs_op()
    elseif r <= 75 then gc_op()
    elseif r <= 95 then scenario()
    else
      local h = random_handle()
      if h ~= nil then
        if R(2) == 1 then
          call("tostring", tostring, {h}, 1)
        else
          call("len", function(x) return #x end, {h}, 1)
        end
      end
    end
  end
end

-- start with some objects in every state
for i, p in ipairs(OBJS) do
  local o = bpf.open(p)
  if o then
    add(o, p:match("([%w_]+)%.bpf%.o"))
    add_members(o)
    if i <= 3 then pcall(o.load, o) end
  end
end

local total = 0
while ncall < CALLS do
  local before = ncall
  fuzz_calls(1)
  total = total + 1
  if ncall == before and total > CALLS * 20 then break end
end
log("-- end of calls")
-- closing everything (and the final collection) is part of the run
for _, e in ipairs(pool) do
  if e.cls == "libbpf.object" then
    log("final close " .. e.name)
    pcall(function() e.v:close() end)
  end
end
pool, byclass, iters = nil, nil, nil
log("final collectgarbage")
collectgarbage()
os.remove(UPROBE_BIN)
print("FUZZ DONE " .. ncall)
LOG:close()
