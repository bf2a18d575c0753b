/*
 * btf_dump.h - vmlinux.h from kernel BTF, in process (btf_dump.c), for
 * bpf.compile (cc.c).
 */
#ifndef LBPF_BTF_DUMP_H
#define LBPF_BTF_DUMP_H

#include "lbpf.h"

/* cc.btf_dump_c([path]) -> the C text of every type of the BTF file at
 * `path` (default /sys/kernel/btf/vmlinux), as `bpftool btf dump file PATH
 * format c` prints it; or nil, message, errno. */
int lbpf_btf_dump_c(lua_State *L);

#endif
