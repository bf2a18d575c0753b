// SPDX-License-Identifier: GPL-2.0
/* spec/libbpf_version_spec.lua: an object built against another libbpf's
 * usdt.bpf.h. Its __bpf_usdt_specs map has the spec layout of libbpf 1.7's
 * header (argument specs of 24 bytes: SIB addressing added idx_reg_off and
 * scale_bitshift), where libbpf 1.1 to 1.6 write 16-byte ones: a program
 * reading them would take its arguments from the wrong bytes. The module
 * must refuse to attach its USDT programs. The maps are written out here
 * (as usdt.bpf.h of 1.7 declares them) instead of including a second copy
 * of the header. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct usdt_arg_spec_1_7 {
	__u64 val_off;
	__u32 arg_type;
	short reg_off;
	bool arg_signed;
	char arg_bitshift;
	short idx_reg_off;
	char scale_bitshift;
};

struct usdt_spec_1_7 {
	struct usdt_arg_spec_1_7 args[12];
	__u64 usdt_cookie;
	short arg_cnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, int);
	__type(value, struct usdt_spec_1_7);
} __bpf_usdt_specs SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, long);
	__type(value, __u32);
} __bpf_usdt_ip_to_spec_id SEC(".maps") __weak;

__u64 hits;

/* attached by attach_usdt */
SEC("usdt")
int on_tick(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

/* auto-attached by prog:attach() and obj:attach() (path from the checkout) */
SEC("usdt/spec/usdt/usdt_target:lua_libbpf:tick")
int on_tick_auto(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
