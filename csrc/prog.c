/*
 * prog.c - `libbpf.program`: attributes, pre-load setters, the verifier log,
 * the attach functions and test_run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const char *prog_name(const struct lbpf_prog *p)
{
	return p->prog ? bpf_program__name(p->prog) : p->name;
}

static const char *prog_section(const struct lbpf_prog *p)
{
	return p->prog ? bpf_program__section_name(p->prog) : p->section;
}

static __u32 prog_type(const struct lbpf_prog *p)
{
	return p->prog ? (__u32)bpf_program__type(p->prog) : p->type;
}

/* The program must be loaded for attach/test_run. */
static int loaded_fd(lua_State *L, struct lbpf_prog *p, const char *what)
{
	int fd = lbpf_prog_fd(p);

	if (fd < 0)
		luaL_error(L, "libbpf.program: %s: program '%s' is not loaded%s",
			   what, prog_name(p), p->owner && !p->owner->loaded
			   ? " (call obj:load())" : " (autoload is off)");
	return fd;
}

/* Setters act on libbpf's program: only before load. */
static struct lbpf_prog *check_settable(lua_State *L, const char *what)
{
	struct lbpf_prog *p = lbpf_check_prog(L, 1);

	if (p->owner && p->owner->loaded)
		luaL_error(L, "libbpf.program: %s: program '%s' is already "
			   "loaded (call it before obj:load())", what,
			   prog_name(p));
	if (!p->prog && strcmp(what, "set_type") != 0)
		luaL_error(L, "libbpf.program: %s: program '%s' is not part of "
			   "a libbpf object", what, prog_name(p));
	return p;
}

static int setter_result(lua_State *L, struct lbpf_prog *p, int err,
			 const char *what)
{
	if (err)
		return lbpf_push_error(L, lbpf_errno(err),
				       "%s of program '%s' failed", what,
				       prog_name(p));
	lua_settop(L, 1);
	return 1;
}

static int l_set_autoload(lua_State *L)
{
	struct lbpf_prog *p = check_settable(L, "set_autoload");

	luaL_checktype(L, 2, LUA_TBOOLEAN);
	return setter_result(L, p, bpf_program__set_autoload(p->prog,
			     lua_toboolean(L, 2)), "set_autoload");
}

static int l_set_autoattach(lua_State *L)
{
	struct lbpf_prog *p = check_settable(L, "set_autoattach");

	luaL_checktype(L, 2, LUA_TBOOLEAN);
	bpf_program__set_autoattach(p->prog, lua_toboolean(L, 2));
	lua_settop(L, 1);
	return 1;
}

static int l_set_type(lua_State *L)
{
	struct lbpf_prog *p = check_settable(L, "set_type");
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
	return setter_result(L, p, bpf_program__set_type(p->prog,
			     (enum bpf_prog_type)type), "set_type");
}

/* prog:set_attach_target([fd | program], name) */
static int l_set_attach_target(lua_State *L)
{
	struct lbpf_prog *p = check_settable(L, "set_attach_target");
	int fd = 0;

	if (lua_type(L, 2) == LUA_TNUMBER)
		fd = (int)lua_tointeger(L, 2);
	else if (!lua_isnil(L, 2))
		fd = loaded_fd(L, lbpf_check_prog(L, 2), "set_attach_target");
	return setter_result(L, p, bpf_program__set_attach_target(p->prog, fd,
			     luaL_optstring(L, 3, NULL)), "set_attach_target");
}

static int l_set_log_level(lua_State *L)
{
	struct lbpf_prog *p = check_settable(L, "set_log_level");
	lua_Integer level = luaL_checkinteger(L, 2);

	luaL_argcheck(L, level >= 0 && level <= 7, 2, "log level is 0..7");
	return setter_result(L, p, bpf_program__set_log_level(p->prog,
			     (__u32)level), "set_log_level");
}

/* prog:log() -> the verifier log of the last load, or nil */
static int l_log(lua_State *L)
{
	struct lbpf_prog *p = luaL_checkudata(L, 1, LBPF_PROG);

	if (!p->log)
		return 0;
	lua_pushlstring(L, p->log, p->log_len);
	return 1;
}

/* ---- attach ------------------------------------------------------------------ */

/* Wrap the result of a bpf_program__attach_*() call. */
static int push_attach_result(lua_State *L, struct bpf_link *link,
			      const char *kind)
{
	struct lbpf_prog *p = lua_touserdata(L, 1);
	long err = libbpf_get_error(link);

	if (!link || err)
		return lbpf_push_error(L, err ? (int)-err : errno,
				       "attach '%s' to %s failed",
				       prog_name(p), kind);
	lbpf_push_link(L, 1, link, kind);
	return 1;
}

static struct bpf_program *attachable(lua_State *L, const char *what)
{
	struct lbpf_prog *p = lbpf_check_prog(L, 1);

	loaded_fd(L, p, what);
	if (!p->prog)
		luaL_error(L, "libbpf.program: %s: program '%s' has no libbpf "
			   "handle", what, prog_name(p));
	return p->prog;
}

