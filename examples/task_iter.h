/* task_iter.h - the record task_iter.bpf.c writes per thread with
 * bpf_seq_write, as in libbpf-bootstrap's task_iter. Used there only
 * through a pointer (a map value of this size), so in no BTF:
 * task_iter.lua decodes link:read's records through bpf.cdef of this file. */
#ifndef EXAMPLES_TASK_ITER_H
#define EXAMPLES_TASK_ITER_H

#define TASK_COMM_LEN 16
#define MAX_STACK_LEN 127

struct task_info {
	pid_t pid;
	pid_t tid;
	__u32 state;
	char comm[TASK_COMM_LEN];
	int kstack_len;
	__u64 kstack[MAX_STACK_LEN];
};

#endif
