/*
 * The older samples/bpf convention: 5-field `struct bpf_map_def` in
 * "maps", a socket filter in section "socket", a kernel version section.
 */
#include "bpf_elf.h"

struct bpf_map_def {
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
};

struct bpf_map_def SEC("maps") sock_counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1,
};

SEC("socket")
int sock_count(struct __sk_buff *skb)
{
	count(&sock_counts, 0, skb->len);
	return 0;
}

char __license[] SEC("license") = "GPL";
__u32 __version SEC("version") = 0x060000;
