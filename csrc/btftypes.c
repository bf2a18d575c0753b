/*
 * btftypes.c - type lookup by C spelling and the cached kernel BTF.
 *
 * Before this file there were three lookup rules (events, btf:type and the
 * codecs), so `bpf.ringbuf{type=}`, btf:find() and btf:type() could resolve
 * one string differently; now they all call lbpf_btf_find.
 */
#include <errno.h>
#include <string.h>

#include "btftypes.h"

__s32 lbpf_btf_find(const struct btf *btf, const char *name)
{
	static const struct { const char *prefix; int kind, kind2; } tagged[] = {
		{ "struct ", BTF_KIND_STRUCT, -1 },
		{ "union ", BTF_KIND_UNION, -1 },
		{ "enum ", BTF_KIND_ENUM, BTF_KIND_ENUM64 },
		{ "typedef ", BTF_KIND_TYPEDEF, -1 },
		{ "func ", BTF_KIND_FUNC, -1 },
	};
	static const int plain[] = {
		BTF_KIND_TYPEDEF, BTF_KIND_INT, BTF_KIND_STRUCT, BTF_KIND_UNION,
		BTF_KIND_ENUM, BTF_KIND_ENUM64, BTF_KIND_FLOAT,
	};
	size_t i;
	__s32 id;

	if (!btf)
		return -ENOENT;
	for (i = 0; i < sizeof(tagged) / sizeof(tagged[0]); i++) {
		size_t len = strlen(tagged[i].prefix);
		if (strncmp(name, tagged[i].prefix, len))
			continue;
		name += len;
		while (*name == ' ')
			name++;
		id = btf__find_by_name_kind(btf, name, tagged[i].kind);
		if (id < 0 && tagged[i].kind2 >= 0)
			id = btf__find_by_name_kind(btf, name, tagged[i].kind2);
		return id;
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		id = btf__find_by_name_kind(btf, name, plain[i]);
		if (id > 0)
			return id;
	}
	return btf__find_by_name(btf, name);
}

/* Process-wide rather than a registry entry: the running kernel's BTF is
 * the same for every Lua state and read-only once parsed, and bpf.probe's
 * checks and load hints that need it run where no Lua state is at hand.
 * Parsing it costs tens of milliseconds, so it is done once. */
const struct btf *lbpf_kernel_btf(void)
{
	static struct btf *kbtf;
	static int err;

	if (!kbtf && !err) {
		struct btf *b = btf__load_vmlinux_btf();
		long e = libbpf_get_error(b);

		if (e || !b)
			err = e ? (int)-e : (errno ? errno : ENOENT);
		else
			kbtf = b;
	}
	if (!kbtf)
		errno = err;
	return kbtf;
}
