// SPDX-License-Identifier: GPL-2.0
/* A program the verifier must refuse: it reads a map value without the
 * NULL check. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int bad_deref(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&vals, &key);

	return (int)*v; /* no NULL check: "invalid mem access" */
}

SEC("xdp")
int fine(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