/* prog:attach(): by section name, as libbpf's auto-attach does */
static int l_attach(lua_State *L)
{
	struct lbpf_prog *p = lbpf_check_prog(L, 1);
	struct bpf_link *link;

	loaded_fd(L, p, "attach");
	link = p->prog ? bpf_program__attach(p->prog) :
	       lbpf_attach_by_section(p); /* fd-backed: attach.c */
	if (!link && errno == EOPNOTSUPP)
		return lbpf_push_error(L, EOPNOTSUPP, "attach '%s' failed: "
			"section '%s' does not say where to attach (use an "
			"attach_* method)", prog_name(p), prog_section(p));
	return push_attach_result(L, link, prog_section(p));
}

/* prog:attach_tracepoint(category, name) */
static int l_attach_tracepoint(lua_State *L)
{
	struct bpf_program *prog = attachable(L, "attach_tracepoint");
	const char *cat = luaL_checkstring(L, 2);
	const char *name = luaL_checkstring(L, 3);
	struct bpf_link *link = bpf_program__attach_tracepoint(prog, cat, name);

	lua_pushfstring(L, "tracepoint %s/%s", cat, name);
	return push_attach_result(L, link, lua_tostring(L, -1));
}

/* prog:attach_raw_tracepoint(name) */
static int l_attach_raw_tracepoint(lua_State *L)
{
	struct bpf_program *prog = attachable(L, "attach_raw_tracepoint");
	const char *name = luaL_checkstring(L, 2);
	struct bpf_link *link = bpf_program__attach_raw_tracepoint(prog, name);

	lua_pushfstring(L, "raw_tracepoint %s", name);
	return push_attach_result(L, link, lua_tostring(L, -1));
}

/* prog:attach_uprobe{path=, func= | offset=, pid=, retprobe=, cookie=}
 * `path` may be a library name ("libc.so.6"): libbpf searches for it. */
static int l_attach_uprobe(lua_State *L)
{
	static const char *const keys[] = {"path", "func", "offset", "pid",
					   "retprobe", "cookie", NULL};
	struct bpf_program *prog = attachable(L, "attach_uprobe");
	LIBBPF_OPTS(bpf_uprobe_opts, opts);
	const char *path;
	lua_Integer offset, pid;
	struct bpf_link *link;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_uprobe", keys);
	path = lbpf_opt_string(L, 2, "path", NULL);
	if (!path)
		luaL_argerror(L, 2, "attach_uprobe needs 'path'");
	opts.func_name = lbpf_opt_string(L, 2, "func", NULL);
	offset = lbpf_opt_integer(L, 2, "offset", 0);
	if (!opts.func_name && !offset)
		luaL_argerror(L, 2, "attach_uprobe needs 'func' or 'offset'");
	pid = lbpf_opt_integer(L, 2, "pid", -1);
	opts.retprobe = lbpf_opt_boolean(L, 2, "retprobe", 0);
	opts.bpf_cookie = (__u64)lbpf_opt_integer(L, 2, "cookie", 0);
	link = bpf_program__attach_uprobe_opts(prog, (pid_t)pid, path,
					       (size_t)offset, &opts);
	lua_pushfstring(L, "%s %s:%s", opts.retprobe ? "uretprobe" : "uprobe",
			path, opts.func_name ? opts.func_name : "offset");
	return push_attach_result(L, link, lua_tostring(L, -1));
}

/* ---- test_run ------------------------------------------------------------------ */

/* prog:test_run{data=, ctx=, ["repeat"]=, data_out=, ctx_out=, flags=, cpu=}
 * -> {retval=, duration_ns=, data=, ctx=} | nil, msg, errno */
static int l_test_run(lua_State *L)
{
	static const char *const keys[] = {"data", "ctx", "repeat", "data_out",
					   "ctx_out", "flags", "cpu", NULL};
	struct lbpf_prog *p = lbpf_check_prog(L, 1);
	int fd = loaded_fd(L, p, "test_run");
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
				       prog_name(p));
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
		lua_pushstring(L, prog_name(p));
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

static int l_gc(lua_State *L)
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

static int l_tostring(lua_State *L)
{
	struct lbpf_prog *p = luaL_checkudata(L, 1, LBPF_PROG);

	if (p->owner && p->owner->closed) {
		lua_pushstring(L, "libbpf.program (closed)");
		return 1;
	}
	lua_pushfstring(L, "libbpf.program(%s, %s, section=%s, fd=%d)",
			prog_name(p), lbpf_prog_type_name(prog_type(p)),
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
	static const luaL_Reg meta[] = {
		{"__gc", l_gc},
		{"__tostring", l_tostring},
		{NULL, NULL}
	};
	static const luaL_Reg methods[] = {
		{"set_autoload", l_set_autoload},
		{"set_autoattach", l_set_autoattach},
		{"set_type", l_set_type},
		{"set_attach_target", l_set_attach_target},
		{"set_log_level", l_set_log_level},
		{"log", l_log},
		{"attach", l_attach},
		{"attach_tracepoint", l_attach_tracepoint},
		{"attach_raw_tracepoint", l_attach_raw_tracepoint},
		{"attach_uprobe", l_attach_uprobe},
		{"test_run", l_test_run},
		{NULL, NULL}
	};

	lbpf_new_class(L, LBPF_PROG, meta, methods, prog_get);
}
