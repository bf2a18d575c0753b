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
    { "-t", "--timestamp", help = "include a time column (HH:MM:SS)" },
    { "-x", "--failed", help = "trace failed exits only (non-zero code or signal)" },
    { "-T", "--threaded", help = "trace every thread exit, not only processes" },
    { "-p", "--pid", arg = "PID", type = "integer", help = "trace this process only" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
  },
})

-- signal names for the EXIT_CODE column
local SIGNALS = { "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
  "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
  "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
  "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS" }

local obj = assert(bpf.open(tool.beside("exitsnoop.bpf.o")))
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
    cols[#cols + 1] = ("code %d"):format(ev.exit_code)
  else
    local text = ("signal %d (%s)"):format(sig, SIGNALS[sig] or "?")
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
