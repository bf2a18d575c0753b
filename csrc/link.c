/*
 * link.c - `libbpf.link`: an attachment. A link made from an object's program
 * sits in that object's `links` set, so dropping the Lua variable never
 * detaches; it detaches on link:destroy(), when the object is closed or
 * collected, or never once pinned and disconnected. A link of a program
 * without object (bpf.prog_from_id) sits in that program's own set and
 * lives as long as the program handle. Kernel links without a libbpf handle
 * are the handle's own fd (no temporary pins).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "btf.h"
#include "btftypes.h"
#include "codec.h"
#include "handles.h"
#include "link.h"
#include "pinpath.h"
#include "print.h"

/* Destroy the link (detaching unless disconnected) and run the extra
 * teardown (e.g. remove a qdisc we created). The link's fd is always closed:
 * a disconnected link stays only through its pin. Idempotent. */
void lbpf_link_release(struct lbpf_link *l)
{
	if (!lbpf_link_live(l)) {
		free(l->pin_path); /* a handle whose open failed */
		l->pin_path = NULL;
		return;
	}
	if (l->link) {
		int fd = bpf_link__fd(l->link);

		/* libbpf leaves a disconnected link's fd open */
		bpf_link__destroy(l->link);
		if (l->disconnected && fd >= 0)
			close(fd);
	} else if (l->fd >= 0) {
		close(l->fd); /* the last fd of an unpinned link: detaches */
	} else if (!l->disconnected) {
		l->detach(l);
	}
	l->link = NULL;
	l->fd = -1;
	l->detach = NULL;
	free(l->pin_path);
	l->pin_path = NULL;
	if (l->cleanup)
		l->cleanup(l);
	l->cleanup = NULL;
}

/* The set that keeps the link at `idx` alive: its object's `links`, or the
 * `links` table of a program without object; pushed (nil if none). */
static void push_link_set(lua_State *L, int idx)
{
	struct lbpf_link *l = lua_touserdata(L, idx);

	lua_getiuservalue(L, idx, 1);
	if (l->owner)
		lbpf_object_field(L, -1, "links");
	else if (lua_type(L, -1) == LUA_TUSERDATA)
		lua_getiuservalue(L, -1, 1); /* the program's own set */
	else
		lua_pushnil(L);
	lua_remove(L, -2);
}

/* Drop the link from the set that keeps it (link at idx). */
static void forget_link(lua_State *L, int idx)
{
	struct lbpf_link *l = lua_touserdata(L, idx);

	idx = lua_absindex(L, idx);
	if (l->owner && l->owner->closed)
		return;
	push_link_set(L, idx);
	if (lua_istable(L, -1)) {
		lua_pushvalue(L, idx);
		lua_pushnil(L);
		lua_rawset(L, -3);
	}
	lua_pop(L, 1);
}

void lbpf_link_discard(lua_State *L, int idx)
{
	forget_link(L, idx);
}

/* A program without object (bpf.prog_from_id) keeps its links in a table
 * in its user value: they live as long as the program handle, as an
 * object's links live as long as the object. Pushes that table. */
static void push_prog_links(lua_State *L, int progidx)
{
	if (lua_getiuservalue(L, progidx, 1) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setiuservalue(L, progidx, 1);
	}
}

struct lbpf_link *lbpf_link_new(lua_State *L, int progidx)
{
	struct lbpf_link *l;
	int idx;

	progidx = progidx ? lua_absindex(L, progidx) : 0; /* 0: no program */
	l = lua_newuserdatauv(L, sizeof(*l), 1);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	snprintf(l->kind, sizeof(l->kind), "link");
	luaL_setmetatable(L, LBPF_LINK);
	idx = lua_gettop(L);
	if (!progidx)
		return l;
	if (lua_getiuservalue(L, progidx, 1) == LUA_TUSERDATA) {
		l->owner = lua_touserdata(L, -1);
		lbpf_object_field(L, -1, "links");
	} else {
		lua_pop(L, 1);
		lua_pushvalue(L, progidx); /* the link holds its program */
		push_prog_links(L, progidx);
	}
	lua_pushvalue(L, idx);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	lua_setiuservalue(L, idx, 1);
	return l;
}

