#!/usr/bin/env lua5.4
--- exitsnoop_inline: exitsnoop.lua with its BPF C inline (issue 16), one file
-- to copy and change: bpf.compile builds it with clang against this kernel's
-- BTF at start (cached in ~/.cache/lua-libbpf after the first run).
-- Same output as exitsnoop.lua: PCOMM PID PPID TID AGE(s) EXIT_CODE.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"

local opts = tool.parse(arg, {
  name = "exitsnoop_inline",
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

-- SPDX-License-Identifier: GPL-2.0 (the BPF C below)
local obj = assert(bpf.compile([[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16

struct event {
	unsigned long long start_time;   /* ns since boot */
	unsigned long long exit_time;    /* ns since boot */
	int pid;
	int tid;
	int ppid;
	int sig;
	int exit_code;
	char comm[TASK_COMM_LEN];
};

const volatile int targ_tgid = 0;
const volatile bool trace_failed_only = false;
const volatile bool trace_by_process = true;

/* keeps struct event in the object's BTF, so that the Lua side can decode
 * ring buffer records by name: bpf.ringbuf(map, cb, {type = "struct event"}) */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

SEC("tracepoint/sched/sched_process_exit")
int sched_process_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	int pid = id >> 32, tid = (int)id, exit_code;
	struct task_struct *task;
	struct event *ev;

	if (targ_tgid && targ_tgid != pid)
		return 0;
	/* thread exits only when tracing threads */
	if (trace_by_process && pid != tid)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	exit_code = BPF_CORE_READ(task, exit_code);
	if (trace_failed_only && exit_code == 0)
		return 0;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return 0;
	ev->start_time = BPF_CORE_READ(task, start_time);
	ev->exit_time = bpf_ktime_get_ns();
	ev->pid = pid;
	ev->tid = tid;
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->sig = exit_code & 0xff;
	ev->exit_code = exit_code >> 8;
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
]], {name = "exitsnoop"}))
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
