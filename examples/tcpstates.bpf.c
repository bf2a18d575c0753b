// SPDX-License-Identifier: GPL-2.0
/* tcpstates: TCP state changes with the time spent in the previous state,
 * from the sock/inet_sock_set_state tracepoint. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tcpstates.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_CLOSE 7

const volatile bool filter_by_sport = false;
const volatile bool filter_by_dport = false;
const volatile unsigned short target_family = 0;

/* -L/-D take comma-separated lists, as libbpf-tools': the ports are keys */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u16);
} sports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u16);
} dports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} timestamps SEC(".maps");

/* keeps struct event in the object's BTF, so that the Lua side can decode
 * ring buffer records by name: bpf.ringbuf(map, cb, {type = "struct event"}) */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 skaddr = (__u64)ctx->skaddr, ts, *start;
	struct event *ev;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (target_family && target_family != ctx->family)
		return 0;
	__u16 sport = ctx->sport, dport = ctx->dport;

	if (filter_by_sport && !bpf_map_lookup_elem(&sports, &sport))
		return 0;
	if (filter_by_dport && !bpf_map_lookup_elem(&dports, &dport))
		return 0;

	ts = bpf_ktime_get_ns();
	start = bpf_map_lookup_elem(&timestamps, &skaddr);
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (ev) {
		ev->skaddr = skaddr;
		ev->ts_us = ts / 1000;
		ev->delta_us = start ? (ts - *start) / 1000 : 0;
		ev->pid = bpf_get_current_pid_tgid() >> 32;
		ev->oldstate = ctx->oldstate;
		ev->newstate = ctx->newstate;
		ev->family = ctx->family;
		ev->sport = ctx->sport;
		ev->dport = ctx->dport;
		bpf_get_current_comm(&ev->task, sizeof(ev->task));
		if (ctx->family == AF_INET) {
			/* a helper copy: the verifier refuses the variable
			 * ctx offset a memcpy from ctx compiles to */
			bpf_probe_read_kernel(ev->saddr, 4, ctx->saddr);
			bpf_probe_read_kernel(ev->daddr, 4, ctx->daddr);
		} else {
			bpf_probe_read_kernel(ev->saddr, 16, ctx->saddr_v6);
			bpf_probe_read_kernel(ev->daddr, 16, ctx->daddr_v6);
		}
		bpf_ringbuf_submit(ev, 0);
	}
	if (ctx->newstate == TCP_CLOSE)
		bpf_map_delete_elem(&timestamps, &skaddr);
	else
		bpf_map_update_elem(&timestamps, &skaddr, &ts, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
