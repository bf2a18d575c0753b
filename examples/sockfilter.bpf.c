// SPDX-License-Identifier: GPL-2.0
/* sockfilter: a socket filter for a packet socket (examples/sockfilter.lua),
 * like libbpf-bootstrap's sockfilter: keep the IPv4 frames of one protocol
 * (or all), count what it kept and dropped per IP protocol. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800

char LICENSE[] SEC("license") = "GPL";

const volatile __u8 want_proto = 0; /* 0: every IPv4 protocol */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} kept SEC(".maps"); /* frames kept, by IP protocol */

SEC("socket")
int ipv4_filter(struct __sk_buff *skb)
{
	struct ethhdr eth;
	struct iphdr ip;
	__u32 proto;
	__u64 *n;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) ||
	    eth.h_proto != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
		return 0;
	if (want_proto && ip.protocol != want_proto)
		return 0;
	proto = ip.protocol;
	n = bpf_map_lookup_elem(&kept, &proto);
	if (n)
		__sync_fetch_and_add(n, 1);
	return skb->len;
}
