// SPDX-License-Identifier: GPL-2.0
/* bashreadline: the lines bash reads, from a uretprobe on readline().
 * The section names /bin/bash so obj:attach() works; bashreadline.lua
 * retargets it with obj:attach{uprobe_path=} when given another shell. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bashreadline.h"

const volatile int targ_tgid = 0;

/* keeps struct event in the object's BTF, so that the Lua side can decode
 * ring buffer records by name: bpf.ringbuf(map, cb, {type = "struct event"}) */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

SEC("uretprobe//bin/bash:readline")
int BPF_KRETPROBE(printret, const void *ret)
{
	struct event *ev;

	if (!ret)
		return 0;
	if (targ_tgid && targ_tgid != (int)(bpf_get_current_pid_tgid() >> 32))
		return 0;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return 0;
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
	bpf_probe_read_user_str(&ev->str, sizeof(ev->str), ret);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
