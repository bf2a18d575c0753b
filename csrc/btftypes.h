/*
 * btftypes.h - the one rule for naming a BTF type (btftypes.c) and the one
 * cached kernel BTF. Leaf: calls only libbpf.
 */
#ifndef LBPF_BTFTYPES_H
#define LBPF_BTFTYPES_H

#include "lbpf.h"

/* Type id of `name` in `btf`, or <0 (btf may be NULL). The one rule, used
 * by ringbuf/perfbuf type=, btf:find, btf:type and the codecs:
 *  - "struct x", "union x", "enum x" (enum or enum64), "typedef x",
 *    "func x": that kind only (extra spaces after the word are allowed);
 *  - a bare name: a typedef, integer, struct, union, enum, enum64 or float
 *    of that name, in that order, then any other kind. */
__s32 lbpf_btf_find(const struct btf *btf, const char *name);

/* The running kernel's BTF, loaded once per process and never freed (it is
 * shared by bpf.btf_vmlinux(), the codecs and bpf.probe); NULL with errno
 * set when the kernel has none. */
const struct btf *lbpf_kernel_btf(void);

#endif
