// SPDX-License-Identifier: GPL-2.0
/* opensnoop: open()/openat() calls with their path and result. The path
 * pointer is kept per thread between sys_enter and sys_exit. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "opensnoop.h"

const volatile int targ_pid = 0;
const volatile int targ_tgid = 0;
const volatile unsigned int targ_uid = (unsigned int)-1;
const volatile bool targ_failed = false;

struct args_t {
	const char *fname;
	int flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct args_t);
} start SEC(".maps");

/* keeps struct event in the object's BTF, so that the Lua side can decode
 * ring buffer records by name: bpf.ringbuf(map, cb, {type = "struct event"}) */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline bool trace_allowed(__u32 tgid, __u32 pid)
{
	unsigned int uid;

	if (targ_tgid && targ_tgid != tgid)
		return false;
	if (targ_pid && targ_pid != pid)
		return false;
	if (targ_uid != (unsigned int)-1) {
		uid = (unsigned int)bpf_get_current_uid_gid();
		if (targ_uid != uid)
			return false;
	}
	return true;
}

static __always_inline int enter(const char *fname, int flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, pid = (__u32)id;
	struct args_t args = { .fname = fname, .flags = flags };

	if (trace_allowed(tgid, pid))
		bpf_map_update_elem(&start, &pid, &args, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int handle_open_enter(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *)ctx->args[0], (int)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int handle_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *)ctx->args[1], (int)ctx->args[2]);
}

static __always_inline int leave(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = (__u32)id;
	struct args_t *ap;
	struct event *ev;
	int ret = ctx->ret;

	ap = bpf_map_lookup_elem(&start, &pid);
	if (!ap)
		return 0;
	if (targ_failed && ret >= 0)
		goto cleanup;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		goto cleanup;
	ev->ts = bpf_ktime_get_ns();
	ev->pid = id >> 32;
	ev->uid = (unsigned int)bpf_get_current_uid_gid();
	ev->ret = ret;
	ev->flags = ap->flags;
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
	bpf_probe_read_user_str(&ev->fname, sizeof(ev->fname), ap->fname);
	bpf_ringbuf_submit(ev, 0);
cleanup:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_open")
int handle_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int handle_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx);
}

char LICENSE[] SEC("license") = "GPL";