void lbpf_link_set(struct lbpf_link *l, struct bpf_link *link, int fd,
		   const char *kind)
{
	l->link = link;
	l->fd = link ? -1 : fd;
	snprintf(l->kind, sizeof(l->kind), "%s", kind ? kind : "link");
}

/* The kernel link's fd (libbpf's or our own). */
static int link_fd(const struct lbpf_link *l)
{
	return l->link ? bpf_link__fd(l->link) : l->fd;
}

/* pin/info/... need a kernel bpf_link; tc/XDP-by-netlink/socket ones
 * have none */
static struct lbpf_link *check_bpf_link(lua_State *L, const char *what)
{
	struct lbpf_link *l = lbpf_check_link(L, 1);

	if ((!l->link && l->fd < 0) || l->map_only)
		luaL_error(L, "libbpf.link: %s: %s is not a kernel bpf_link "
			   "(only destroy() applies)", what, l->kind);
	return l;
}

/* link:destroy() -> true; detaches (unless pinned and disconnected) and
 * closes the link's fd */
static int link_destroy(lua_State *L)
{
	struct lbpf_link *l = luaL_checkudata(L, 1, LBPF_LINK);

	if (lbpf_link_live(l)) {
		int frame;

		forget_link(L, 1);
		frame = lbpf_print_enter(L);
		lbpf_link_release(l);
		lbpf_print_leave(L, frame);
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* link:detach(): ask the kernel to detach now (BPF_LINK_DETACH); the
 * handle stays valid */
static int link_detach(lua_State *L)
{
	struct lbpf_link *l = check_bpf_link(L, "detach");
	int err = l->link ? bpf_link__detach(l->link) : bpf_link_detach(l->fd);

	if (err)
		return lbpf_push_error(L, lbpf_errno(err), "detach of link %s failed",
				       l->kind);
	lua_pushboolean(L, 1);
	return 1;
}

/* link:disconnect(): destroy() will then close the fd without detaching.
 * Only a pinned link outlives its fd: on an unpinned one it would mean
 * "attached, with nothing left to detach it", so it raises. */
static int link_disconnect(lua_State *L)
{
	struct lbpf_link *l = check_bpf_link(L, "disconnect");

	if (!l->pin_path)
		return luaL_error(L, "libbpf.link: disconnect: link %s is not "
				  "pinned (pin it first: an unpinned link detaches "
				  "when its fd closes)", l->kind);
	if (l->link)
		bpf_link__disconnect(l->link);
	l->disconnected = 1;
	lua_settop(L, 1);
	return 1;
}

/* link:pin(path): never through a symbolic link (pinpath.c) */
static int link_pin(lua_State *L)
{
	struct lbpf_link *l = check_bpf_link(L, "pin");
	const char *path = luaL_checkstring(L, 2);
	char msg[512], *copy;
	int err;

	if (l->pin_path)
		return lbpf_push_error(L, EBUSY, "pin of link %s at '%s' failed: "
				       "already pinned at '%s'", l->kind, path,
				       l->pin_path);
	copy = strdup(path); /* before the pin: no pin without its record */
	if (!copy)
		return luaL_error(L, "libbpf.link: pin: out of memory");
	err = lbpf_pin_fd(link_fd(l), path, 0, msg, sizeof(msg));
	if (err) {
		free(copy);
		return lbpf_push_error(L, -err, "pin of link %s failed: %s",
				       l->kind, msg);
	}
	l->pin_path = copy;
	lua_settop(L, 1);
	return 1;
}

static int link_unpin(lua_State *L)
{
	struct lbpf_link *l = check_bpf_link(L, "unpin");
	char msg[512];
	int err;

	if (!l->pin_path)
		return lbpf_push_error(L, EINVAL, "unpin of link %s failed: not "
				       "pinned", l->kind);
	err = lbpf_pin_unlink(l->pin_path, msg, sizeof(msg));
	if (err)
		return lbpf_push_error(L, -err, "unpin of link %s failed: %s",
				       l->kind, msg);
	free(l->pin_path);
	l->pin_path = NULL;
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
	if (bpf_obj_get_info_by_fd(link_fd(l), &info, &len))
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
		lua_pushinteger(L, l->link || l->fd >= 0 ? link_fd(l) : -1);
		return 1;
	}
	if (strcmp(k, "kind") == 0) {
		lua_pushstring(L, l->kind);
		return 1;
	}
	if (strcmp(k, "pin_path") == 0 && l->pin_path) {
		lua_pushstring(L, l->pin_path);
		return 1;
	}
	if (strcmp(k, "destroyed") == 0) {
		lua_pushboolean(L, !lbpf_link_live(l));
		return 1;
	}
	return 0;
}

/* __gc runs only once the object or program (which holds its links) is
 * garbage too, or for links that have neither: destroying is then right. */
static int link_gc(lua_State *L)
{
	lbpf_link_release(luaL_checkudata(L, 1, LBPF_LINK));
	return 0;
}

static int link_tostring(lua_State *L)
{
	struct lbpf_link *l = luaL_checkudata(L, 1, LBPF_LINK);

	if (!lbpf_link_live(l))
		lua_pushfstring(L, "libbpf.link(%s, destroyed)", l->kind);
	else if (!l->link && l->fd < 0)
		lua_pushfstring(L, "libbpf.link(%s)", l->kind);
	else
		lua_pushfstring(L, "libbpf.link(%s, fd=%d)", l->kind, link_fd(l));
	return 1;
}

/* link:update_map(map) -> link | nil, msg, errno: switch a struct_ops link
 * (from a `.struct_ops.link` map) to another struct_ops map of the same
 * kind, atomically (e.g. a new version of a congestion control) */
static int link_update_map(lua_State *L)
{
	struct lbpf_link *l = lbpf_check_link(L, 1);
	struct lbpf_map *m = lbpf_check_map(L, 2);

	if (!m->map || bpf_map__type(m->map) != BPF_MAP_TYPE_STRUCT_OPS)
		return luaL_error(L, "libbpf.link: update_map: map '%s' is not a "
				  "struct_ops map of a libbpf object",
				  m->map ? bpf_map__name(m->map) : m->name);
	lbpf_require_loaded(L, m->owner, "libbpf.link: update_map", 1);
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 3)
	if (!l->link || strncmp(l->kind, "struct_ops", 10) != 0)
		return luaL_error(L, "libbpf.link: update_map: %s is not a "
				  "struct_ops link", l->kind);
	int err = bpf_link__update_map(l->link, m->map);

	if (err)
		return lbpf_push_error(L, lbpf_errno(err), "update_map of link %s "
				       "to map '%s' failed%s", l->kind,
				       bpf_map__name(m->map), err == -EINVAL &&
				       strncmp(l->kind, "struct_ops.link", 15) ?
				       " (only a .struct_ops.link map makes "
				       "a link that can be updated)" : "");
	snprintf(l->kind, sizeof(l->kind), "struct_ops.link %s",
		 bpf_map__name(m->map));
	lua_settop(L, 1);
	return 1;
#else
	(void)l;
	return lbpf_needs_libbpf(L, "link:update_map", 1, 3);
#endif
}

