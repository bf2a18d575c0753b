/*
 * Programs of the other attach kinds in iproute2's convention (sections
 * named after the hook, no BTF): each counts its runs into one slot of
 * `counts`, so a spec can see that the attachment made it run.
 */
#include "bpf_elf.h"

enum slot { TRACEPOINT, RAW_TRACEPOINT, CGROUP, SOCKET, PERF, NSLOTS };

struct bpf_elf_map SEC("maps") counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = NSLOTS,
};

SEC("tracepoint/sched/sched_process_exec")
int tp_exec(void *ctx)
{
	count(&counts, TRACEPOINT, 1);
	return 0;
}

SEC("raw_tracepoint/sched_process_exec")
int raw_exec(void *ctx)
{
	count(&counts, RAW_TRACEPOINT, 1);
	return 0;
}

SEC("cgroup/skb")
int cg_count(struct __sk_buff *skb)
{
	count(&counts, CGROUP, 1);
	return 1; /* let it pass */
}

SEC("socket")
int sock_count(struct __sk_buff *skb)
{
	count(&counts, SOCKET, 1);
	return skb->len; /* keep the whole packet */
}

SEC("perf_event")
int perf_count(void *ctx)
{
	count(&counts, PERF, 1);
	return 0;
}

char __license[] SEC("license") = "GPL";
