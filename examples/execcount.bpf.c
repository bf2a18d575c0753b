// SPDX-License-Identifier: GPL-2.0
/* execcount: execs counted by command name (ebpf_exporter's "execsnoop"
 * counter), for examples/exporter.lua. The counts are per-CPU (the exporter
 * sums them); every exec is also sent through a ring buffer, and a record
 * the buffer had no room for is counted in `ringbuf_drops`, so that lost
 * samples are visible as a metric rather than silently missing. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "execcount.h"

/* keeps struct exec_event in the BTF, for the ring buffer's decoding */
const struct exec_event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct exec_key);
	__type(value, __u64);
} exec_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} exec_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ringbuf_drops SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int count_exec(void *ctx)
{
	struct exec_key key = {};
	struct exec_event *ev;
	__u64 one = 1, *n;
	__u32 zero = 0;

	bpf_get_current_comm(key.comm, sizeof(key.comm));
	n = bpf_map_lookup_elem(&exec_counts, &key);
	if (n)
		*n += 1;	/* per-CPU: this CPU's slot only, no race */
	else
		bpf_map_update_elem(&exec_counts, &key, &one, BPF_NOEXIST);

	ev = bpf_ringbuf_reserve(&exec_events, sizeof(*ev), 0);
	if (!ev) {
		n = bpf_map_lookup_elem(&ringbuf_drops, &zero);
		if (n)
			__sync_fetch_and_add(n, 1);
		return 0;
	}
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->uid = (__u32)bpf_get_current_uid_gid();
	__builtin_memcpy(ev->comm, key.comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
