// SPDX-License-Identifier: GPL-2.0
/* Queue, stack and bloom filter maps of a struct value for
 * spec/qstack_spec.lua. libbpf creates queues and stacks without BTF (the
 * kernel refuses it for them), so after load their value type is known only
 * from the definition in the object's BTF (`.maps`). raw_tp programs, run
 * by test_run (never attached: their tracepoints do not exist), take their
 * arguments as u64s. */
#include "common.h"

enum job_state { JOB_NEW = 1, JOB_RUNNING = 2, JOB_DONE = 3 };

struct job {
	__u32 id;
	enum job_state state;
	__u64 cost;
	char tag[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, struct job);
} jobs_q SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 8);
	__type(value, struct job);
} jobs_s SEC(".maps");

/* an enum value alone: decodes to its integer, m:enum_names() names it */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, enum job_state);
} states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(map_flags, BPF_F_ZERO_SEED);    /* the same bits every run */
	__uint(max_entries, 16);
	__type(value, struct job);
} seen SEC(".maps");

/* one job, pushed everywhere; 0 when id is 0 (the end of the list) */
static __always_inline int push_one(__u64 id, enum job_state state)
{
	struct job j = {};

	if (!id)
		return 0;
	j.id = (__u32)id;
	j.state = state;
	j.cost = id * 1000;
	__builtin_memcpy(j.tag, "bpf\0\0\0\0", 8);
	bpf_map_push_elem(&jobs_q, &j, 0);
	bpf_map_push_elem(&jobs_s, &j, 0);
	bpf_map_push_elem(&states, &state, 0);
	bpf_map_push_elem(&seen, &j, 0);
	return 1;
}

/* args: up to 4 job ids (0 ends the list): the first is JOB_NEW, the rest
 * JOB_RUNNING; returns how many were pushed */
SEC("raw_tp/lua_libbpf_qstack_push")
int push_jobs(struct bpf_raw_tracepoint_args *ctx)
{
	if (!push_one(ctx->args[0], JOB_NEW))
		return 0;
	if (!push_one(ctx->args[1], JOB_RUNNING))
		return 1;
	if (!push_one(ctx->args[2], JOB_RUNNING))
		return 2;
	return 3 + push_one(ctx->args[3], JOB_RUNNING);
}

/* args: id, state, cost (tag "lua"): 1 when that job (pushed from Lua as
 * a table) may be in the bloom filter, 0 when it is not */
SEC("raw_tp/lua_libbpf_qstack_seen")
int check_seen(struct bpf_raw_tracepoint_args *ctx)
{
	struct job j = {};

	j.id = (__u32)ctx->args[0];
	j.state = (enum job_state)ctx->args[1];
	j.cost = ctx->args[2];
	__builtin_memcpy(j.tag, "lua\0\0\0\0", 8);
	return bpf_map_peek_elem(&seen, &j) == 0;
}

char LICENSE[] SEC("license") = "GPL";
