/* bootstrap.h - the record bootstrap.bpf.c sends to bootstrap.lua, as in
 * libbpf-bootstrap's bootstrap. The BPF side uses struct event only through
 * the pointer bpf_ringbuf_reserve returns, so clang puts it in no BTF: the
 * Lua side decodes it through bpf.cdef of this file. */
#ifndef EXAMPLES_BOOTSTRAP_H
#define EXAMPLES_BOOTSTRAP_H

#define TASK_COMM_LEN	 16
#define MAX_FILENAME_LEN 127

struct event {
	int pid;
	int ppid;
	unsigned exit_code;
	unsigned long long duration_ns;
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME_LEN];
	bool exit_event;
};

#endif
