/*
 * btfcheck.h - the kernel's rules for a BTF type, checked before a codec is
 * compiled from it (btfcheck.c, issue 13 item 1). Leaf: calls only libbpf.
 */
#ifndef LBPF_BTFCHECK_H
#define LBPF_BTFCHECK_H

#include "lbpf.h"

/* Nesting bound shared by the check and the codec compiler (aggregate and
 * array levels; and hops through modifiers/typedefs in one chain). */
#define LBPF_BTF_MAX_DEPTH 32

/* 0 when type `id` of `btf`, and every type it contains by value, follows
 * the kernel's rules (sizes, member offsets and bitfields inside their
 * aggregate, array sizes without overflow, names inside the string section,
 * no loop, nesting at most LBPF_BTF_MAX_DEPTH); else -1 with the reason,
 * naming the offending type, in msg. */
int lbpf_btf_check_type(const struct btf *btf, __u32 id, char *msg,
			size_t msglen);

/* 1 when the object was loaded but the kernel did not take its BTF
 * (libbpf 1.1 then goes on without it: the user-space copy was never
 * checked by the kernel) */
int lbpf_btf_kernel_refused(const struct bpf_object *obj, int loaded);

#endif
