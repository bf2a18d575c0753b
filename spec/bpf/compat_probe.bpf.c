// SPDX-License-Identifier: GPL-2.0
/* One tiny program per attach kind that third-party objects use and that a
 * kernel may lack. spec/compat/probe.lua loads and attaches each one alone to
 * learn what this kernel offers, the way the tools built on libbpf probe
 * before they choose which of their programs to load. The targets are
 * functions every kernel with BPF has (net/bpf/test_run.c, the VFS). */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_nanosleep")
int probe_kprobe(void *ctx)
{
	return 0;
}

SEC("kretprobe/do_nanosleep")
int probe_kretprobe(void *ctx)
{
	return 0;
}

SEC("fentry/bpf_fentry_test1")
int BPF_PROG(probe_fentry, int a)
{
	return 0;
}

SEC("fexit/bpf_fentry_test1")
int BPF_PROG(probe_fexit, int a, int ret)
{
	return 0;
}

SEC("fmod_ret/bpf_modify_return_test")
int BPF_PROG(probe_fmod_ret, int a, int *b, int ret)
{
	return ret;
}

SEC("lsm/file_open")
int BPF_PROG(probe_lsm, struct file *file)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(probe_tp_btf, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	return 0;
}
