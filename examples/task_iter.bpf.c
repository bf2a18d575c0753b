// SPDX-License-Identifier: GPL-2.0
/* task_iter: one struct task_info (task_iter.h) per thread, with its kernel
 * stack, written by a task iterator as fixed-size records; task_iter.lua
 * reads them with link:read{type=, btf=}. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "task_iter.h"

/* the record is too big for the BPF stack: built in a map value, whose
 * type stays out of BTF (sizes, not __type) as bootstrap's event does */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct task_info));
} scratch SEC(".maps");

SEC("iter/task")
int get_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct task_info *t;
	__u32 zero = 0;
	long len;

	if (!task)
		return 0;
	t = bpf_map_lookup_elem(&scratch, &zero);
	if (!t)
		return 0;
	t->pid = task->tgid;
	t->tid = task->pid;
	t->state = task->__state;
	bpf_probe_read_kernel_str(t->comm, TASK_COMM_LEN, task->comm);
	len = bpf_get_task_stack(task, t->kstack, sizeof(t->kstack), 0);
	t->kstack_len = len > 0 ? len / sizeof(__u64) : 0;
	bpf_seq_write(seq, t, sizeof(*t));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
