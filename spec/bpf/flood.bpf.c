// SPDX-License-Identifier: GPL-2.0
/* A flood that outruns its consumer, for spec/flood_spec.lua: one record
 * per getpid() of the process in target_pid[0], into a ring buffer and a
 * perf buffer. A callback that calls getpid() makes the next record, so
 * the producer stays ahead of the consumer for as long as callbacks run. */
#include "common.h"

struct rec {
	__u64 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_pid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} flood_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} flood_pb SEC(".maps");

__u64 flood_seq;
struct rec last_rec;   /* names struct rec in the BTF */

SEC("tp/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	__u32 zero = 0, *pid = bpf_map_lookup_elem(&target_pid, &zero);
	struct rec r;

	if (!pid || (bpf_get_current_pid_tgid() >> 32) != *pid)
		return 0;
	r.seq = __sync_fetch_and_add(&flood_seq, 1);
	last_rec = r;
	bpf_ringbuf_output(&flood_rb, &r, sizeof(r), 0);
	bpf_perf_event_output(ctx, &flood_pb, BPF_F_CURRENT_CPU, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
