// For spec/harden_state_spec.lua: a typed map and a global whose type has
// an array (encoding an array runs its __len/__index metamethods).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct rec {
	__u32 n;
	__u16 vals[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct rec);
} recs SEC(".maps");

struct rec last_rec = {};

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	__u32 k = 0;
	struct rec *r = bpf_map_lookup_elem(&recs, &k);

	if (r)
		last_rec = *r;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
