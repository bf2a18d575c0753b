// SPDX-License-Identifier: GPL-2.0
/* exitsnoop: process (or thread) exits with age, exit code and signal. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "exitsnoop.h"
#include "cgroup_filter.h"

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
	if (!cgroup_passes())
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
