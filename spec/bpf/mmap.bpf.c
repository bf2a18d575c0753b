// SPDX-License-Identifier: GPL-2.0
/* Arrays created with BPF_F_MMAPABLE, read and written by user space
 * through m:mmap() (spec/mmap_spec.lua): mm_step reads what Lua stored and
 * writes results back, so each side sees the other's plain stores. */
#include "common.h"

struct rec {
	__u32 a;
	__s16 b;
	char tag[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} nums SEC(".maps");

/* 2-byte signed values: elements 8 bytes apart in the mapping */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __s16);
} small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct rec);
} recs SEC(".maps");

/* one array per scalar kind the BTF types (nums: __u64, small: __s16),
 * for the round trips of every kind */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u8);
} u8s SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u16);
} u16s SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} u32s SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __s8);
} s8s SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __s32);
} s32s SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __s64);
} s64s SEC(".maps");

/* a value with an array member: its encoding calls the table's __len */
struct pair {
	__u32 v[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct pair);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

/* nums[i] = nums[i] * 2 + i; small[4] = -small[0]; recs[1] from recs[0] */
SEC("xdp")
int mm_step(struct xdp_md *ctx)
{
	__u32 i, k0 = 0, k1 = 1, k4 = 4;
	__s16 *s0, *s4;
	struct rec *r0, *r1;

#pragma unroll
	for (i = 0; i < 8; i++) {
		__u32 k = i;
		__u64 *v = bpf_map_lookup_elem(&nums, &k);

		if (v)
			*v = *v * 2 + i;
	}
	s0 = bpf_map_lookup_elem(&small, &k0);
	s4 = bpf_map_lookup_elem(&small, &k4);
	if (s0 && s4)
		*s4 = -*s0;
	r0 = bpf_map_lookup_elem(&recs, &k0);
	r1 = bpf_map_lookup_elem(&recs, &k1);
	if (r0 && r1) {
		r1->a = r0->a + 1;
		r1->b = -r0->b;
		__builtin_memcpy(r1->tag, r0->tag, sizeof(r1->tag));
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
