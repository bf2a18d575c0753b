/* iter_task.h - the record iter_task.bpf.c writes per process with
 * bpf_seq_write; spec/attach_spec.lua decodes link:read{type=} through the
 * object's BTF and through bpf.cdef of this header. */
#ifndef SPEC_ITER_TASK_H
#define SPEC_ITER_TASK_H

#define TASK_COMM_LEN 16

struct task_rec {
	__s32 pid;
	__s32 ppid;
	__u64 threads;
	char comm[TASK_COMM_LEN];
	__u8 kthread : 1, pad : 7;
};

#endif
