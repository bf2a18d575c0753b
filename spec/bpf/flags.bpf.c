// SPDX-License-Identifier: GPL-2.0
/* Flag enums for spec/enum_flags_spec.lua: where a value is displayed, a
 * combination of a flag enum's bits shows as their names joined with `|`
 * (F_READ|F_APPEND), next to enums that are not flags (a counting enum, a
 * signed one) whose unknown values keep showing as numbers. A syscall
 * program, run by test_run, sends one record per value its context lists
 * into a ring buffer; the maps are filled from Lua. */
#include "common.h"

/* flags: single bits, and a combination of them (an alias of all three) */
enum file_flags { F_READ = 1, F_WRITE = 2, F_APPEND = 4, F_ALL = 7 };

/* flags with a zero enumerator, declared high bit first */
enum ev_mode { M_NONE = 0, M_SYNC = 8, M_ASYNC = 1 };

/* not flags: it counts up (0, 1, 2), so 3 is no enumerator, not ST_RUN|ST_WAIT */
enum ev_state { ST_IDLE, ST_RUN, ST_WAIT };

/* not flags: a negative enumerator */
enum ev_sign2 { SG_NEG = -1, SG_ONE = 1, SG_TWO = 2, SG_FOUR = 4 };

struct flag_event {
	__u32 n;
	enum file_flags flags;
	enum ev_mode mode;
	enum ev_state state;
	enum ev_sign2 sign;
	enum file_flags list[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} flag_events SEC(".maps");

/* flags as a map key and a map value, for pretty.map and :dump */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, enum file_flags);
} open_modes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, enum file_flags);
	__type(value, __u64);
} by_flags SEC(".maps");

/* a flat record: :dump prints a map of them as columns */
struct flag_proc {
	__u32 pid;
	enum file_flags flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct flag_proc);
} flag_procs SEC(".maps");

/* test_run context: up to 8 records, each its flags, mode, state and sign
 * value (n = 0 records) */
struct flag_args {
	__u32 n;
	__u32 v[8][4];
};

SEC("syscall")
int emit_flags(struct flag_args *ctx)
{
	struct flag_args a;
	__u32 i;

	/* a syscall program's ctx is read at constant offsets only: copy it */
	__builtin_memcpy(&a, ctx, sizeof(a));
	for (i = 0; i < 8; i++) {
		struct flag_event *e;

		if (i >= a.n)
			break;
		e = bpf_ringbuf_reserve(&flag_events, sizeof(*e), 0);
		if (!e)
			return 1;
		e->n = i;
		e->flags = a.v[i][0];
		e->mode = a.v[i][1];
		e->state = a.v[i][2];
		e->sign = (int)a.v[i][3];
		e->list[0] = F_WRITE;
		e->list[1] = a.v[i][0];
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

/* keep the record type in the object's BTF for type= lookups */
struct flag_event _flag_event_type = {};

char LICENSE[] SEC("license") = "GPL";
