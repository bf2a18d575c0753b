// SPDX-License-Identifier: GPL-2.0
/* Maps and globals for spec/harden_maps_spec.lua: a 4-byte array whose
 * values may be read as `int` (m:set_type), global data in .bss, .data,
 * .rodata and a custom section, and a program to pin where a map is
 * expected. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} small SEC(".maps");

__u64 hits = 0;                           /* .bss */
__s32 level = 3;                          /* .data */
const volatile __u32 limit = 10;          /* .rodata */
char note[8] SEC(".data.custom") = "note";

SEC("socket")
int noop(void *ctx)
{
	__u32 k = 0, *v = bpf_map_lookup_elem(&small, &k);

	if (v)
		hits += *v + level + limit + note[0];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
