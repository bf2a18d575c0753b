/*
 * A tc/xdp object in iproute2's convention: the classifier counts packets
 * and bytes into an array map, XDP counts packets by length into a hash
 * map, and both count into a map pinned in the global namespace
 * (/sys/fs/bpf/tc/globals/lbpf_spec_shared), which a second load reuses.
 */
#include <linux/pkt_cls.h>
#include "bpf_elf.h"

struct bpf_elf_map SEC("maps") cls_counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 2,
};

struct bpf_elf_map SEC("maps") xdp_lengths = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 64,
};

struct bpf_elf_map SEC("maps") lbpf_spec_shared = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 2,
	.pinning = PIN_GLOBAL_NS,
};

SEC("classifier")
int cls_count(struct __sk_buff *skb)
{
	count(&cls_counts, 0, 1);
	count(&cls_counts, 1, skb->len);
	count(&lbpf_spec_shared, 0, 1);
	return TC_ACT_OK;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	count(&xdp_lengths, len, 1);
	count(&lbpf_spec_shared, 1, 1);
	return XDP_PASS;
}

char __license[] SEC("license") = "GPL";
