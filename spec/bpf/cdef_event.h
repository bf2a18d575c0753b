/* cdef_event.h - the record cdef_event.bpf.c writes: declared here only and
 * used through a pointer on the BPF side, so clang puts it in no BTF; the
 * Lua side reads it through bpf.cdef of this header (spec/cdef_spec.lua). */
#ifndef SPEC_CDEF_EVENT_H
#define SPEC_CDEF_EVENT_H

#define TASK_COMM_LEN		16
#define MAX_FILENAME_LEN	127
#define PRIO_BITS		5
#define CPU_BITS		(16 - PRIO_BITS)

struct event {
	int pid;
	int ppid;
	unsigned exit_code;
	unsigned long long duration_ns;
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME_LEN];
	bool exit_event;
	__u16 prio : PRIO_BITS, cpu : CPU_BITS;
	union {
		__u32 addr_v4;
		__u8 addr_v6[16];
	};
	__s64 delta;
	__u32 seq;
};

#endif
