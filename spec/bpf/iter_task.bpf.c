// SPDX-License-Identifier: GPL-2.0
/* A task iterator writing one fixed-size struct task_rec per process (not
 * text), for link:read{type=}: the spec finds its own lua5.4 process among
 * the records. `trailer` (settable live, .bss) makes the last call append
 * that many extra bytes (1..7): a partial record link:read must refuse. */
#include "common.h"
#include "iter_task.h"

/* a global of the record type puts it in the object's BTF */
struct task_rec last_rec;
__u32 trailer;

SEC("iter/task")
int dump_task_recs(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	static const char junk[8];
	struct task_rec r = {};

	if (!task) {
		/* the end of the pass */
		__u32 n = trailer & 7;

		if (n)
			bpf_seq_write(seq, junk, n);
		return 0;
	}
	if (task->pid != task->tgid)
		return 0;
	r.pid = task->tgid;
	r.ppid = BPF_CORE_READ(task, real_parent, tgid);
	r.threads = BPF_CORE_READ(task, signal, nr_threads);
	r.kthread = !!(task->flags & 0x00200000 /* PF_KTHREAD */);
	__builtin_memcpy(r.comm, task->comm, TASK_COMM_LEN);
	last_rec = r;
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
