// SPDX-License-Identifier: GPL-2.0
/* A socket filter for a packet socket (spec/packet_spec.lua): keeps the
 * IPv4 UDP frames sent to port `want_port` and counts them, drops the rest,
 * as libbpf-bootstrap's sockfilter does. Frames start at the Ethernet
 * header (lo has one, all zeros). */
#include "common.h"
#include <bpf/bpf_endian.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define IPPROTO_UDP 17

char LICENSE[] SEC("license") = "GPL";

const volatile __u16 want_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps"); /* 0: kept, 1: dropped */

static void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&seen, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("socket")
int udp_port_filter(struct __sk_buff *skb)
{
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) ||
	    eth.h_proto != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) ||
	    ip.protocol != IPPROTO_UDP ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, &udp, sizeof(udp)) ||
	    udp.dest != bpf_htons(want_port)) {
		bump(1);
		return 0;
	}
	bump(0);
	return skb->len;
}
