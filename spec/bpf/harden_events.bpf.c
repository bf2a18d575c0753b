// SPDX-License-Identifier: GPL-2.0
/* Records with large char arrays for spec/harden_events_spec.lua: the
 * syscall program copies its test_run context (a whole `struct big`, built
 * in Lua) into the ring buffer, so the spec controls every byte. */
#include "common.h"

struct big {
	__u32 head;
	char path[4096];     /* a size that needs more than 12 bits */
	__u32 mid;
	char name[5000];     /* and one whose low 12 bits are 904 */
	__u32 tail;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} bigring SEC(".maps");

SEC("syscall")
int emit_big(struct big *ctx)
{
	struct big *e = bpf_ringbuf_reserve(&bigring, sizeof(*e), 0);

	if (!e)
		return 1;
	if (bpf_probe_read_kernel(e, sizeof(*e), ctx)) {
		bpf_ringbuf_discard(e, 0);
		return 2;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* a type nested 30 deep (the kernel refuses BTF nested 32 deep): decoding it needs more Lua stack than a C
 * function is given, so a poll called at the stack's limit fails in the
 * decoder (the perf buffer spec of "decodes under protection") */
struct d0 { __u32 x; };
struct d1 { struct d0 a; };
struct d2 { struct d1 a; };
struct d3 { struct d2 a; };
struct d4 { struct d3 a; };
struct d5 { struct d4 a; };
struct d6 { struct d5 a; };
struct d7 { struct d6 a; };
struct d8 { struct d7 a; };
struct d9 { struct d8 a; };
struct d10 { struct d9 a; };
struct d11 { struct d10 a; };
struct d12 { struct d11 a; };
struct d13 { struct d12 a; };
struct d14 { struct d13 a; };
struct d15 { struct d14 a; };
struct d16 { struct d15 a; };
struct d17 { struct d16 a; };
struct d18 { struct d17 a; };
struct d19 { struct d18 a; };
struct d20 { struct d19 a; };
struct d21 { struct d20 a; };
struct d22 { struct d21 a; };
struct d23 { struct d22 a; };
struct d24 { struct d23 a; };
struct d25 { struct d24 a; };
struct d26 { struct d25 a; };
struct d27 { struct d26 a; };
struct d28 { struct d27 a; };
struct d29 { struct d28 a; };
struct d30 { struct d29 a; };

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} deep_samples SEC(".maps");

/* run by test_run: one sample of struct d30 (x = 7) on the current CPU */
SEC("raw_tp/lua_libbpf_deep")
int emit_deep(struct bpf_raw_tracepoint_args *ctx)
{
	struct d30 d = {};

	d.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.x = 7;
	bpf_perf_event_output(ctx, &deep_samples, BPF_F_CURRENT_CPU, &d, sizeof(d));
	return 0;
}

struct d30 _deep_type = {};

/* keep the record type in the object's BTF for type= lookups */
struct big _big_type = {};

char LICENSE[] SEC("license") = "GPL";
