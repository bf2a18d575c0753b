#!/usr/bin/env lua5.4
--- opensnoop: trace open()/openat() with the path, fd and error.
-- Columns like libbpf-tools' opensnoop: PID COMM FD ERR PATH.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"

local opts = tool.parse(arg, {
  name = "opensnoop",
  summary = "Trace open family syscalls: PID COMM FD ERR PATH.",
  options = {
    { "-T", "--timestamp", help = "include a timestamp column" },
    { "-U", "--print-uid", help = "print the UID column" },
    { "-x", "--failed", help = "failed opens only" },
    { "-p", "--pid", arg = "PID", type = "integer", help = "trace this process only" },
    { "-t", "--tid", arg = "TID", type = "integer", help = "trace this thread only" },
    { "-u", "--uid", arg = "UID", type = "integer", help = "trace this UID only" },
    { "-n", "--name", arg = "NAME", help = "only print processes whose name contains NAME" },
    { "-e", "--extended-fields", help = "show the open flags" },
    { nil, "--pattern", help = "take -n as Lua patterns, not plain text" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
  },
  examples = "  opensnoop -p 181       # only PID 181\n  opensnoop -x -d 10     # failed opens for 10 s",
})

local obj = assert(bpf.open(tool.beside("opensnoop.bpf.o")))
if opts.pid then obj.vars.targ_tgid = opts.pid end
if opts.tid then obj.vars.targ_pid = opts.tid end
if opts.uid then obj.vars.targ_uid = opts.uid end
obj.vars.targ_failed = opts.failed or false
-- sys_enter_open exists only where the architecture has open(2)
local has_open = io.open("/sys/kernel/tracing/events/syscalls/sys_enter_open/id") or
                 io.open("/sys/kernel/debug/tracing/events/syscalls/sys_enter_open/id")
if has_open then has_open:close() else
  obj.progs.handle_open_enter:set_autoload(false)
  obj.progs.handle_open_exit:set_autoload(false)
end
assert(obj:load())
assert(obj:attach())

local first_ts
local function on_event(ev)
  if opts.name and not ev.comm:find(opts.name, 1, not opts.pattern) then return end
  local fd, err = ev.ret, 0
  if fd < 0 then fd, err = -1, -ev.ret end
  local cols = {}
  first_ts = first_ts or ev.ts
  if opts.timestamp then cols[#cols + 1] = ("%-8.3f"):format((ev.ts - first_ts) / 1e9) end
  if opts.print_uid then cols[#cols + 1] = ("%-7d"):format(ev.uid) end
  cols[#cols + 1] = ("%-6d %-16s %3d %3d"):format(ev.pid, ev.comm, fd, err)
  if opts.extended_fields then cols[#cols + 1] = ("%08o"):format(ev.flags) end
  cols[#cols + 1] = ev.fname
  io.stdout:write(table.concat(cols, " "), "\n")
  io.stdout:flush()
end

local rb = assert(bpf.ringbuf(obj.maps.events, on_event, { type = "struct event" }))

local head = {}
if opts.timestamp then head[#head + 1] = ("%-8s"):format("TIME(s)") end
if opts.print_uid then head[#head + 1] = ("%-7s"):format("UID") end
head[#head + 1] = ("%-6s %-16s %3s %3s"):format("PID", "COMM", "FD", "ERR")
if opts.extended_fields then head[#head + 1] = ("%-8s"):format("FLAGS") end
head[#head + 1] = "PATH"
print(table.concat(head, " "))
io.stdout:flush()

tool.run(function() tool.poll_for(rb, opts.duration) end)
rb:close()
obj:close()
