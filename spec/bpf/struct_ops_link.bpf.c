// SPDX-License-Identifier: GPL-2.0
/* Two versions of one TCP congestion control, "lbpf_upd", in
 * `.struct_ops.link` maps (spec/struct_ops_spec.lua): attach_struct_ops
 * gives a kernel bpf_link, and link:update_map switches it from v1 to v2.
 * Each version counts the connections it started (init). Neither changes
 * the window: ssthresh halves it, undo keeps it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define TCP_CONG_NON_RESTRICTED 0x1

/* kernel-wide: the spec builds this file with a name of its own
 * (-DCC_NAME, Makefile: build/cc/NAME/struct_ops_link.bpf.o) */
#ifndef CC_NAME
#define CC_NAME "lbpf_upd"
#endif

__u64 inits_v1, inits_v2;

#define VERSION(V)							\
SEC("struct_ops")							\
void BPF_PROG(init_##V, struct sock *sk)				\
{									\
	__sync_fetch_and_add(&inits_##V, 1);				\
}									\
SEC("struct_ops")							\
void BPF_PROG(cong_avoid_##V, struct sock *sk, __u32 ack, __u32 n)	\
{									\
}									\
SEC("struct_ops")							\
__u32 BPF_PROG(ssthresh_##V, struct sock *sk)				\
{									\
	__u32 w = ((struct tcp_sock *)sk)->snd_cwnd;			\
	return w >> 1 > 2 ? w >> 1 : 2;					\
}									\
SEC("struct_ops")							\
__u32 BPF_PROG(undo_cwnd_##V, struct sock *sk)				\
{									\
	return ((struct tcp_sock *)sk)->snd_cwnd;			\
}									\
SEC(".struct_ops.link")							\
struct tcp_congestion_ops cc_##V = {					\
	.init = (void *)init_##V,					\
	.cong_avoid = (void *)cong_avoid_##V,				\
	.ssthresh = (void *)ssthresh_##V,				\
	.undo_cwnd = (void *)undo_cwnd_##V,				\
	.flags = TCP_CONG_NON_RESTRICTED,				\
	.name = CC_NAME,						\
};

VERSION(v1)
VERSION(v2)
