/*
 * link.c - `libbpf.link`: an attachment. A link made from an object's program
 * sits in that object's `links` set, so dropping the Lua variable never
 * detaches; it detaches on link:destroy(), when the object is closed or
 * collected, or never once pinned and disconnected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "handles.h"
#include "link.h"
#include "print.h"

/* Destroy the libbpf link (detaching unless disconnected) and run the
 * extra teardown (e.g. remove a qdisc we created). Idempotent. */
void lbpf_link_release(struct lbpf_link *l)
{
	if (!l->link && !l->detach)
		return;
	if (l->link)
		bpf_link__destroy(l->link);
	else if (!l->disconnected)
		l->detach(l);
	l->link = NULL;
	l->detach = NULL;
	if (l->cleanup)
		l->cleanup(l);
	l->cleanup = NULL;
}

/* Wrap a link fd as a libbpf bpf_link: libbpf 1.1 can only open links by
 * path, so pin it for a moment in bpffs (names there
 * may not contain dots) and open that. Takes `fd`. */
struct bpf_link *lbpf_link_from_fd(int fd)
{
	char path[128];
	struct bpf_link *link;
	int err;

	snprintf(path, sizeof(path), "/sys/fs/bpf/lua_libbpf_tmp_link_%d_%d",
		 (int)getpid(), fd);
	err = bpf_obj_pin(fd, path);
	err = err ? errno : 0;
	close(fd);
	if (err) {
		errno = err;
		return NULL;
	}
	link = bpf_link__open(path);
	if (libbpf_get_error(link)) {
		err = (int)-libbpf_get_error(link);
		unlink(path);
		errno = err;
		return NULL;
	}
	bpf_link__unpin(link); /* removes the file, forgets the path */
	return link;
}

/* Drop the link from its object's `links` set (link at idx). */
static void forget_link(lua_State *L, int idx)
{
	struct lbpf_link *l = lua_touserdata(L, idx);

	if (!l->owner || l->owner->closed)
		return;
	lua_getiuservalue(L, idx, 1);
	lbpf_object_field(L, -1, "links");
	if (lua_istable(L, -1)) {
		lua_pushvalue(L, idx);
		lua_pushnil(L);
		lua_rawset(L, -3);
	}
	lua_pop(L, 2);
}

struct lbpf_link *lbpf_push_link(lua_State *L, int progidx,
				 struct bpf_link *link, const char *kind)
{
	struct lbpf_link *l;
	int idx;

	progidx = progidx ? lua_absindex(L, progidx) : 0; /* 0: no program */
	l = lua_newuserdatauv(L, sizeof(*l), 1);
	memset(l, 0, sizeof(*l));
	l->link = link;
	snprintf(l->kind, sizeof(l->kind), "%s", kind ? kind : "link");
	luaL_setmetatable(L, LBPF_LINK);
	idx = lua_gettop(L);
	if (progidx && lua_getiuservalue(L, progidx, 1) == LUA_TUSERDATA) {
		l->owner = lua_touserdata(L, -1);
		lbpf_object_field(L, -1, "links");
		lua_pushvalue(L, idx);
		lua_pushboolean(L, 1);
		lua_rawset(L, -3);
		lua_pop(L, 1);
		lua_setiuservalue(L, idx, 1);
	} else if (progidx) {
		lua_pop(L, 1);
	}
	return l;
}

/* pin/info/... need a kernel bpf_link; tc/XDP-by-netlink/socket ones
 * have none */
static struct lbpf_link *check_bpf_link(lua_State *L, const char *what)
{
	struct lbpf_link *l = lbpf_check_link(L, 1);

	if (!l->link)
		luaL_error(L, "libbpf.link: %s: %s is not a kernel bpf_link "
			   "(only destroy() applies)", what, l->kind);
	return l;
}

