// SPDX-License-Identifier: GPL-2.0
/* Loaded inside a user namespace with a BPF token (spec/token_spec.lua):
 * an XDP program run with test_run counts its runs in a global and in a
 * hash map, so the spec sees maps, BTF and a program were all created. */
#include "common.h"

__u64 runs;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int token_xdp(struct xdp_md *ctx)
{
	__u32 key = 1;
	__u64 one = 1, *n;

	__sync_fetch_and_add(&runs, 1);
	n = bpf_map_lookup_elem(&seen, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&seen, &key, &one, BPF_ANY);
	return XDP_PASS;
}
