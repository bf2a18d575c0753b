// SPDX-License-Identifier: GPL-2.0
/* Hostile-BTF specs (spec/harden_btf_spec.lua, issue 13 item 1): the specs
 * patch this object's .BTF (struct big shrunk from 1036 to 4 bytes, array
 * counts grown, members moved) and check the codecs refuse what the kernel
 * would refuse. */
#include "common.h"

struct big {
	char pad[1032];
	__u32 y;
};

struct pair {
	__u32 a;
	__u32 b[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct big);
} bigs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct pair);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

enum level { LOW = 1, HIGH = 2 };

struct pair gpair = {};                 /* .bss */
enum level glevel = LOW;                /* .data */
__u32 gcount = 3;                       /* .data */

SEC("raw_tp/sys_enter")
int touch(void *ctx)
{
	__u32 zero = 0;
	struct big *b = bpf_map_lookup_elem(&bigs, &zero);

	/* only the first bytes: the specs shrink struct big to 4 bytes, and
	 * the program must still load */
	if (b)
		b->pad[0] = (char)(gcount + gpair.a);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
