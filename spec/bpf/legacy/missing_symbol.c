/* A relocation against a map symbol that no section defines. */
#include "bpf_elf.h"

extern struct bpf_elf_map missing_map;

struct bpf_elf_map SEC("maps") present_map = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 1,
};

SEC("classifier")
int cls_missing(struct __sk_buff *skb)
{
	count(&present_map, 0, 1);
	count(&missing_map, 0, 1);
	return 0;
}

char __license[] SEC("license") = "GPL";
