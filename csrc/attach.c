/*
 * attach.c - what every attach family (attach_trace.c, attach_net.c,
 * attach_uprobe.c) shares: the loaded program they attach, links made from
 * a fd-backed program, the result pushed as a link or `nil, msg, errno`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include "attach.h"
#include "handles.h"
#include "link.h"
#include "print.h"

/* The loaded program at index 1: a libbpf program or a fd-backed one (an
 * object in iproute2's convention); the attach kinds that only need the
 * program's fd take either. */
struct lbpf_prog *lbpf_attach_loaded_prog(lua_State *L, const char *what)
{
	struct lbpf_prog *p = lbpf_check_prog(L, 1);

	lbpf_prog_loaded_fd(L, p, what);
	return p;
}

/* The program at index 1, loaded and with a libbpf handle. */
struct bpf_program *lbpf_attachable(lua_State *L, const char *what)
{
	struct lbpf_prog *p = lbpf_attach_loaded_prog(L, what);

	if (!p->prog)
		luaL_error(L, "libbpf.program: %s: program '%s' has no libbpf "
			   "handle (it comes from a %s object)", what,
			   lbpf_prog_name(p), p->owner ? p->owner->format : "kernel");
	return p->prog;
}

/* A kernel bpf_link from `prog_fd` to `target_fd`, for fd-backed programs
 * (no libbpf handle to ask); NULL with errno set. */
struct bpf_link *lbpf_attach_create_link(int prog_fd, int target_fd,
				    enum bpf_attach_type type)
{
	int fd = bpf_link_create(prog_fd, target_fd, type, NULL);

	return fd < 0 ? NULL : lbpf_link_from_fd(fd);
}

/* Push a link for `link` or `nil, msg, errno`; `kind` names the hook. */
int lbpf_attach_result(lua_State *L, struct bpf_link *link,
			    const char *kind)
{
	struct lbpf_prog *p = lua_touserdata(L, 1);
	int err = link ? (int)-libbpf_get_error(link) : errno;

	if (!link || err)
		return lbpf_push_error(L, err ? err : EINVAL,
				       "attach '%s' to %s failed",
				       lbpf_prog_name(p), kind);
	lbpf_push_link(L, 1, link, kind);
	return 1;
}

/* ifname or ifindex at `idx` (value on the stack) -> ifindex; raises */
int lbpf_check_ifindex(lua_State *L, int idx, const char *what)
{
	unsigned int ifindex;
	const char *name;

	if (lua_type(L, idx) == LUA_TNUMBER) {
		lua_Integer i = luaL_checkinteger(L, idx);

		luaL_argcheck(L, i > 0, idx, "ifindex must be positive");
		return (int)i;
	}
	name = lua_tostring(L, idx);
	if (!name)
		luaL_error(L, "%s: interface name or index expected, got %s",
			   what, luaL_typename(L, idx));
	ifindex = if_nametoindex(name);
	if (!ifindex)
		luaL_error(L, "%s: no network interface '%s'", what, name);
	return (int)ifindex;
}

/* ---- the guard around every attach method -------------------------------------
 * Every prog:attach* runs inside one print frame (libbpf's messages reach
 * the Lua printer after the attach returns) with the program's object
 * marked busy (an option's __index or the printer cannot close it while
 * the attach holds its program). The method itself is upvalue 1, called
 * with the original arguments so it sees the stack it expects. */
static int attach_guarded(lua_State *L)
{
	struct lbpf_prog *p = luaL_testudata(L, 1, LBPF_PROG);
	int n = lua_gettop(L), frame, i;

	if (p && p->owner && !p->owner->closed)
		lbpf_object_busy(L, p->owner, 1);
	frame = lbpf_print_enter(L);
	lua_pushvalue(L, lua_upvalueindex(1));
	for (i = 1; i <= n; i++)
		lua_pushvalue(L, i);
	lua_call(L, n, LUA_MULTRET);
	n = lua_gettop(L) - frame;
	lbpf_print_leave(L, frame);
	return n;
}

void lbpf_attach_guard_methods(lua_State *L, const char *cls)
{
	int methods;

	luaL_getmetatable(L, cls);
	lua_getfield(L, -1, "__index");
	lua_getupvalue(L, -1, 1);          /* the methods table */
	methods = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, methods)) {
		const char *name = lua_tostring(L, -2);

		if (lua_iscfunction(L, -1) && strncmp(name, "attach", 6) == 0) {
			lua_pushcclosure(L, attach_guarded, 1);
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, methods);    /* same key: next() goes on */
		} else {
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 3);
}
