#!/usr/bin/env lua5.4
--- bootstrap: process execs and exits, as libbpf-bootstrap's bootstrap prints
-- them: TIME EVENT COMM PID PPID FILENAME/EXIT CODE (and the lifetime of an
-- exiting process). The ring buffer records are `struct event` of
-- bootstrap.h, which the BPF side reaches only through a pointer: it is in no
-- BTF of the object, so they are decoded through bpf.cdef of the header.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"

local opts = tool.parse(arg, {
  name = "bootstrap",
  summary = "Trace process execs and exits: TIME EVENT COMM PID PPID FILENAME/EXIT CODE.",
  options = {
    { "-m", "--min-duration", arg = "MS", type = "integer",
      help = "report only exits of processes that lived at least MS milliseconds (no execs)" },
    { "-v", "--verbose", help = "print libbpf's debug output" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
  },
})

if opts.verbose then
  bpf.set_print(function(_, msg) io.stderr:write(msg) end, "debug")
end

-- the record type, from the header the BPF side includes
local btf = assert(bpf.cdef{ file = tool.beside("bootstrap.h") })

local obj = assert(bpf.open(tool.beside("bootstrap.bpf.o")))
obj.vars.min_duration_ns = (opts.min_duration or 0) * 1000000
assert(obj:load())
assert(obj:attach())

local function on_event(e)
  if e.exit_event then
    local line = ("%-8s %-5s %-16s %-7d %-7d [%d]"):format(tool.clock(), "EXIT", e.comm, e.pid, e.ppid,
                                                          e.exit_code)
    if e.duration_ns ~= 0 then line = line .. (" (%dms)"):format(e.duration_ns // 1000000) end
    print(line)
  else
    print(("%-8s %-5s %-16s %-7d %-7d %s"):format(tool.clock(), "EXEC", e.comm, e.pid, e.ppid, e.filename))
  end
  io.stdout:flush()
end

local rb = assert(bpf.ringbuf(obj.maps.rb, on_event, { type = "struct event", btf = btf }))
print(("%-8s %-5s %-16s %-7s %-7s %s"):format("TIME", "EVENT", "COMM", "PID", "PPID", "FILENAME/EXIT CODE"))
io.stdout:flush()

tool.run(function() tool.poll_for(rb, opts.duration) end)
rb:close()
obj:close()
