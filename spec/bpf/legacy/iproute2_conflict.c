/*
 * Declares the global pinned map of iproute2_counters.c with another value
 * size: loading it while that map is pinned must be refused.
 */
#include <linux/pkt_cls.h>
#include "bpf_elf.h"

struct bpf_elf_map SEC("maps") lbpf_spec_shared = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u32),
	.max_elem = 2,
	.pinning = PIN_GLOBAL_NS,
};

SEC("classifier")
int cls_conflict(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u32 *val = bpf_map_lookup_elem(&lbpf_spec_shared, &key);

	if (val)
		__sync_fetch_and_add(val, 1);
	return TC_ACT_OK;
}

char __license[] SEC("license") = "GPL";
