-- busted --helper for `make test`: writes the id of every BPF program the
-- specs load (obj:load(), any object format) to $LBPF_SPEC_PROGS, one a line,
-- so that spec/host_state_check.lua can tell whether any of them outlived
-- the run. Ids are never reused, so programs of other processes (a second
-- `make test` at the same time) can neither hide a leak nor fake one.
local out = os.getenv("LBPF_SPEC_PROGS")
if not out then return end

local bpf = require "libbpf"   -- loaded before any spec: busted keeps it
local file = assert(io.open(out, "w"))
local seen = {}

local function record(obj)
  for _, p in pairs(obj.progs) do
    local fd = p.fd
    if fd >= 0 then
      local f = io.open("/proc/self/fdinfo/" .. fd)
      local id = f and f:read("a"):match("prog_id:%s*(%d+)")
      if f then f:close() end
      if id and not seen[id] then
        seen[id] = true
        file:write(id, "\n")
        file:flush()
      end
    end
  end
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
