// The maps the benchmark drives from Lua and from C (bench/run.lua).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__type(key, __u32);
	__type(value, __u64);
} bench_hash SEC(".maps");

/* m:mmap() vs m:lookup() vs a C loop over the same memory */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 131072);
	__type(key, __u32);
	__type(value, __u64);
} bench_array SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
