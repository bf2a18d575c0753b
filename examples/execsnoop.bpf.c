// SPDX-License-Identifier: GPL-2.0
/* execsnoop: every execve() with its full argv and its return value.
 * sys_enter_execve copies the arguments into a per-pid slot; sys_exit_execve
 * adds the result and sends the record through the ring buffer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "execsnoop.h"
#include "cgroup_filter.h"

const volatile int targ_tgid = 0;
const volatile unsigned int targ_uid = (unsigned int)-1;
const volatile bool ignore_failed = true;
const volatile int max_args = DEFAULT_MAXARGS;

static const struct event empty_event = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, int);
	__type(value, struct event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int handle_execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	const char **argv = (const char **)ctx->args[1];
	struct task_struct *task;
	const char *argp;
	struct event *ev;
	__u64 id = bpf_get_current_pid_tgid();
	int pid = id >> 32, tid = (int)id, ret, i;
	unsigned int uid = (unsigned int)bpf_get_current_uid_gid();

	if (targ_tgid && targ_tgid != pid)
		return 0;
	if (!cgroup_passes())
		return 0;
	if (targ_uid != (unsigned int)-1 && targ_uid != uid)
		return 0;
	if (bpf_map_update_elem(&execs, &tid, &empty_event, BPF_NOEXIST))
		return 0;
	ev = bpf_map_lookup_elem(&execs, &tid);
	if (!ev)
		return 0;

	ev->pid = pid;
	ev->uid = uid;
	task = (struct task_struct *)bpf_get_current_task();
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->args_count = 0;
	ev->args_size = 0;

	ret = bpf_probe_read_user_str(ev->args, ARGSIZE, (const char *)ctx->args[0]);
	if (ret < 0)
		return 0;
	if (ret <= ARGSIZE)
		ev->args_size += ret;
	else
		ev->args[0] = '\0';
	ev->args_count++;

	#pragma unroll
	for (i = 1; i < TOTAL_MAX_ARGS && i < max_args; i++) {
		if (bpf_probe_read_user(&argp, sizeof(argp), &argv[i]) || !argp)
			return 0;
		if (ev->args_size > LAST_ARG)
			return 0;
		ret = bpf_probe_read_user_str(&ev->args[ev->args_size], ARGSIZE, argp);
		if (ret < 0)
			return 0;
		ev->args_count++;
		ev->args_size += ret;
	}
	/* more arguments than we copy: flag it like libbpf-tools does */
	if (bpf_probe_read_user(&argp, sizeof(argp), &argv[max_args]) == 0 && argp)
		ev->args_count++;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int handle_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	int tid = (int)id, ret = ctx->ret;
	struct event *ev;
	unsigned int len;

	ev = bpf_map_lookup_elem(&execs, &tid);
	if (!ev)
		return 0;
	if (ignore_failed && ret < 0)
		goto cleanup;
	ev->retval = ret;
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
	len = offsetof(struct event, args) + ev->args_size;
	if (len <= sizeof(*ev))
		bpf_ringbuf_output(&events, ev, len, 0);
cleanup:
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