/* Push the whole output of one pass of iterator link `l`, or push
 * `nil, msg, errno` and return 0. */
static int link_read_pass(lua_State *L, struct lbpf_link *l)
{
	luaL_Buffer b;
	int fd;

	if (!l->link && l->fd < 0)
		return luaL_error(L, "libbpf.link: read: %s is not an iterator",
				  l->kind);
	fd = bpf_iter_create(link_fd(l));
	if (fd < 0) {
		lbpf_push_error(L, errno, "read of %s failed (is it an "
				"iterator link?)", l->kind);
		return 0;
	}
	luaL_buffinit(L, &b);
	for (;;) {
		char *p = luaL_prepbuffer(&b);
		ssize_t n = read(fd, p, LUAL_BUFFERSIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			close(fd);
			lbpf_push_error(L, err, "read of %s failed", l->kind);
			return 0;
		}
		if (n == 0)
			break;
		luaL_addsize(&b, (size_t)n);
	}
	close(fd);
	luaL_pushresult(&b);
	return 1;
}

/* The codec of link:read's type= (index 4, a string): found in btf= (index
 * 3) when given, else in the BTF of the link's object, then among the
 * builtin integer names and the kernel's types (lbpf_codec_by_name). */
static const struct lbpf_codec *link_record_codec(lua_State *L,
						  struct lbpf_link *l)
{
	const char *tname = lua_tostring(L, 4);
	const struct btf *btf = NULL;
	const struct lbpf_codec *c;
	__s32 id;

