/*
 * map_config.c - the pre-load setters of an object's maps (m:set_*,
 * m:reuse_fd): they change libbpf's map definition, so only before load.
 * map.c lists `lbpf_map_config_methods`.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "map.h"
#include "names.h"

/* ---- setters (before load) ------------------------------------------------------ */

/* Setters act on libbpf's map definition: only before load. */
static struct lbpf_map *map_check_settable(lua_State *L, const char *what)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);

	lbpf_check_settable(L, m->owner, m->map != NULL, LBPF_MAP, what,
			    lbpf_map_name(m), "created");
	/* reuse_fd gives the map a fd before load: the hot path may have
	 * cached it and the attributes a setter is about to change */
	m->cached = 0;
	return m;
}

/* After a change of the key/value layout the BTF codecs are found again. */
static void map_forget_codecs(struct lbpf_map *m)
{
	m->typed = 0;
	m->key_codec = m->value_codec = NULL;
}

/* libbpf 1.1 keeps a global-data map's (.bss, .data, .rodata, custom
 * sections) image mmapped at the ELF's size and munmaps value_size x
 * max_entries at close, and copies value_size bytes of it into the map at
 * load: a new size would unmap or read what follows. Refuse changing it. */
static void map_check_image_size(lua_State *L, struct lbpf_map *m,
				 const char *what, __u32 value_size,
				 __u32 max_entries)
{
	size_t size;

	if (!bpf_map__initial_value(m->map, &size))
		return;
	if (value_size != bpf_map__value_size(m->map) ||
	    max_entries != bpf_map__max_entries(m->map))
		luaL_error(L, "libbpf.map: %s: map '%s' holds global variables; "
			   "its size (value_size %d, max_entries %d) cannot "
			   "change", what, lbpf_map_name(m),
			   (int)bpf_map__value_size(m->map),
			   (int)bpf_map__max_entries(m->map));
}

static int map_setter_result(lua_State *L, struct lbpf_map *m, int err,
			     const char *what)
{
	return lbpf_setter_result(L, err, what, "map", lbpf_map_name(m));
}

static __u32 map_check_u32(lua_State *L, int idx)
{
	lua_Integer v = luaL_checkinteger(L, idx);

	luaL_argcheck(L, v >= 0 && v <= UINT32_MAX, idx, "out of range");
	return (__u32)v;
}

/* The setters that take one u32 share one body. */
static int map_set_u32(lua_State *L, const char *what,
		       int (*set)(struct bpf_map *map, __u32 value))
{
	struct lbpf_map *m = map_check_settable(L, what);

	return map_setter_result(L, m, set(m->map, map_check_u32(L, 2)), what);
}

