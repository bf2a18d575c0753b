/*
 * bpf_elf.h - iproute2's ELF conventions for BPF objects (lib/bpf_elf.h in
 * iproute2), as written before libbpf: maps are `struct bpf_elf_map` in a
 * section named "maps", programs live in sections named after their hook
 * ("classifier", "action", "xdp"), and nothing needs BTF.
 * Compiled by the Makefile without -g, like `tc` users did.
 */
#ifndef SPEC_BPF_ELF_H
#define SPEC_BPF_ELF_H

#include <linux/types.h>
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

#define PIN_NONE	0
#define PIN_OBJECT_NS	1
#define PIN_GLOBAL_NS	2

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

/* the helpers, declared the way old samples did (no bpf_helpers.h) */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) =
	(void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key,
				   const void *value, __u64 flags) =
	(void *)BPF_FUNC_map_update_elem;

/* add `n` to the __u64 at `key` of `map`, creating it in hash maps */
static inline __attribute__((always_inline)) void
count(void *map, __u32 key, __u64 n)
{
	__u64 *val = bpf_map_lookup_elem(map, &key);

	if (val)
		__sync_fetch_and_add(val, n);
	else
		bpf_map_update_elem(map, &key, &n, BPF_NOEXIST);
}

#endif
