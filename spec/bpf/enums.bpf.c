// SPDX-License-Identifier: GPL-2.0
/* Enum-typed records, map keys and values for spec/record_spec.lua and
 * spec/repl_spec.lua (issue 19: where a value is displayed, an enum shows
 * by name). A syscall program, run by test_run, sends one record of each
 * kind its context lists into a ring buffer; the maps are filled from Lua. */
#include "common.h"

enum ev_kind { EV_EXEC = 1, EV_EXIT = 2, EV_FORK = 3, EV_CLONE = 3 /* alias */ };

/* signed: BTF marks it, and -1 decodes as -1 */
enum ev_sign { SIGN_NEG = -1, SIGN_ZERO = 0, SIGN_POS = 1 };

/* one byte, unsigned, a value above 127 */
enum __attribute__((packed)) ev_prio { PRIO_LOW = 0, PRIO_HIGH = 200 };

struct ev_inner {
	enum ev_sign sign;
	__u32 n;
};

struct exec_event {
	__u32 pid;
	enum ev_kind kind;
	enum ev_prio prio;
	struct ev_inner in;
	enum ev_kind hist[2];
	enum ev_kind bits : 4;
	unsigned int mode : 4;
	char comm[8];
};

/* a flat record: :dump prints a map of them as columns */
struct proc {
	__u32 pid;
	enum ev_kind kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

/* pid -> kind */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, enum ev_kind);
} kinds SEC(".maps");

/* kind -> count */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, enum ev_kind);
	__type(value, __u64);
} by_kind SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, enum ev_kind);
} last_kind SEC(".maps");

/* test_run context: the kinds of up to 4 records (0 ends the list) */
struct args {
	__u32 kind[4];
};

SEC("syscall")
int emit(struct args *ctx)
{
	int i;

	for (i = 0; i < 4; i++) {
		struct exec_event *e;
		__u32 kind = ctx->kind[i];

		if (!kind)
			break;
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e)
			return 1;
		__builtin_memset(e, 0, sizeof(*e));
		e->pid = 4242;
		e->kind = kind;
		e->prio = PRIO_HIGH;
		e->in.sign = SIGN_NEG;
		e->in.n = i;
		e->hist[0] = EV_EXEC;
		e->hist[1] = kind;
		e->bits = EV_EXIT;
		e->mode = 5;
		__builtin_memcpy(e->comm, "sh\0\0\0\0\0", 8);
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

/* keep the record type in the object's BTF for type= lookups */
struct exec_event _exec_event_type = {};

char LICENSE[] SEC("license") = "GPL";
