/*
 * prog.c - `libbpf.program`: attributes, pre-load setters, the verifier log,
 * prog:attach() and test_run; the attach_* methods come from the attach
 * families (attach_trace.c, attach_net.c, attach_uprobe.c), listed here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "handles.h"
#include "link.h"
#include "names.h"
#include "probe.h"
#include "prog.h"

static const char *prog_section(const struct lbpf_prog *p)
{
	return p->prog ? bpf_program__section_name(p->prog) : p->section;
}

static __u32 prog_type(const struct lbpf_prog *p)
{
	return p->prog ? (__u32)bpf_program__type(p->prog) : p->type;
}

/* Setters act on libbpf's program: only before load. */
static struct lbpf_prog *prog_check_settable(lua_State *L, const char *what)
{
	struct lbpf_prog *p = lbpf_check_prog(L, 1);

	/* set_type also changes fd-backed programs (legacy objects) */
	lbpf_check_settable(L, p->owner, p->prog || strcmp(what, "set_type") == 0,
			    LBPF_PROG, what, lbpf_prog_name(p), "loaded");
	return p;
}

static int prog_setter_result(lua_State *L, struct lbpf_prog *p, int err,
			      const char *what)
{
	return lbpf_setter_result(L, err, what, "program", lbpf_prog_name(p));
}

static int prog_set_autoload(lua_State *L)
{
	struct lbpf_prog *p = prog_check_settable(L, "set_autoload");

	luaL_checktype(L, 2, LUA_TBOOLEAN);
	return prog_setter_result(L, p, bpf_program__set_autoload(p->prog,
			     lua_toboolean(L, 2)), "set_autoload");
}

static int prog_set_autoattach(lua_State *L)
{
	struct lbpf_prog *p = prog_check_settable(L, "set_autoattach");

	luaL_checktype(L, 2, LUA_TBOOLEAN);
	bpf_program__set_autoattach(p->prog, lua_toboolean(L, 2));
	lua_settop(L, 1);
	return 1;
}

static int prog_set_type(lua_State *L)
{
	struct lbpf_prog *p = prog_check_settable(L, "set_type");
	const char *name = luaL_checkstring(L, 2);
	int type = lbpf_prog_type_from_name(name);

	if (type < 0)
		luaL_argerror(L, 2, lua_pushfstring(L, "unknown program type '%s'",
						    name));
	if (!p->prog) {
		p->type = (__u32)type;
		lua_settop(L, 1);
		return 1;
	}
	return prog_setter_result(L, p, bpf_program__set_type(p->prog,
			     (enum bpf_prog_type)type), "set_type");
}

/* prog:set_attach_target([fd | program], name) */
static int prog_set_attach_target(lua_State *L)
{
	struct lbpf_prog *p = prog_check_settable(L, "set_attach_target");
	int fd = 0;

	if (lua_type(L, 2) == LUA_TNUMBER)
		fd = (int)lua_tointeger(L, 2);
	else if (!lua_isnil(L, 2))
		fd = lbpf_prog_loaded_fd(L, lbpf_check_prog(L, 2), "set_attach_target");
	return prog_setter_result(L, p, bpf_program__set_attach_target(p->prog, fd,
			     luaL_optstring(L, 3, NULL)), "set_attach_target");
}

static int prog_set_log_level(lua_State *L)
{
	struct lbpf_prog *p = prog_check_settable(L, "set_log_level");
	lua_Integer level = luaL_checkinteger(L, 2);

	luaL_argcheck(L, level >= 0 && level <= 7, 2, "log level is 0..7");
	return prog_setter_result(L, p, bpf_program__set_log_level(p->prog,
			     (__u32)level), "set_log_level");
}

/* prog:log() -> the verifier log of the last load, or nil */
static int prog_log(lua_State *L)
{
	struct lbpf_prog *p = luaL_checkudata(L, 1, LBPF_PROG);

	if (!p->log)
		return 0;
	lua_pushlstring(L, p->log, p->log_len);
	return 1;
}

/* ---- attach ------------------------------------------------------------------ */

