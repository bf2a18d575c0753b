#!/usr/bin/env lua5.4
--- exitsnoop: trace process exits with their age and exit code or signal.
-- Columns like libbpf-tools' exitsnoop: PCOMM PID PPID TID AGE(s) EXIT_CODE.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"

local opts = tool.parse(arg, {
  name = "exitsnoop",
  summary = "Trace process termination: PCOMM PID PPID TID AGE(s) EXIT_CODE.",
  options = {
    { "-c", "--cgroup", arg = "PATH", help = "trace tasks in this cgroup v2 (or below it) only" },
    { "-v", "--verbose", help = "print libbpf's debug output on stderr" },
    { "-t", "--timestamp", help = "include a time column (HH:MM:SS)" },
    { "-x", "--failed", help = "trace failed exits only (non-zero code or signal)" },
    { "-T", "--threaded", help = "trace every thread exit, not only processes" },
    { "-p", "--pid", arg = "PID", type = "integer", help = "trace this process only" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
  },
})

-- the EXIT_CODE column says what libbpf-tools' exitsnoop says: strsignal(3)'s
-- text for a signal (glibc's), "code N" for a non-zero exit, "0" for success
local SIGNALS = { "Hangup", "Interrupt", "Quit", "Illegal instruction", "Trace/breakpoint trap",
  "Aborted", "Bus error", "Floating point exception", "Killed", "User defined signal 1",
  "Segmentation fault", "User defined signal 2", "Broken pipe", "Alarm clock", "Terminated",
  "Stack fault", "Child exited", "Continued", "Stopped (signal)", "Stopped", "Stopped (tty input)",
  "Stopped (tty output)", "Urgent I/O condition", "CPU time limit exceeded",
  "File size limit exceeded", "Virtual timer expired", "Profiling timer expired", "Window changed",
  "I/O possible", "Power failure", "Bad system call" }

if opts.verbose then bpf.set_print(function(_, msg) io.stderr:write(msg) end, "debug") end
local obj = assert(bpf.open(tool.beside("exitsnoop.bpf.o")))
require("libbpf.cgroup_filter").apply(obj, "exitsnoop", opts.cgroup)
if opts.pid then obj.vars.targ_tgid = opts.pid end
obj.vars.trace_failed_only = opts.failed or false
obj.vars.trace_by_process = not opts.threaded
assert(obj:load())
assert(obj:attach())

local function on_event(ev)
  local cols = {}
  if opts.timestamp then cols[#cols + 1] = ("%-8s"):format(tool.clock()) end
  local age = (ev.exit_time - ev.start_time) / 1e9
  cols[#cols + 1] = ("%-16s %-7d %-7d %-7d %-7.2f"):format(ev.comm, ev.pid, ev.ppid, ev.tid, age)
  local sig = ev.sig & 0x7f
  if sig == 0 then
    cols[#cols + 1] = ev.exit_code == 0 and "0" or ("code %d"):format(ev.exit_code)
  else
    local text = ("signal %d (%s)"):format(sig, SIGNALS[sig] or ("Real-time signal %d"):format(sig - 34))
    if ev.sig & 0x80 ~= 0 then text = text .. ", core dumped" end
    cols[#cols + 1] = text
  end
  io.stdout:write(table.concat(cols, " "), "\n")
  io.stdout:flush()
end

local rb = assert(bpf.ringbuf(obj.maps.events, on_event, { type = "struct event" }))
if opts.timestamp then io.stdout:write(("%-8s "):format("TIME(s)")) end
print(("%-16s %-7s %-7s %-7s %-7s %s"):format("PCOMM", "PID", "PPID", "TID", "AGE(s)", "EXIT_CODE"))
io.stdout:flush()

tool.run(function() tool.poll_for(rb, opts.duration) end)
rb:close()
obj:close()
