/*
 * attach.c - what every attach family (attach_trace.c, attach_net.c,
 * attach_uprobe.c) shares: the loaded program they attach, links made from
 * a fd-backed program, the link handle made before the attach and filled
 * after it (or `nil, msg, errno`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
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

/* A kernel link fd from `prog_fd` to `target_fd`, for fd-backed programs
 * (no libbpf handle to ask); -1 with errno set. */
int lbpf_attach_create_link(int prog_fd, int target_fd,
			    enum bpf_attach_type type)
{
	return bpf_link_create(prog_fd, target_fd, type, NULL);
}

int lbpf_attach_prepare(lua_State *L)
{
	lbpf_link_new(L, 1);
	return lua_gettop(L);
}

/* The attach failed (errno `err`): the handle goes, the error comes. */
static int attach_failed(lua_State *L, int lidx, int err, const char *kind)
{
	struct lbpf_prog *p = lua_touserdata(L, 1);

	lbpf_link_discard(L, lidx);
	return lbpf_push_error(L, err ? err : EINVAL, "attach '%s' to %s failed",
			       lbpf_prog_name(p), kind);
}

int lbpf_attach_result(lua_State *L, int lidx, struct bpf_link *link,
		       const char *kind)
{
	int err = link ? (int)-libbpf_get_error(link) : errno;

	if (!link || err)
		return attach_failed(L, lidx, err, kind);
	lbpf_link_set(lua_touserdata(L, lidx), link, -1, kind);
	lua_pushvalue(L, lidx);
	return 1;
}

int lbpf_attach_fd_result(lua_State *L, int lidx, int fd, const char *kind)
{
	if (fd < 0)
		return attach_failed(L, lidx, errno, kind);
	lbpf_link_set(lua_touserdata(L, lidx), NULL, fd, kind);
	lua_pushvalue(L, lidx);
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

/* ---- USDT spec layout --------------------------------------------------- */

/* libbpf's USDT support writes one spec per attach point into the object's
 * __bpf_usdt_specs map, in its own layout, which must be the struct
 * __bpf_usdt_spec of the usdt.bpf.h the program was compiled with: 12
 * argument specs of 16 bytes (24 from libbpf 1.7, which added SIB
 * addressing), a u64 cookie and a short count. An object built with another
 * libbpf's usdt.bpf.h has another value size, and its program would read
 * its arguments wrong (as 0) without any error. */
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 7)
#define USDT_ARG_SPEC_SIZE 24
#else
#define USDT_ARG_SPEC_SIZE 16
#endif
#define USDT_SPEC_SIZE ((12 * USDT_ARG_SPEC_SIZE + 8 + 2 + 7) / 8 * 8)

const char *lbpf_usdt_mismatch(const struct lbpf_prog *p, int any_section,
			       char *buf, size_t n)
{
	struct bpf_map *specs;
	__u32 have;

	if (!p->prog || !p->owner || !p->owner->obj)
		return NULL;
	if (!any_section &&
	    strncmp(bpf_program__section_name(p->prog), "usdt/", 5) != 0)
		return NULL;
	specs = bpf_object__find_map_by_name(p->owner->obj, "__bpf_usdt_specs");
	if (!specs || (have = bpf_map__value_size(specs)) == USDT_SPEC_SIZE)
		return NULL;
	snprintf(buf, n, "object '%s' was built with a usdt.bpf.h whose USDT "
		 "spec is %u bytes, libbpf %d.%d writes %d: rebuild it with "
		 "the BPF headers of libbpf %d.%d",
		 bpf_object__name(p->owner->obj), have, LIBBPF_MAJOR_VERSION,
		 LIBBPF_MINOR_VERSION, USDT_SPEC_SIZE, LIBBPF_MAJOR_VERSION,
		 LIBBPF_MINOR_VERSION);
	return buf;
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
	int n = lua_gettop(L); /* the arguments, below the busy mark */

	if (p && p->owner && !p->owner->closed)
		lbpf_object_busy(L, p->owner, 1);
	return lbpf_print_call(L, n);
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
