// SPDX-License-Identifier: GPL-2.0
/* A histogram map as BPF tools keep it (slot -> count), for hist_spec.lua. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} slots SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
