/*
 * A map of maps in iproute2's convention whose outer map has 8-byte keys:
 * iproute2 places the inner map at slot `inner_idx`, a __u32, so the loader
 * must refuse (it used to pass a 4-byte key to a map that reads 8).
 * spec/harden_links_spec.lua.
 */
#include <linux/pkt_cls.h>
#include "bpf_elf.h"

struct bpf_elf_map SEC("maps") inner8 = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 1,
	.id = 7,
	.inner_idx = 1,
};

struct bpf_elf_map SEC("maps") outer8 = {
	.type = BPF_MAP_TYPE_HASH_OF_MAPS,
	.size_key = sizeof(__u64),
	.size_value = sizeof(__u32),
	.max_elem = 4,
	.inner_id = 7,
};

SEC("classifier")
int cls_pass(struct __sk_buff *skb)
{
	return skb->len ? TC_ACT_OK : TC_ACT_OK;
}

char __license[] SEC("license") = "GPL";
