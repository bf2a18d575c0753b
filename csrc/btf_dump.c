/*
 * btf_dump.c - vmlinux.h made in process with libbpf's own BTF dumper, so
 * that bpf.compile needs neither bpftool nor kernel headers.
 *
 * The text is what `bpftool btf dump file ... format c` writes: a guard,
 * every type in id order (btf_dump emits what a type needs first), and
 * preserve_access_index on every struct and union so that plain field
 * accesses in BPF C are CO-RE relocated.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btf_dump.h"

/* The dumper prints through a callback: the text grows in a malloc'ed
 * buffer (a Lua buffer could raise inside libbpf, leaking the dumper). */
struct dump_text {
	char *p;
	size_t len, cap;
	int err;
};

static void dump_text_printf(void *ctx, const char *fmt, va_list args)
{
	struct dump_text *t = ctx;
	va_list again;
	int n;

	if (t->err)
		return;
	va_copy(again, args);
	n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0,
		      fmt, args);
	if (n < 0) {
		t->err = EINVAL;
	} else if (!t->p || (size_t)n >= t->cap - t->len) {
		size_t cap = t->cap ? t->cap : 1 << 20;
		char *p;

		while (cap - t->len <= (size_t)n)
			cap *= 2;
		p = realloc(t->p, cap);
		if (!p) {
			t->err = ENOMEM;
		} else {
			t->p = p;
			t->cap = cap;
			vsnprintf(t->p + t->len, t->cap - t->len, fmt, again);
			t->len += (size_t)n;
		}
	} else {
		t->len += (size_t)n;
	}
	va_end(again);
}

static void dump_text_puts(struct dump_text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dump_text_printf(t, fmt, ap);
	va_end(ap);
}

/* Dump every type of `btf` into `t`; returns 0 or a positive errno. */
static int btf_dump_all(struct btf *btf, struct dump_text *t)
{
	struct btf_dump *d;
	__u32 id, n;
	int err = 0;

	d = btf_dump__new(btf, dump_text_printf, t, NULL);
	if (!d)
		return lbpf_errno(-errno);
	dump_text_puts(t, "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n"
		       "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
		       "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
		       "#endif\n\n");
	n = btf__type_cnt(btf);
	for (id = 1; id < n && !err && !t->err; id++)
		err = btf_dump__dump_type(d, id);
	dump_text_puts(t, "\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
		       "#pragma clang attribute pop\n#endif\n\n"
		       "#endif /* __VMLINUX_H__ */\n");
	btf_dump__free(d);
	if (err)
		return lbpf_errno(err);
	return t->err;
}

int lbpf_btf_dump_c(lua_State *L)
{
	const char *path = luaL_optstring(L, 1, "/sys/kernel/btf/vmlinux");
	struct dump_text t = {0};
	struct btf *btf;
	int err;

	errno = 0;
	btf = btf__parse(path, NULL);
	err = libbpf_get_error(btf);
	if (!btf || err)
		return lbpf_push_error(L, err ? -err : (errno ? errno : EINVAL),
				       "reading BTF '%s' failed", path);
	err = btf_dump_all(btf, &t);
	btf__free(btf);
	if (err) {
		free(t.p);
		return lbpf_push_error(L, err, "dumping BTF '%s' as C failed", path);
	}
	/* lua_pushlstring raises only when memory runs out (t.p then leaks) */
	lua_pushlstring(L, t.p ? t.p : "", t.len);
	free(t.p);
	return 1;
}
