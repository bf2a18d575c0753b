// SPDX-License-Identifier: GPL-2.0
/* spec/attach15_spec.lua: the attach kinds of libbpf 1.3+ (tcx, netfilter,
 * uprobe_multi; sockmap links: 1.5), each counting real events in
 * globals. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

#define ETH_HLEN 14
#define NF_DROP 0
#define NF_ACCEPT 1

__u32 port;           /* the UDP destination port the packet programs count */
__u32 nf_drop;        /* nf_count: drop what it counts */
__u64 tcx_hits, tcx_drops, nf_hits;
__u64 umulti_hits, umulti_auto_hits, umulti_ret_hits;

/* uprobe_multi: hits per function address, and per attach cookie */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u64);
} by_ip SEC(".maps"), by_cookie SEC(".maps");

static void bump(void *map, __u64 key)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(map, &key, &one, BPF_NOEXIST);
}

static int is_our_udp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct udphdr *udp;

	if ((void *)(ip + 1) > end || ip->version != 4 ||
	    ip->protocol != IPPROTO_UDP)
		return 0;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return 0;
	return port && bpf_ntohs(udp->dest) == port;
}

/* counts and hands the packet on to the next tcx program */
SEC("tcx/ingress")
int tcx_count(struct __sk_buff *skb)
{
	if (is_our_udp(skb))
		__sync_fetch_and_add(&tcx_hits, 1);
	return TCX_NEXT;
}

/* drops our packets: the programs after it never see them */
SEC("tcx/ingress")
int tcx_drop(struct __sk_buff *skb)
{
	if (!is_our_udp(skb))
		return TCX_NEXT;
	__sync_fetch_and_add(&tcx_drops, 1);
	return TCX_DROP;
}

SEC("netfilter")
int nf_count(struct bpf_nf_ctx *ctx)
{
	struct sk_buff *skb = ctx->skb;
	unsigned char *head;
	struct iphdr ip;
	struct udphdr udp;
	__u16 nh;

	head = BPF_CORE_READ(skb, head);
	nh = BPF_CORE_READ(skb, network_header);
	if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) ||
	    ip.version != 4 || ip.protocol != IPPROTO_UDP)
		return NF_ACCEPT;
	if (bpf_probe_read_kernel(&udp, sizeof(udp), head + nh + ip.ihl * 4) ||
	    !port || bpf_ntohs(udp.dest) != port)
		return NF_ACCEPT;
	__sync_fetch_and_add(&nf_hits, 1);
	return nf_drop ? NF_DROP : NF_ACCEPT;
}

SEC("uprobe.multi")
int umulti_count(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&umulti_hits, 1);
	bump(&by_ip, bpf_get_func_ip(ctx));
	bump(&by_cookie, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("uretprobe.multi")
int umulti_ret(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&umulti_ret_hits, 1);
	return 0;
}

/* auto-attached by obj:attach() from its section: every process running
 * the target binary */
SEC("uprobe.multi/spec/umulti/umulti_target:umulti_fn_*")
int umulti_auto(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&umulti_auto_hits, 1);
	return 0;
}

/* sockmap links: the sockets added to `socks` after sk_verdict is linked
 * to it pass their received bytes through it */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} socks SEC(".maps");

__u32 sk_drop;          /* sk_verdict: drop what it sees */
__u64 sk_skbs, sk_bytes;

SEC("sk_skb/stream_verdict")
int sk_verdict(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&sk_skbs, 1);
	__sync_fetch_and_add(&sk_bytes, skb->len);
	return sk_drop ? SK_DROP : SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
