/* A "maps" section of 37 bytes for one map symbol: no known layout. */
#include "bpf_elf.h"

char SEC("maps") broken_map[37] = { 1 };

SEC("classifier")
int cls_nothing(struct __sk_buff *skb)
{
	return 0;
}

char __license[] SEC("license") = "GPL";
