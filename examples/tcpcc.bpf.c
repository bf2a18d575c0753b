// SPDX-License-Identifier: GPL-2.0
/* tcpcc: a TCP congestion control written in BPF (examples/tcpcc.lua), a
 * struct_ops map of type tcp_congestion_ops named "lbpf_reno": Reno's
 * slow start, additive increase and halving, plus counters of how often
 * the kernel called each callback and how many packets the ACKs acked. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

/* include/net/tcp.h: any netns may make it its default, any user may
 * choose it with setsockopt(TCP_CONGESTION) */
#define TCP_CONG_NON_RESTRICTED 0x1

/* what the callbacks counted (examples/tcpcc.lua prints them) */
__u64 inits, releases, cong_avoids, acked, ssthreshs, undos, state_changes,
      cwnd_events;
__u32 cwnd; /* the congestion window (packets) at the last cong_avoid */

static struct tcp_sock *tcp_sk(const struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

/* tcp_is_cwnd_limited(): grow only when the window is what holds the
 * sender back */
static bool cwnd_limited(const struct tcp_sock *tp)
{
	if (tp->snd_cwnd < tp->snd_ssthresh)
		return tp->snd_cwnd < 2 * tp->max_packets_out;
	return BPF_CORE_READ_BITFIELD(tp, is_cwnd_limited);
}

SEC("struct_ops")
void BPF_PROG(lbpf_reno_init, struct sock *sk)
{
	__sync_fetch_and_add(&inits, 1);
}

SEC("struct_ops")
void BPF_PROG(lbpf_reno_release, struct sock *sk)
{
	__sync_fetch_and_add(&releases, 1);
}

/* Reno: below ssthresh, one more packet per packet acked (slow start);
 * above it, one more per window acked (additive increase) */
SEC("struct_ops")
void BPF_PROG(lbpf_reno_cong_avoid, struct sock *sk, __u32 ack, __u32 n)
{
	struct tcp_sock *tp = tcp_sk(sk);
	__u32 w = tp->snd_cwnd;

	cwnd = w;
	__sync_fetch_and_add(&cong_avoids, 1);
	__sync_fetch_and_add(&acked, n);
	if (!cwnd_limited(tp))
		return;
	if (w < tp->snd_ssthresh) {
		tp->snd_cwnd = w + n < tp->snd_ssthresh ? w + n : tp->snd_ssthresh;
		return;
	}
	tp->snd_cwnd_cnt += n;
	if (w && tp->snd_cwnd_cnt >= w) {
		tp->snd_cwnd_cnt -= w;
		tp->snd_cwnd = w + 1;
	}
}

/* on loss: half the window, at least 2 */
SEC("struct_ops")
__u32 BPF_PROG(lbpf_reno_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	__sync_fetch_and_add(&ssthreshs, 1);
	return tp->snd_cwnd >> 1 > 2 ? tp->snd_cwnd >> 1 : 2;
}

/* a loss that was not one: back to the window before it */
SEC("struct_ops")
__u32 BPF_PROG(lbpf_reno_undo_cwnd, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	__sync_fetch_and_add(&undos, 1);
	return tp->snd_cwnd > tp->prior_cwnd ? tp->snd_cwnd : tp->prior_cwnd;
}

SEC("struct_ops")
void BPF_PROG(lbpf_reno_set_state, struct sock *sk, __u8 state)
{
	__sync_fetch_and_add(&state_changes, 1);
}

SEC("struct_ops")
void BPF_PROG(lbpf_reno_cwnd_event, struct sock *sk, enum tcp_ca_event ev)
{
	__sync_fetch_and_add(&cwnd_events, 1);
}

/* The name is kernel-wide: two registrations of one name collide
 * (EEXIST). spec/struct_ops_spec.lua builds this file again with a name of
 * its own (-DCC_NAME, Makefile: build/cc/NAME/tcpcc.bpf.o), so that two
 * test runs at once do not. */
#ifndef CC_NAME
#define CC_NAME "lbpf_reno"
#endif

/* Registered by m:attach_struct_ops() or obj:attach(). `.struct_ops.link`
 * (kernel 6.4, libbpf >= 1.3 here): the registration is a kernel bpf_link,
 * dropped when its last fd closes, i.e. when the tool ends however it ends
 * (SIGKILL, the OOM killer). A `.struct_ops` registration outlives its
 * process: lbpf_reno would stay taken (EEXIST) until `bpftool struct_ops
 * unregister`. spec/struct_ops_spec.lua builds this file again with
 * -DCC_SECTION='".struct_ops"' for that kind of registration. */
#ifndef CC_SECTION
#define CC_SECTION ".struct_ops.link"
#endif
SEC(CC_SECTION)
struct tcp_congestion_ops lbpf_reno = {
	.init = (void *)lbpf_reno_init,
	.release = (void *)lbpf_reno_release,
	.cong_avoid = (void *)lbpf_reno_cong_avoid,
	.ssthresh = (void *)lbpf_reno_ssthresh,
	.undo_cwnd = (void *)lbpf_reno_undo_cwnd,
	.set_state = (void *)lbpf_reno_set_state,
	.cwnd_event = (void *)lbpf_reno_cwnd_event,
	.flags = TCP_CONG_NON_RESTRICTED,
	.name = CC_NAME,
};
