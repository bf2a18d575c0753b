// SPDX-License-Identifier: GPL-2.0
/* Ring buffer records whose type is declared only in cdef_event.h and used
 * here through a pointer: not in this object's BTF (spec/cdef_spec.lua
 * checks that, then decodes them through bpf.cdef of the header). Run by
 * test_run with {count, start}: record i gets seq = start + i and fields
 * computed from seq, which the spec recomputes. */
#include "common.h"
#include "cdef_event.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} rb SEC(".maps");

struct args {
	__u32 count;
	__u32 start;
};

static long emit_one(__u32 i, struct args *a)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	__u32 seq = a->start + i;

	if (!e)
		return 1;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = 1000 + seq;
	e->ppid = -(int)seq - 1;
	e->exit_code = 0xfffffff0u + (seq & 7);
	e->duration_ns = 0x100000000ULL * seq + 7;
	__builtin_memcpy(e->comm, "cdef-task\0\0\0\0\0\0", TASK_COMM_LEN);
	__builtin_memcpy(e->filename, "/usr/bin/cdef\0\0", 16);
	e->exit_event = seq & 1;
	e->prio = seq & 31;
	e->cpu = (seq * 3) & 0x7ff;
	e->addr_v4 = 0x0a000001 + seq;
	e->delta = -(__s64)seq * 1000;
	e->seq = seq;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("syscall")
int emit(struct args *ctx)
{
	struct args a = *ctx;
	__u64 n = ctx->count;

	/* a register of its own: else clang passes the copy's 64-bit word
	 * (start in its high half) and bpf_loop refuses that many loops */
	asm volatile("" : "+r"(n));
	return bpf_loop(n, emit_one, &a, 0);
}

char LICENSE[] SEC("license") = "GPL";