/* link:destroy() -> true | nil, msg, errno; detaches (unless disconnected) */
static int link_destroy(lua_State *L)
{
	struct lbpf_link *l = luaL_checkudata(L, 1, LBPF_LINK);

	if (l->link || l->detach) {
		int frame;

		forget_link(L, 1);
		frame = lbpf_print_enter(L);
		lbpf_link_release(l);
		lbpf_print_leave(L, frame);
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* link:detach(): ask the kernel to detach now; the handle stays valid */
static int link_detach(lua_State *L)
{
	struct lbpf_link *l = check_bpf_link(L, "detach");
	int err = bpf_link__detach(l->link);

	if (err)
		return lbpf_push_error(L, lbpf_errno(err), "detach of link %s failed",
				       l->kind);
	lua_pushboolean(L, 1);
	return 1;
}

/* link:disconnect(): destroy() will then close the fd without detaching
 * (a pinned link keeps running after the script exits) */
static int link_disconnect(lua_State *L)
{
	struct lbpf_link *l = check_bpf_link(L, "disconnect");

	bpf_link__disconnect(l->link);
	l->disconnected = 1;
	lua_settop(L, 1);
	return 1;
}

static int link_pin(lua_State *L)
{
	struct lbpf_link *l = check_bpf_link(L, "pin");
	const char *path = luaL_checkstring(L, 2);
	int err = bpf_link__pin(l->link, path);

	if (err)
		return lbpf_push_error(L, lbpf_errno(err), "pin of link %s at '%s' "
				       "failed", l->kind, path);
	lua_settop(L, 1);
	return 1;
}

static int link_unpin(lua_State *L)
{
	struct lbpf_link *l = check_bpf_link(L, "unpin");
	int err = bpf_link__unpin(l->link);

	if (err)
		return lbpf_push_error(L, lbpf_errno(err), "unpin of link %s failed",
				       l->kind);
	lua_settop(L, 1);
	return 1;
}

/* link:info() -> {id=, type=, prog_id=} */
static int link_info(lua_State *L)
{
	struct lbpf_link *l = check_bpf_link(L, "info");
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	const char *type;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_link__fd(l->link), &info, &len))
		return lbpf_push_error(L, errno, "info of link %s failed", l->kind);
	type = libbpf_bpf_link_type_str(info.type);
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, info.id);
	lua_setfield(L, -2, "id");
	lua_pushstring(L, type ? type : "unknown");
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, info.prog_id);
	lua_setfield(L, -2, "prog_id");
	return 1;
}

static int link_get(lua_State *L)
{
	struct lbpf_link *l = luaL_checkudata(L, 1, LBPF_LINK);
	const char *k = lua_tostring(L, 2);

	if (!k)
		return 0;
	if (strcmp(k, "fd") == 0) {
		lua_pushinteger(L, l->link ? bpf_link__fd(l->link) : -1);
		return 1;
	}
	if (strcmp(k, "kind") == 0) {
		lua_pushstring(L, l->kind);
		return 1;
	}
	if (strcmp(k, "pin_path") == 0 && l->link) {
		lua_pushstring(L, bpf_link__pin_path(l->link));
		return 1;
	}
	if (strcmp(k, "destroyed") == 0) {
		lua_pushboolean(L, l->link == NULL && l->detach == NULL);
		return 1;
	}
	return 0;
}

/* __gc runs only once the object (which holds owned links) is garbage too,
 * or for links that have no object: destroying is then right. */
static int link_gc(lua_State *L)
{
	lbpf_link_release(luaL_checkudata(L, 1, LBPF_LINK));
	return 0;
}

static int link_tostring(lua_State *L)
{
	struct lbpf_link *l = luaL_checkudata(L, 1, LBPF_LINK);

	if (!l->link && !l->detach)
		lua_pushfstring(L, "libbpf.link(%s, destroyed)", l->kind);
	else if (!l->link)
		lua_pushfstring(L, "libbpf.link(%s)", l->kind);
	else
		lua_pushfstring(L, "libbpf.link(%s, fd=%d)", l->kind,
				bpf_link__fd(l->link));
	return 1;
}

/* link:read() -> the whole output of one pass of an iterator link */
static int link_read(lua_State *L)
{
	struct lbpf_link *l = lbpf_check_link(L, 1);
	luaL_Buffer b;
	int fd;

	if (!l->link)
		return luaL_error(L, "libbpf.link: read: %s is not an iterator",
				  l->kind);
	fd = bpf_iter_create(bpf_link__fd(l->link));
	if (fd < 0)
		return lbpf_push_error(L, errno, "read of %s failed (is it an "
				       "iterator link?)", l->kind);
	luaL_buffinit(L, &b);
	for (;;) {
		char *p = luaL_prepbuffer(&b);
		ssize_t n = read(fd, p, LUAL_BUFFERSIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			close(fd);
			return lbpf_push_error(L, err, "read of %s failed", l->kind);
		}
		if (n == 0)
			break;
		luaL_addsize(&b, (size_t)n);
	}
	close(fd);
	luaL_pushresult(&b);
	return 1;
}


void lbpf_open_link(lua_State *L)
{
	static const char *const fields[] = {
		"fd", "kind", "pin_path", "destroyed", NULL
	};
	static const luaL_Reg meta[] = {
		{"__gc", link_gc},
		{"__close", link_destroy},
		{"__tostring", link_tostring},
		{NULL, NULL}
	};
	static const luaL_Reg methods[] = {
		{"destroy", link_destroy},
		{"detach", link_detach},
		{"disconnect", link_disconnect},
		{"pin", link_pin},
		{"unpin", link_unpin},
		{"info", link_info},
		{"read", link_read},
		{NULL, NULL}
	};

	lbpf_new_class(L, LBPF_LINK, meta, methods, link_get);
	lbpf_class_fields(L, LBPF_LINK, fields);
}