/* prog:attach(): by section name, as libbpf's auto-attach does */
static int prog_attach(lua_State *L)
{
	struct lbpf_prog *p = lbpf_check_prog(L, 1);
	struct bpf_link *link = NULL;
	const char *why;
	int lidx, fd = -1;
	char buf[256];

	lbpf_prog_loaded_fd(L, p, "attach");
	why = lbpf_section_unavailable(prog_section(p));
	if (why)
		return lbpf_push_error(L, EOPNOTSUPP, "attach '%s' (%s) failed: "
				       "kprobes are not available: %s",
				       lbpf_prog_name(p), prog_section(p), why);
	if ((why = lbpf_usdt_mismatch(p, 0, buf, sizeof(buf))))
		return lbpf_push_error(L, EINVAL, "attach '%s' failed: %s",
				       lbpf_prog_name(p), why);
	lidx = lbpf_attach_prepare(L);
	if (p->prog)
		link = bpf_program__attach(p->prog);
	else
		fd = lbpf_attach_by_section(p); /* fd-backed: attach_trace.c */
	if (!link && fd < 0 && errno == EOPNOTSUPP) {
		lbpf_link_discard(L, lidx);
		return lbpf_push_error(L, EOPNOTSUPP, "attach '%s' failed: "
			"section '%s' does not say where to attach (use an "
			"attach_* method)", lbpf_prog_name(p), prog_section(p));
	}
	return p->prog ? lbpf_attach_result(L, lidx, link, prog_section(p)) :
	       lbpf_attach_fd_result(L, lidx, fd, prog_section(p));
}

/* ---- test_run ------------------------------------------------------------------ */

/* prog:test_run{data=, ctx=, ["repeat"]=, data_out=, ctx_out=, flags=, cpu=}
 * -> {retval=, duration_ns=, data=, ctx=} | nil, msg, errno */
static int prog_test_run(lua_State *L)
{
	static const char *const keys[] = {"data", "ctx", "repeat", "data_out",
					   "ctx_out", "flags", "cpu", NULL};
	struct lbpf_prog *p = lbpf_check_prog(L, 1);
	int fd = lbpf_prog_loaded_fd(L, p, "test_run");
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	size_t dlen = 0, clen = 0;
	int want_data, want_ctx, err;
	char *data_out = NULL, *ctx_out = NULL;

	lbpf_check_options(L, 2, "test_run", keys);
	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "data");
		opts.data_in = lua_isnil(L, -1) ? NULL : luaL_checklstring(L, -1, &dlen);
		lua_getfield(L, 2, "ctx");
		opts.ctx_in = lua_isnil(L, -1) ? NULL : luaL_checklstring(L, -1, &clen);
	}
	opts.data_size_in = (__u32)dlen;
	opts.ctx_size_in = (__u32)clen;
	opts.repeat = (int)lbpf_opt_integer(L, 2, "repeat", 0);
	opts.flags = (__u32)lbpf_opt_flags(L, 2, "flags", LBPF_TEST_RUN_FLAGS,
					   "test_run", 0);
	opts.cpu = (__u32)lbpf_opt_integer(L, 2, "cpu", 0);
	want_data = lbpf_opt_boolean(L, 2, "data_out", 0);
	want_ctx = lbpf_opt_boolean(L, 2, "ctx_out", 0);
	if (want_data) {
		/* room for XDP/skb programs that grow the packet */
		opts.data_size_out = (__u32)dlen + 4096;
		opts.data_out = data_out = lua_newuserdatauv(L, opts.data_size_out, 0);
	}
	if (want_ctx && clen) {
		opts.ctx_size_out = (__u32)clen;
		opts.ctx_out = ctx_out = lua_newuserdatauv(L, clen, 0);
	}
	err = bpf_prog_test_run_opts(fd, &opts);
	if (err)
		return lbpf_push_error(L, lbpf_errno(err), "test_run of '%s' failed",
				       lbpf_prog_name(p));
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, opts.retval);
	lua_setfield(L, -2, "retval");
	lua_pushinteger(L, opts.duration);
	lua_setfield(L, -2, "duration_ns");
	if (data_out) {
		lua_pushlstring(L, data_out, opts.data_size_out);
		lua_setfield(L, -2, "data");
	}
	if (ctx_out) {
		lua_pushlstring(L, ctx_out, opts.ctx_size_out);
		lua_setfield(L, -2, "ctx");
	}
	return 1;
}