#define U32_SETTER(name)                                                   \
	static int map_##name(lua_State *L)                                \
	{                                                                  \
		return map_set_u32(L, #name, bpf_map__##name);             \
	}
U32_SETTER(set_numa_node)

/* A global-data map keeps its size (map_check_image_size, which raised
 * on a change), so setting the same size is done without libbpf: libbpf 1.5 would try to resize the
 * map's BTF section to it and, when its last variable is not an array, drop
 * the map's BTF (obj.vars would lose the map's globals). */
static int map_holds_image(struct lbpf_map *m)
{
	size_t size;

	return bpf_map__initial_value(m->map, &size) != NULL;
}

static int map_set_max_entries(lua_State *L)
{
	struct lbpf_map *m = map_check_settable(L, "set_max_entries");
	__u32 n = map_check_u32(L, 2);

	map_check_image_size(L, m, "set_max_entries",
			     bpf_map__value_size(m->map), n);
	if (map_holds_image(m))
		return map_setter_result(L, m, 0, "set_max_entries");
	return map_setter_result(L, m, bpf_map__set_max_entries(m->map, n),
				 "set_max_entries");
}

static int map_set_value_size(lua_State *L)
{
	struct lbpf_map *m = map_check_settable(L, "set_value_size");
	__u32 n = map_check_u32(L, 2);

	map_check_image_size(L, m, "set_value_size", n,
			     bpf_map__max_entries(m->map));
	if (map_holds_image(m))
		return map_setter_result(L, m, 0, "set_value_size");
	map_forget_codecs(m);
	return map_setter_result(L, m, bpf_map__set_value_size(m->map, n),
				 "set_value_size");
}

static int map_set_key_size(lua_State *L)
{
	struct lbpf_map *m = map_check_settable(L, "set_key_size");

	map_forget_codecs(m);
	return map_setter_result(L, m, bpf_map__set_key_size(m->map,
				 map_check_u32(L, 2)), "set_key_size");
}

/* m:set_map_flags(n | "name" | {names}) */
static int map_set_map_flags(lua_State *L)
{
	struct lbpf_map *m = map_check_settable(L, "set_map_flags");
	__u64 flags = lbpf_check_flags(L, 2, LBPF_MAP_FLAGS, "set_map_flags");

	luaL_argcheck(L, flags <= UINT32_MAX, 2, "out of range");
	return map_setter_result(L, m, bpf_map__set_map_flags(m->map, (__u32)flags),
			     "set_map_flags");
}

static int map_set_type(lua_State *L)
{
	struct lbpf_map *m;
	const char *name;
	int type;

	if (lua_istable(L, 2))
		return lbpf_map_set_types(L);
	m = map_check_settable(L, "set_type");
	name = luaL_checkstring(L, 2);
	type = lbpf_map_type_from_name(name);

	if (type < 0)
		luaL_argerror(L, 2, lua_pushfstring(L, "unknown map type '%s'",
						    name));
	map_forget_codecs(m);
	return map_setter_result(L, m, bpf_map__set_type(m->map,
			     (enum bpf_map_type)type), "set_type");
}

static int map_set_autocreate(lua_State *L)
{
	struct lbpf_map *m = map_check_settable(L, "set_autocreate");

	luaL_checktype(L, 2, LUA_TBOOLEAN);
	return map_setter_result(L, m, bpf_map__set_autocreate(m->map,
			     lua_toboolean(L, 2)), "set_autocreate");
}

static int map_set_pin_path(lua_State *L)
{
	struct lbpf_map *m = map_check_settable(L, "set_pin_path");

	return map_setter_result(L, m, bpf_map__set_pin_path(m->map,
			     luaL_optstring(L, 2, NULL)), "set_pin_path");
}

static int map_set_initial_value(lua_State *L)
{
	struct lbpf_map *m = map_check_settable(L, "set_initial_value");
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);

	return map_setter_result(L, m, bpf_map__set_initial_value(m->map, data, len),
			     "set_initial_value");
}

static int map_set_inner_map(lua_State *L)
{
	struct lbpf_map *m = map_check_settable(L, "set_inner_map");
	struct lbpf_map *inner = lbpf_check_map(L, 2);

	return map_setter_result(L, m, bpf_map__set_inner_map_fd(m->map,
			     lbpf_map_ready_fd(L, inner)), "set_inner_map");
}

/* m:reuse_fd(map | fd): this map becomes that existing map (shared state). */
static int map_reuse_fd(lua_State *L)
{
	struct lbpf_map *m = map_check_settable(L, "reuse_fd");
	size_t size;
	int fd;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		fd = (int)luaL_checkinteger(L, 2);
	} else {
		struct lbpf_map *other = lbpf_check_map(L, 2);

		fd = lbpf_map_fd(other);
		if (fd < 0)
			luaL_argerror(L, 2, "that map is not created yet "
				      "(load its object first)");
	}
	if (lbpf_fd_is_map(fd) != 1)
		luaL_argerror(L, 2, lua_pushfstring(L, "fd %d is not a BPF map",
						    fd));
	if (bpf_map__initial_value(m->map, &size)) {
		/* libbpf takes the other map's sizes: see above */
		struct bpf_map_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return lbpf_push_error(L, errno, "reuse_fd of map '%s' "
					       "failed", lbpf_map_name(m));
		map_check_image_size(L, m, "reuse_fd", info.value_size,
				     info.max_entries);
	}
	map_forget_codecs(m);
	/* libbpf dups the fd: the caller's map keeps its own. */
	return map_setter_result(L, m, bpf_map__reuse_fd(m->map, fd), "reuse_fd");
}

const luaL_Reg lbpf_map_config_methods[] = {
	{"set_type", map_set_type},
	{"set_map_flags", map_set_map_flags},
	{"set_max_entries", map_set_max_entries},
	{"set_value_size", map_set_value_size},
	{"set_key_size", map_set_key_size},
	{"set_numa_node", map_set_numa_node},
	{"set_autocreate", map_set_autocreate},
	{"set_pin_path", map_set_pin_path},
	{"set_initial_value", map_set_initial_value},
	{"set_inner_map", map_set_inner_map},
	{"reuse_fd", map_reuse_fd},
	{NULL, NULL}
};
