// SPDX-License-Identifier: GPL-2.0
/* uprobes on lbpf_uprobe_tick of spec/usdt/usdt_target
 * (spec/uprobe_target_spec.lua). The auto-attach sections name
 * /proc/self/exe, which in the spec is lua5.4 (no such function):
 * obj:attach{uprobe_path=} retargets them to the test binary. on_tick_off
 * is attached by hand at an offset into the function; each program keeps
 * the user address it fired at, so the spec checks the offset's place. */
#include "common.h"

/* BPF_KPROBE/BPF_KRETPROBE read a uprobe's registers the same way; libbpf 1.1
 * (LIBBPF=system) has no BPF_UPROBE/BPF_URETPROBE */

__u64 entry_hits, ret_hits, off_hits;
__u64 entry_ip, off_ip;
long last_arg, last_ret;

SEC("uprobe//proc/self/exe:lbpf_uprobe_tick")
int BPF_KPROBE(on_tick_auto, long i)
{
	entry_hits++;
	entry_ip = PT_REGS_IP(ctx);
	last_arg = i;
	return 0;
}

SEC("uretprobe//proc/self/exe:lbpf_uprobe_tick")
int BPF_KRETPROBE(on_tick_ret, long ret)
{
	ret_hits++;
	last_ret = ret;
	return 0;
}

SEC("uprobe")
int on_tick_off(struct pt_regs *ctx)
{
	off_hits++;
	off_ip = PT_REGS_IP(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
