/* Code in a section whose name implies no program type. */
#include "bpf_elf.h"

struct bpf_elf_map SEC("maps") some_map = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 1,
};

SEC("frobnicate")
int frob(struct __sk_buff *skb)
{
	count(&some_map, 0, 1);
	return 0;
}

char __license[] SEC("license") = "GPL";
