// SPDX-License-Identifier: GPL-2.0
/* Counts execs per command name prefix "true" and every XDP packet. Used by
 * the core specs: tracepoint attach, reuse_fd, test_run, lifetimes. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} exec_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} xdp_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__uint(key_size, 16);
	__uint(value_size, 16);
} raw_kv SEC(".maps");

/* Only execs started by this process (the spec's Lua process writes its pid
 * at key 0), directly or through `sh -c`: other work on the machine running
 * /bin/true must not change the counts. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_pid SEC(".maps");

static bool started_by_target(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 zero = 0, *want = bpf_map_lookup_elem(&target_pid, &zero);
	__u32 parent, grandparent;

	if (!want || !*want)
		return true;
	parent = BPF_CORE_READ(task, real_parent, tgid);
	grandparent = BPF_CORE_READ(task, real_parent, real_parent, tgid);
	return parent == *want || grandparent == *want;
}

/* Count execs of a binary whose name is "true": key 0 = count. */
SEC("tracepoint/sched/sched_process_exec")
int count_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	char comm[16];
	__u32 key = 0;
	__u64 one = 1, *v;

	bpf_get_current_comm(comm, sizeof(comm));
	if (comm[0] != 't' || comm[1] != 'r' || comm[2] != 'u' ||
	    comm[3] != 'e' || comm[4] != 0)
		return 0;
	if (!started_by_target())
		return 0;
	v = bpf_map_lookup_elem(&exec_counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&exec_counts, &key, &one, BPF_NOEXIST);
	return 0;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&xdp_counts, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