	if (lua_isnil(L, 3)) {
		if (l->owner && !l->owner->closed && l->owner->obj)
			btf = bpf_object__btf(l->owner->obj);
		return lbpf_codec_by_name(L, btf, tname);
	}
	btf = lbpf_check_btf(L, 3);
	id = lbpf_btf_find(btf, tname);
	if (id <= 0)
		luaL_error(L, "libbpf.link: read: type '%s' is not in the given "
			   "btf", tname);
	c = lbpf_codec_get(L, btf, (__u32)id);
	if (!c)
		luaL_error(L, "libbpf.link: read: type '%s' cannot be decoded",
			   tname);
	return c;
}

/* Split the output at index 5 into records of codec `c` and push the list
 * of their values: an iterator writes whole records (bpf_seq_write of a
 * fixed-size struct), so bytes left over mean the type is not the one the
 * program writes. */
static int link_push_records(lua_State *L, const struct lbpf_codec *c)
{
	size_t len, size = lbpf_codec_size(c), i;
	const char *s = lua_tolstring(L, 5, &len);

	if (size == 0)
		return luaL_error(L, "libbpf.link: read: type '%s' has size 0",
				  lua_tostring(L, 4));
	if (len % size)
		return luaL_error(L, "libbpf.link: read: %d bytes are not whole "
				  "records of '%s' (%d bytes each): %d bytes "
				  "left over", (int)len, lua_tostring(L, 4),
				  (int)size, (int)(len % size));
	lua_createtable(L, (int)(len / size), 0);
	for (i = 0; i < len / size; i++) {
		lbpf_codec_decode(L, c, s + i * size, size);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* link:read([{type=, btf=}]) -> the whole output of one pass of an
 * iterator link: a string, or with type= the list of its records decoded */
static int link_read(lua_State *L)
{
	static const char *const keys[] = {"type", "btf", NULL};
	struct lbpf_link *l = lbpf_check_link(L, 1);
	const struct lbpf_codec *c;

	if (lua_isnoneornil(L, 2))
		return link_read_pass(L, l) ? 1 : 3;
	lbpf_check_options(L, 2, "libbpf.link: read", keys);
	lua_settop(L, 2);
	lua_getfield(L, 2, "btf");                             /* 3 */
	if (!lua_isnil(L, 3) && !luaL_testudata(L, 3, LBPF_BTF))
		return luaL_error(L, "libbpf.link: read: option 'btf' must be "
				  "a libbpf.btf, got %s", luaL_typename(L, 3));
	lua_pushstring(L, lbpf_opt_string(L, 2, "type", NULL)); /* 4 */
	if (lua_isnil(L, 4))
		return lua_isnil(L, 3) ? (link_read_pass(L, l) ? 1 : 3)
			: luaL_error(L, "libbpf.link: read: btf= needs type=");
	/* the options' metamethods may have destroyed the link */
	l = lbpf_check_link(L, 1);
	if (!link_read_pass(L, l))                             /* 5 */
		return 3;
	c = link_record_codec(L, l);
	return link_push_records(L, c);
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
		{"update_map", link_update_map},
		{NULL, NULL}
	};

	lbpf_new_class(L, LBPF_LINK, meta, methods, link_get);
	lbpf_class_fields(L, LBPF_LINK, fields);
}
