#!/usr/bin/env lua5.4
--- runqlat_inline: runqlat.lua with its BPF C inline (issue 16), one file to copy
-- and change; bpf.compile builds it with clang against this kernel's BTF at
-- start (cached in ~/.cache/lua-libbpf after the first run). The histogram tool.
-- Otherwise as runqlat.lua: summarize run-queue (scheduler) latency as a log2 histogram.
-- Output like bcc's runqlat: "usecs : count distribution" star bars.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"
local hist = require "libbpf.hist"

local opts = tool.parse(arg, {
  name = "runqlat_inline",
  positional = "[interval] [count]",
  args = { { "interval", type = "duration" }, { "count", type = "integer" } },
  summary = "Summarize run queue (scheduler) latency as a histogram.",
  options = {
    { "-T", "--timestamp", help = "include a timestamp on output" },
    { "-m", "--milliseconds", help = "millisecond histogram" },
    { "-P", "--pids", help = "print a histogram per process ID" },
    { "-L", "--tids", help = "print a histogram per thread ID" },
    { nil, "--pidnss", help = "print a histogram per PID namespace" },
    { "-p", "--pid", arg = "PID", type = "integer", help = "trace this PID only" },
  },
  examples = "  runqlat         # summarize until Ctrl-C\n" ..
             "  runqlat 1 10    # print 1 second summaries, 10 times\n" ..
             "  runqlat -mT 1   # 1s summaries, milliseconds, and timestamps",
})
local interval = opts[1] or 99999999   -- seconds, fractions allowed
local count = opts[2] or math.maxinteger

-- SPDX-License-Identifier: GPL-2.0 (the BPF C below)
local obj = assert(bpf.compile([[
/* runqlat: run-queue latency, the time from a wakeup to the task running,
 * as a log2 histogram (one in all, or one per process/thread/pid-ns). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16
#define MAX_SLOTS 26

struct hist {
	unsigned int slots[MAX_SLOTS];
	char comm[TASK_COMM_LEN];
};

/* floor(log2(v)) for the histogram slot of a latency, 0 for v <= 1 */
static __always_inline __u64 log2l(__u64 v)
{
	__u64 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8)  { v >>= 8;  r += 8; }
	if (v >> 4)  { v >>= 4;  r += 4; }
	if (v >> 2)  { v >>= 2;  r += 2; }
	if (v >> 1)  { r += 1; }
	return r;
}

/* Count a latency of `delta_ns` in a log2 histogram of `nslots` slots, in
 * milliseconds or microseconds; the last slot takes everything above. */
static __always_inline void log2_hist_add(unsigned int *slots, __u32 nslots,
					  __u64 delta_ns, bool ms)
{
	__u64 slot = log2l(delta_ns / (ms ? 1000000U : 1000U));

	if (slot >= nslots)
		slot = nslots - 1;
	__sync_fetch_and_add(&slots[slot], 1);
}

#define TASK_RUNNING 0

const volatile bool targ_per_process = false;
const volatile bool targ_per_thread = false;
const volatile bool targ_per_pidns = false;
const volatile bool targ_ms = false;
const volatile int targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero;

static __always_inline int trace_enqueue(__u32 tgid, __u32 pid)
{
	__u64 ts;

	if (!pid)
		return 0;
	if (targ_tgid && targ_tgid != tgid)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

static __always_inline unsigned int pid_namespace(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid;

	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level]);
	return BPF_CORE_READ(upid.ns, ns.inum);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	struct hist *histp;
	__u64 *tsp;
	__u32 pid, hkey;
	__s64 delta;

	/* a preempted task goes straight back on the run queue */
	if (prev->__state == TASK_RUNNING)
		trace_enqueue(prev->tgid, prev->pid);

	pid = next->pid;
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	if (delta < 0)
		goto cleanup;

	if (targ_per_process)
		hkey = next->tgid;
	else if (targ_per_thread)
		hkey = pid;
	else if (targ_per_pidns)
		hkey = pid_namespace(next);
	else
		hkey = (__u32)-1;
	histp = bpf_map_lookup_elem(&hists, &hkey);
	if (!histp) {
		bpf_map_update_elem(&hists, &hkey, &zero, BPF_NOEXIST);
		histp = bpf_map_lookup_elem(&hists, &hkey);
		if (!histp)
			goto cleanup;
		bpf_probe_read_kernel_str(&histp->comm, sizeof(histp->comm), next->comm);
	}
	log2_hist_add(histp->slots, MAX_SLOTS, delta, targ_ms);
cleanup:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
]], {name = "runqlat"}))
obj.vars.targ_per_process = opts.pids or false
obj.vars.targ_per_thread = opts.tids or false
obj.vars.targ_per_pidns = opts.pidnss or false
obj.vars.targ_ms = opts.milliseconds or false
if opts.pid then obj.vars.targ_tgid = opts.pid end
assert(obj:load())
assert(obj:attach())

local unit = opts.milliseconds and "msecs" or "usecs"
local function print_hists()
  local hists = obj.maps.hists
  local keys = {}
  for k, h in pairs(hists) do keys[#keys + 1] = { k, h } end
  table.sort(keys, function(a, b) return a[1] < b[1] end)
  for _, kh in ipairs(keys) do
    local k, h = kh[1], kh[2]
    if opts.pids then print(("\npid = %d %s"):format(k, h.comm))
    elseif opts.tids then print(("\ntid = %d %s"):format(k, h.comm))
    elseif opts.pidnss then print(("\npidns = %d %s"):format(k, h.comm))
    end
    hist.print_log2(hist.slots(h.slots), unit)
  end
  for _, kh in ipairs(keys) do hists:delete(kh[1]) end
  io.stdout:flush()
end

print("Tracing run queue latency... Hit Ctrl-C to end.")
io.stdout:flush()
tool.run(function()
  for _ = 1, count do
    local slept = tool.sleep(interval)
    print()
    if opts.timestamp then print(os.date("%H:%M:%S")) end
    print_hists()
    if not slept then break end
  end
end)
obj:close()
