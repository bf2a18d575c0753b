// An iterator over a map's elements, apart from attach.bpf.c: some kernels
// refuse to load bpf_map_elem iterators (EPERM) while everything else in
// attach.bpf.c works (bpf.probe("iter_map") tells).
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/bpf_map_elem")
int dump_counts(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u32 *key = ctx->key;
	__u64 *val = ctx->value;

	if (!key || !val)
		return 0;
	BPF_SEQ_PRINTF(seq, "%u=%llu\n", *key, *val);
	return 0;
}
