// Typed maps and globals for spec/btf_spec.lua and spec/maps_spec.lua.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum color { COLOR_RED = 1, COLOR_GREEN = 2, COLOR_NONE = -1 };

struct inner {
	__u16 a;
	__s8 b;
};

struct event {
	char comm[16];
	__u32 pid;
	__s32 delta;
	__u64 big;
	_Bool flag;
	enum color color;
	unsigned int lo : 3, mid : 7;
	int sbits : 5;
	struct inner in;
	__u16 hist[4];
	union {
		__u32 as_u32;
		__u8 bytes[4];
	} u;
	struct {
		__u32 x, y;
	};
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, 4);
	__uint(value_size, 8);
} untyped SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 8);
	__type(value, __u32);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, 1);
		__type(key, __u32);
		__type(value, __u32);
	});
} outer SEC(".maps");

const volatile __u32 multiplier = 1;    /* .rodata: steers the program */
const volatile char tag[8] = "none";    /* .rodata */
__u64 runs = 0;                         /* .bss: counts runs */
__s32 data_val = 7;                     /* .data */
char label[8] SEC(".data.custom") = "abc";

SEC("raw_tp/sys_enter")
int fill_event(void *ctx)
{
	__u32 key = 1, zero = 0;
	struct event ev = {};
	__u64 *hits;

	__sync_fetch_and_add(&runs, 1);
	hits = bpf_map_lookup_elem(&percpu_hits, &zero);
	if (hits)
		*hits += multiplier;
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	ev.pid = bpf_get_current_pid_tgid() >> 32;
	ev.delta = -5 * (int)multiplier;
	ev.big = 0xffffffffffffffffULL;
	ev.flag = 1;
	ev.color = COLOR_GREEN;
	ev.lo = 5;
	ev.mid = 100;
	ev.sbits = -3;
	ev.in.a = 65535;
	ev.in.b = -2;
	ev.hist[0] = 1;
	ev.hist[3] = 4;
	ev.u.as_u32 = 0x04030201;
	ev.x = 10;
	ev.y = data_val;
	bpf_map_update_elem(&events, &key, &ev, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
