/*
 * attach_uprobe.c - the user-space family of program attach methods:
 * uprobes, USDT probes and iterators. prog.c lists
 * `lbpf_attach_uprobe_methods`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "attach.h"
#include "handles.h"

/* prog:attach_uprobe{path=, func= | offset=, pid=, retprobe=, cookie=}
 * `path` may be a library name ("libc.so.6"): libbpf searches for it. */
static int uprobe_attach_uprobe(lua_State *L)
{
	static const char *const keys[] = {"path", "func", "offset", "pid",
					   "retprobe", "cookie", NULL};
	struct bpf_program *prog = lbpf_attachable(L, "attach_uprobe");
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
	return lbpf_attach_result(L, link, lua_tostring(L, -1));
}

/* prog:attach_usdt{path=, provider=, name=, pid=, cookie=} */
static int uprobe_attach_usdt(lua_State *L)
{
	static const char *const keys[] = {"path", "provider", "name", "pid",
					   "cookie", NULL};
	struct bpf_program *prog = lbpf_attachable(L, "attach_usdt");
	LIBBPF_OPTS(bpf_usdt_opts, opts);
	const char *path, *provider, *name;
	pid_t pid;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_usdt", keys);
	path = lbpf_opt_string(L, 2, "path", NULL);
	provider = lbpf_opt_string(L, 2, "provider", NULL);
	name = lbpf_opt_string(L, 2, "name", NULL);
	if (!path || !provider || !name)
		luaL_argerror(L, 2, "attach_usdt needs 'path', 'provider' and "
			      "'name'");
	pid = (pid_t)lbpf_opt_integer(L, 2, "pid", -1);
	opts.usdt_cookie = (__u64)lbpf_opt_integer(L, 2, "cookie", 0);
	lua_pushfstring(L, "usdt %s:%s:%s", path, provider, name);
	return lbpf_attach_result(L, bpf_program__attach_usdt(prog, pid, path,
				provider, name, &opts), lua_tostring(L, -1));
}

/* ---- iterators ----------------------------------------------------------------- */

/* prog:attach_iter([{map=, pid=, tid=}]) */
static int uprobe_attach_iter(lua_State *L)
{
	static const char *const keys[] = {"map", "pid", "tid", NULL};
	struct bpf_program *prog = lbpf_attachable(L, "attach_iter");
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info;
	lua_Integer pid, tid;

	lbpf_check_options(L, 2, "attach_iter", keys);
	memset(&info, 0, sizeof(info));
	if (lua_istable(L, 2) && lua_getfield(L, 2, "map") != LUA_TNIL) {
		if (lua_type(L, -1) == LUA_TNUMBER)
			info.map.map_fd = (__u32)lua_tointeger(L, -1);
		else
			info.map.map_fd = (__u32)lbpf_map_fd(lbpf_check_map(L, -1));
		lua_pop(L, 1);
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	pid = lbpf_opt_integer(L, 2, "pid", 0);
	tid = lbpf_opt_integer(L, 2, "tid", 0);
	if (pid || tid) {
		/* `map` and `task` share the union */
		if (opts.link_info)
			luaL_argerror(L, 2, "attach_iter: give 'map' or "
				      "'pid'/'tid', not both");
		info.task.pid = (__u32)pid;
		info.task.tid = (__u32)tid;
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	lua_pushfstring(L, "iter %s", bpf_program__section_name(prog));
	return lbpf_attach_result(L, bpf_program__attach_iter(prog, &opts),
				lua_tostring(L, -1));
}

const luaL_Reg lbpf_attach_uprobe_methods[] = {
	{"attach_uprobe", uprobe_attach_uprobe},
	{"attach_usdt", uprobe_attach_usdt},
	{"attach_iter", uprobe_attach_iter},
	{NULL, NULL}
};
