-- busted --helper for `make test`: writes the id of every BPF program and map
-- the specs create (obj:load() of any object format, bpf.map_create) to
-- $LBPF_SPEC_IDS, one "prog <id>" or "map <id>" a line, so that
-- spec/host_state_check.lua can tell whether any of them outlived the run or
-- reached the host. Ids are never reused, so the objects of other processes
-- (a second `make test` at the same time) can neither hide a leak nor fake one.
local out = os.getenv("LBPF_SPEC_IDS")
if not out then return end

local bpf = require "libbpf"   -- loaded before any spec: busted keeps it
local file = assert(io.open(out, "w"))
local seen = {}

-- record the kernel id of fd `fd` ("prog" or "map")
local function record_fd(kind, fd)
  if not fd or fd < 0 then return end
  local f = io.open("/proc/self/fdinfo/" .. fd)
  local id = f and f:read("a"):match(kind .. "_id:%s*(%d+)")
  if f then f:close() end
  if id and not seen[kind .. id] then
    seen[kind .. id] = true
    file:write(kind, " ", id, "\n")
    file:flush()
  end
end

local function record(obj)
  for _, p in pairs(obj.progs) do record_fd("prog", p.fd) end
  for _, m in pairs(obj.maps) do record_fd("map", m.fd) end
end

-- obj:load is wrapped where the object's methods are: the table that is the
-- first upvalue of its __index closure (as lbpf's completion finds them), or
-- __index itself when that is a table.
local probe = assert(bpf.open("spec/bpf/counter.bpf.o"))
local mt = getmetatable(probe)
probe:close()
local methods = mt.__index
if type(methods) == "function" then methods = select(2, debug.getupvalue(methods, 1)) end
assert(type(methods) == "table" and methods.load, "spec/track_progs.lua: where is obj:load?")
local load = methods.load

methods.load = function(obj, ...)
  local r = table.pack(load(obj, ...))
  assert(pcall(record, obj))
  return table.unpack(r, 1, r.n)
end

local map_create = bpf.map_create
bpf.map_create = function(...)
  local r = table.pack(map_create(...))
  if r[1] then record_fd("map", r[1].fd) end
  return table.unpack(r, 1, r.n)
end
