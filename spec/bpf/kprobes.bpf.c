// SPDX-License-Identifier: GPL-2.0
/* kprobe-family sections that auto-attach (spec/unavailable_spec.lua):
 * where kprobes are missing, obj:attach() and prog:attach() must say why. */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

__u64 hits = 0;

SEC("kprobe/do_nanosleep")
int on_nanosleep(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("ksyscall/getppid")
int BPF_KSYSCALL(on_getppid)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}
