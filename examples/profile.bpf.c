// SPDX-License-Identifier: GPL-2.0
/* profile: sample on-CPU stacks (user and kernel) from a perf event and
 * count each distinct (pid, user stack, kernel stack). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "profile.h"

const volatile bool kernel_stacks_only = false;
const volatile bool user_stacks_only = false;
const volatile bool include_idle = false;
const volatile int targ_tgid = -1;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct key_t);
	__type(value, __u64);
} counts SEC(".maps");

SEC("perf_event")
int do_perf_event(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, pid = (__u32)id;
	struct key_t key = {};
	__u64 one = 1, *valp;

	if (!include_idle && pid == 0)
		return 0;
	if (targ_tgid != -1 && targ_tgid != (int)tgid)
		return 0;

	key.pid = tgid;
	bpf_get_current_comm(&key.name, sizeof(key.name));
	key.kern_stack_id = user_stacks_only ? -1 :
		bpf_get_stackid(&ctx->regs, &stackmap, 0);
	key.user_stack_id = kernel_stacks_only ? -1 :
		bpf_get_stackid(&ctx->regs, &stackmap, BPF_F_USER_STACK);

	valp = bpf_map_lookup_elem(&counts, &key);
	if (valp)
		__sync_fetch_and_add(valp, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
