// SPDX-License-Identifier: GPL-2.0
/* Ring buffer records of every member kind the decoders handle, for
 * spec/ringbuf_shapes_spec.lua: `echo` (a syscall program run by test_run)
 * copies the record given as its context into the ring buffer, so the spec
 * chooses every byte and the record still comes from the kernel's ring. */
#include "common.h"

enum level { LOW = -2, MID = 0, HIGH = 7 };

struct pair {
	__u16 a;
	__s16 b;
};

/* 96 bytes */
struct kinds {
	__u8 u8;
	__s8 s8;
	__u16 u16;
	__s16 s16;
	bool flag;
	char tag[1];
	__u32 u32;
	__s32 s32;
	__u64 u64;
	__s64 s64;
	enum level lvl;
	unsigned int bu : 3;
	int bs : 5;
	unsigned int bhi : 24;
	char name[12];
	struct pair pair;
	__u32 arr[3];
	double d;
	struct kinds *self;
	char full[8];        /* no NUL: all 8 bytes */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} records SEC(".maps");

SEC("syscall")
int echo(struct kinds *ctx)
{
	struct kinds *e = bpf_ringbuf_reserve(&records, sizeof(*e), 0);

	if (!e)
		return 1;
	*e = *ctx;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* keep the record type in the object's BTF for type= lookups */
struct kinds _kinds_type = {};

char LICENSE[] SEC("license") = "GPL";
