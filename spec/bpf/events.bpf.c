// SPDX-License-Identifier: GPL-2.0
/* Event streams for the events specs and the ring buffer bench: records with
 * sequence numbers into a ring buffer (syscall program, run by test_run with
 * the count in its context), samples into a perf buffer (raw_tp program run
 * by test_run), and a user ring buffer drained into a global. */
#include "common.h"

struct event {
	__u64 seq;
	__u32 pid;
	__u32 kind;
	char comm[16];
};

/* a user ring buffer record written from Lua */
struct command {
	__u64 value;
	__u32 op;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 1 << 14);
} commands SEC(".maps");

/* what the user ring buffer drain saw: count, sum of values, last op */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} drained SEC(".maps");

/* test_run context: emit `count` records numbered from `start`; `size` is
 * the perf sample payload size (perf program), and for ring buffer records
 * discards every record whose number is a multiple of it (0: none) */
struct args {
	__u32 count;
	__u32 start;
	__u32 size;
	__u32 ring;     /* 0 = events, 1 = events2 */
};

struct loop_ctx {
	struct args a;
	void *ctx;
};

static long emit_one(__u32 i, struct loop_ctx *lc)
{
	struct event *e;

	e = bpf_ringbuf_reserve(lc->a.ring ? (void *)&events2 : (void *)&events,
				sizeof(*e), 0);
	if (!e)
		return 1; /* full: stop */
	e->seq = (__u64)lc->a.start + i;
	e->pid = 4242;
	e->kind = i & 3;
	__builtin_memcpy(e->comm, "lua-libbpf\0\0\0\0\0", 16);
	if (lc->a.size && e->seq % lc->a.size == 0)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("syscall")
int emit(struct args *ctx)
{
	struct loop_ctx lc = { .a = *ctx };

	return bpf_loop(ctx->count, emit_one, &lc, 0);
}

/* one perf sample: an event, padded to a large size on demand */
struct big_sample {
	struct event e;
	char pad[224];
};

static long sample_one(__u32 i, struct loop_ctx *lc)
{
	struct big_sample s = {};

	s.e.seq = (__u64)lc->a.start + i;
	s.e.pid = 4242;
	s.e.kind = i & 3;
	__builtin_memcpy(s.e.comm, "lua-libbpf\0\0\0\0\0", 16);
	if (lc->a.size > sizeof(struct event))
		bpf_perf_event_output(lc->ctx, &samples, BPF_F_CURRENT_CPU,
				      &s, sizeof(s));
	else
		bpf_perf_event_output(lc->ctx, &samples, BPF_F_CURRENT_CPU,
				      &s.e, sizeof(s.e));
	return 0;
}

/* raw_tp programs run by test_run get their args as u64s: count, start, size */
SEC("raw_tp/lua_libbpf_perf")
int perf_emit(struct bpf_raw_tracepoint_args *ctx)
{
	struct loop_ctx lc = {};

	lc.a.count = (__u32)ctx->args[0];
	lc.a.start = (__u32)ctx->args[1];
	lc.a.size = (__u32)ctx->args[2];
	lc.ctx = ctx;
	return bpf_loop(lc.a.count, sample_one, &lc, 0);
}

static long drain_one(struct bpf_dynptr *dynptr, void *unused)
{
	struct command cmd;
	__u32 k0 = 0, k1 = 1, k2 = 2;
	__u64 *n, *sum, *last;

	if (bpf_dynptr_read(&cmd, sizeof(cmd), dynptr, 0, 0))
		return 1;
	n = bpf_map_lookup_elem(&drained, &k0);
	sum = bpf_map_lookup_elem(&drained, &k1);
	last = bpf_map_lookup_elem(&drained, &k2);
	if (!n || !sum || !last)
		return 1;
	*n += 1;
	*sum += cmd.value;
	*last = cmd.op;
	return 0;
}

SEC("syscall")
int drain(void *ctx)
{
	return bpf_user_ringbuf_drain(&commands, drain_one, NULL, 0);
}

/* keep the record types in the object's BTF for type= lookups */
struct event _event_type = {};
struct command _command_type = {};

char LICENSE[] SEC("license") = "GPL";
