/*
 * map_new.c - making map handles: the constructors other files use (an
 * object's maps, fd-backed maps) and the standalone maps of bpf.map_create,
 * bpf.map_from_pinned/_id/_fd, which own their fd. map.c registers
 * `lbpf_map_functions`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "map.h"
#include "names.h"
#include "print.h"

/* ---- constructors ---------------------------------------------------------------- */

static struct lbpf_map *map_new(lua_State *L, int objidx)
{
	struct lbpf_map *m;

	objidx = objidx ? lua_absindex(L, objidx) : 0;
	/* 1: its object (or a standalone map's BTF), 2: a standalone map's
	 * views (map_mmap.c) */
	m = lua_newuserdatauv(L, sizeof(*m), 2);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	lbpf_set_own_metatable(L, LBPF_MAP); /* lbpf_class_bind, map.c */
	if (objidx) {
		m->owner = lua_touserdata(L, objidx);
		lua_pushvalue(L, objidx);
		lua_setiuservalue(L, -2, 1);
	}
	return m;
}

struct lbpf_map *lbpf_push_map(lua_State *L, int objidx, struct bpf_map *map)
{
	struct lbpf_map *m = map_new(L, objidx);

	m->map = map;
	return m;
}

/* Takes `fd`: its attributes come from the kernel. */
struct lbpf_map *lbpf_push_fd_map(lua_State *L, int objidx, int fd,
				  const char *name)
{
	struct lbpf_map *m = map_new(L, objidx);
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	m->fd = fd;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
		m->type = info.type;
		m->key_size = info.key_size;
		m->value_size = info.value_size;
		m->max_entries = info.max_entries;
		m->flags = info.map_flags;
	}
	snprintf(m->name, sizeof(m->name), "%s", name ? name : info.name);
	return m;
}

/* ---- standalone maps: they own a fd, closed on __gc/__close/close() ------------- */

/* bpf.map_create{type=, key_size=, value_size=, max_entries=, name=, flags=,
 * inner_map=} -> map | nil, msg, errno */
static int map_create(lua_State *L)
{
	static const char *const keys[] = {"type", "key_size", "value_size",
		"max_entries", "name", "flags", "inner_map", NULL};
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	const char *tname, *name;
	__u32 key_size, value_size, max_entries;
	int type, fd, frame;

	luaL_checktype(L, 1, LUA_TTABLE);
	lbpf_check_options(L, 1, "map_create", keys);
	tname = lbpf_opt_string(L, 1, "type", "hash");
	type = lbpf_map_type_from_name(tname);
	if (type < 0)
		return luaL_error(L, "map_create: unknown map type '%s'", tname);
	name = lbpf_opt_string(L, 1, "name", NULL);
	opts.map_flags = (__u32)lbpf_opt_flags(L, 1, "flags", LBPF_MAP_FLAGS,
					       "map_create", 0);
	if (lua_getfield(L, 1, "inner_map") != LUA_TNIL) {
		opts.inner_map_fd = lbpf_map_fd(lbpf_check_map(L, -1));
		if ((int)opts.inner_map_fd < 0)
			return luaL_error(L, "map_create: inner_map is not created");
	}
	key_size = (__u32)lbpf_opt_integer(L, 1, "key_size", 0);
	value_size = (__u32)lbpf_opt_integer(L, 1, "value_size", 0);
	max_entries = (__u32)lbpf_opt_integer(L, 1, "max_entries", 0);
	frame = lbpf_print_enter(L);
	fd = bpf_map_create((enum bpf_map_type)type, name, key_size,
			    value_size, max_entries, &opts);
	if (fd < 0) {
		lbpf_push_error(L, lbpf_errno(fd), "map_create of %s map "
				"'%s' failed", tname, name ? name : "");
		lbpf_print_leave(L, frame);
		return 3;
	}
	lbpf_push_fd_map(L, 0, fd, name);
	lbpf_print_leave(L, frame);
	return 1;
}

/* Refuse a fd that is not a map (a pinned program, a link): `what` names
 * the call and `subject` the path/id/fd. Returns 0 when it is a map, else
 * pushes nil, msg, errno (closing `owned` if >= 0) and returns 3. */
static int map_refuse_non_map(lua_State *L, int fd, int owned,
			      const char *what, const char *subject)
{
	int is_map = lbpf_fd_is_map(fd);
	int err = is_map < 0 ? -is_map : EINVAL;

	if (is_map == 1)
		return 0;
	if (owned >= 0)
		close(owned);
	if (is_map < 0)
		return lbpf_push_error(L, err, "%s %s: cannot tell whether it "
				       "is a BPF map", what, subject);
	return lbpf_push_error(L, err, "%s %s: not a BPF map", what, subject);
}

/* bpf.map_from_pinned(path) -> map | nil, msg, errno */
static int map_from_pinned(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = bpf_obj_get(path);
	const char *subject;

	if (fd < 0)
		return lbpf_push_error(L, lbpf_errno(fd), "map_from_pinned "
				       "'%s' failed", path);
	subject = lua_pushfstring(L, "'%s'", path);
	if (map_refuse_non_map(L, fd, fd, "map_from_pinned", subject))
		return 3;
	lbpf_push_fd_map(L, 0, fd, NULL);
	return 1;
}

/* bpf.map_from_id(id) -> map | nil, msg, errno */
static int map_from_id(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	int fd = bpf_map_get_fd_by_id((__u32)id);

	if (fd < 0)
		return lbpf_push_error(L, lbpf_errno(fd), "map_from_id %d "
				       "failed", (int)id);
	if (map_refuse_non_map(L, fd, fd, "map_from_id",
			       lua_pushfstring(L, "%d", (int)id)))
		return 3;
	lbpf_push_fd_map(L, 0, fd, NULL);
	return 1;
}

/* bpf.map_from_fd(fd) -> map on a dup of fd (the caller keeps its fd) */
static int map_from_fd(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1), dfd;
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return lbpf_push_error(L, errno, "map_from_fd %d: not a BPF map",
				       fd);
	if (map_refuse_non_map(L, fd, -1, "map_from_fd",
			       lua_pushfstring(L, "%d", fd)))
		return 3;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return lbpf_push_error(L, errno, "map_from_fd %d failed", fd);
	lbpf_push_fd_map(L, 0, dfd, NULL);
	return 1;
}

const luaL_Reg lbpf_map_functions[] = {
	{"map_create", map_create},
	{"map_from_pinned", map_from_pinned},
	{"map_from_id", map_from_id},
	{"map_from_fd", map_from_fd},
	{NULL, NULL}
};