/* ---- metamethods ------------------------------------------------------------------ */

static int prog_get(lua_State *L)
{
	struct lbpf_prog *p = lbpf_check_prog(L, 1);
	const char *k = lua_tostring(L, 2);

	if (!k)
		return 0;
	if (strcmp(k, "name") == 0)
		lua_pushstring(L, lbpf_prog_name(p));
	else if (strcmp(k, "section") == 0)
		lua_pushstring(L, prog_section(p));
	else if (strcmp(k, "type") == 0)
		lua_pushstring(L, lbpf_prog_type_name(prog_type(p)));
	else if (strcmp(k, "fd") == 0)
		lua_pushinteger(L, lbpf_prog_fd(p));
	else if (strcmp(k, "autoload") == 0)
		lua_pushboolean(L, p->prog ? bpf_program__autoload(p->prog) : 1);
	else if (strcmp(k, "autoattach") == 0 && p->prog)
		lua_pushboolean(L, bpf_program__autoattach(p->prog));
	else if (strcmp(k, "log_level") == 0 && p->prog)
		lua_pushinteger(L, bpf_program__log_level(p->prog));
	else if (strcmp(k, "insn_count") == 0 && p->prog)
		lua_pushinteger(L, (lua_Integer)bpf_program__insn_cnt(p->prog));
	else
		return 0;
	return 1;
}

static int prog_gc(lua_State *L)
{
	struct lbpf_prog *p = luaL_checkudata(L, 1, LBPF_PROG);

	free(p->log);
	p->log = NULL;
	if (!p->owner && p->fd >= 0) { /* programs opened by id */
		close(p->fd);
		p->fd = -1;
	}
	if (!p->owner) {
		free(p->name);
		free(p->section);
		p->name = p->section = NULL;
	}
	return 0;
}

static int prog_tostring(lua_State *L)
{
	struct lbpf_prog *p = luaL_checkudata(L, 1, LBPF_PROG);

	if (p->owner && p->owner->closed) {
		lua_pushstring(L, "libbpf.program (closed)");
		return 1;
	}
	lua_pushfstring(L, "libbpf.program(%s, %s, section=%s, fd=%d)",
			lbpf_prog_name(p), lbpf_prog_type_name(prog_type(p)),
			prog_section(p) ? prog_section(p) : "?", lbpf_prog_fd(p));
	return 1;
}

struct lbpf_prog *lbpf_push_prog(lua_State *L, int objidx,
				 struct bpf_program *prog)
{
	struct lbpf_prog *p;

	objidx = objidx ? lua_absindex(L, objidx) : 0;
	p = lua_newuserdatauv(L, sizeof(*p), 1);
	memset(p, 0, sizeof(*p));
	p->prog = prog;
	p->fd = -1;
	luaL_setmetatable(L, LBPF_PROG);
	if (objidx) {
		p->owner = lua_touserdata(L, objidx);
		lua_pushvalue(L, objidx);
		lua_setiuservalue(L, -2, 1);
	}
	return p;
}

void lbpf_open_prog(lua_State *L)
{
	static const char *const fields[] = {
		"name", "section", "type", "fd", "autoload", "autoattach", "log_level", "insn_count", NULL
	};
	static const luaL_Reg meta[] = {
		{"__gc", prog_gc},
		{"__tostring", prog_tostring},
		{NULL, NULL}
	};
	static const luaL_Reg methods[] = {
		{"set_autoload", prog_set_autoload},
		{"set_autoattach", prog_set_autoattach},
		{"set_type", prog_set_type},
		{"set_attach_target", prog_set_attach_target},
		{"set_log_level", prog_set_log_level},
		{"log", prog_log},
		{"attach", prog_attach},
		{"test_run", prog_test_run},
		{NULL, NULL}
	};

	/* the attach kinds, one file per family */
	static const luaL_Reg *const tables[] = {
		methods, lbpf_attach_trace_methods, lbpf_attach_net_methods,
		lbpf_attach_uprobe_methods, NULL
	};

	lbpf_new_class_tables(L, LBPF_PROG, meta, tables, prog_get);
	lbpf_class_fields(L, LBPF_PROG, fields);
}
