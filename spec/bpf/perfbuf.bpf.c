// SPDX-License-Identifier: GPL-2.0
/* Perf buffer samples of many sizes for spec/perfbuf_spec.lua: run by
 * test_run (raw_tp, samples go to the CPU it runs on), `count` samples
 * numbered from `start`, sample i carrying struct vsample then a byte
 * pattern, `len` bytes in all (16 + (seq * 37) % 128: records of every
 * 8-byte step from 24 to 152 bytes, so that they straddle the end of a small
 * ring at many offsets). */
#include "common.h"

struct vsample {
	__u64 seq;
	__u32 len;        /* bytes of the sample the program wrote */
	__u32 cpu_hint;   /* 0x5a5a5a5a: a member to read */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} vsamples SEC(".maps");

#define VMAX 160

struct vctx {
	void *ctx;
	__u64 start;
	unsigned char buf[VMAX];
};

static long vsample_one(__u32 i, struct vctx *v)
{
	struct vsample *s = (void *)v->buf;
	__u64 seq = v->start + i;
	__u32 len = 16 + (__u32)((seq * 37) & 127), k;

	s->seq = seq;
	s->len = len;
	s->cpu_hint = 0x5a5a5a5a;
	for (k = sizeof(*s); k < VMAX; k++)
		v->buf[k] = (unsigned char)(seq + k);
	if (len > VMAX)
		return 1;
	bpf_perf_event_output(v->ctx, &vsamples, BPF_F_CURRENT_CPU, v->buf,
			      len);
	return 0;
}

/* args: count, start */
SEC("raw_tp/lua_libbpf_vperf")
int vperf_emit(struct bpf_raw_tracepoint_args *ctx)
{
	struct vctx v = {};

	v.ctx = ctx;
	v.start = ctx->args[1];
	return bpf_loop((__u32)ctx->args[0], vsample_one, &v, 0);
}

struct vsample _vsample_type = {};

char LICENSE[] SEC("license") = "GPL";
