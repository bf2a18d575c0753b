// SPDX-License-Identifier: GPL-2.0
/* spec/libbpf_version_spec.lua: a raw tracepoint program that records the BPF
 * cookie of the link it runs through (raw_tp cookies: libbpf 1.5's
 * bpf_program__attach_raw_tracepoint_opts, kernel 6.10). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 seen_cookie;
__u64 hits;

SEC("raw_tp/sys_enter")
int raw_cookie(void *ctx)
{
	seen_cookie = bpf_get_attach_cookie(ctx);
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
