/*
 * map.c - `libbpf.map`: attributes and pre-load setters of an object's maps,
 * and the element operations (lookup/update/delete/iterate/pin/freeze) that
 * work on any map fd, so that libbpf maps, fd-backed maps of other loaders and
 * standalone maps share one code path.
 *
 * Keys and values go through lbpf_encode/lbpf_decode: a string of exactly the
 * size is raw bytes, a BTF codec (btf.c) converts tables, and without BTF
 * 1/2/4/8-byte sizes are integers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Values larger than this are staged in a heap buffer. */
#define STACK_VALUE 256

/* ---- attributes ------------------------------------------------------------ */

static __u32 map_type(const struct lbpf_map *m)
{
	return m->map ? (__u32)bpf_map__type(m->map) : m->type;
}

static __u32 map_key_size(const struct lbpf_map *m)
{
	return m->map ? bpf_map__key_size(m->map) : m->key_size;
}

static __u32 map_value_size(const struct lbpf_map *m)
{
	return m->map ? bpf_map__value_size(m->map) : m->value_size;
}

static const char *map_name(const struct lbpf_map *m)
{
	return m->map ? bpf_map__name(m->map) : m->name;
}

static int is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Size of the value buffer the syscalls fill: per-CPU maps hold one 8-byte
 * aligned slot per possible CPU. */
static size_t value_buf_size(const struct lbpf_map *m, size_t *slot, int *n)
{
	size_t vs = map_value_size(m);

	*slot = vs;
	*n = 1;
	if (is_percpu(map_type(m))) {
		*slot = (vs + 7) & ~(size_t)7;
		*n = libbpf_num_possible_cpus();
		return *slot * (size_t)*n;
	}
	return vs;
}

/* An element op needs a created map. */
static int ready_fd(lua_State *L, struct lbpf_map *m)
{
	int fd = lbpf_map_fd(m);

	if (fd < 0)
		luaL_error(L, "libbpf.map: map '%s' is not created yet%s",
			   map_name(m), m->owner && !m->owner->loaded
			   ? " (call obj:load())" : "");
	return fd;
}

/* ---- key/value conversion ---------------------------------------------------- */

static void encode_integer(lua_State *L, int idx, void *buf, size_t size,
			   const char *what)
{
	int ok;
	lua_Integer v = lua_tointegerx(L, idx, &ok);

	if (!ok)
		luaL_error(L, "libbpf.map: %s must be an integer or a string of "
			   "%d bytes, got %s", what, (int)size, luaL_typename(L, idx));
	switch (size) {
	case 1: *(uint8_t *)buf = (uint8_t)v; break;
	case 2: *(uint16_t *)buf = (uint16_t)v; break;
	case 4: *(uint32_t *)buf = (uint32_t)v; break;
	default: *(uint64_t *)buf = (uint64_t)v; break;
	}
}

void lbpf_encode(lua_State *L, int idx, struct lbpf_codec *c, void *buf,
		 size_t size, const char *what)
{
	if (lua_type(L, idx) == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);

		if (len == size) {
			memcpy(buf, s, size);
			return;
		}
		if (!c)
			luaL_error(L, "libbpf.map: %s is a string of %d bytes, "
				   "expected %d", what, (int)len, (int)size);
	}
	if (c) {
		lbpf_codec_encode(L, idx, c, buf, size, what);
		return;
	}
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		encode_integer(L, idx, buf, size, what);
		return;
	}
	luaL_error(L, "libbpf.map: %s must be a string of %d bytes, got %s",
		   what, (int)size, luaL_typename(L, idx));
}

void lbpf_decode(lua_State *L, struct lbpf_codec *c, const void *buf,
		 size_t size)
{
	if (c) {
		lbpf_codec_decode(L, c, buf, size);
		return;
	}
	switch (size) {
	case 1: lua_pushinteger(L, *(const uint8_t *)buf); break;
	case 2: lua_pushinteger(L, *(const uint16_t *)buf); break;
	case 4: lua_pushinteger(L, *(const uint32_t *)buf); break;
	case 8: lua_pushinteger(L, (lua_Integer)*(const uint64_t *)buf); break;
	default: lua_pushlstring(L, buf, size); break;
	}
}

/* Attach BTF codecs the first time a map is used after load. */
static void ensure_codecs(lua_State *L, struct lbpf_map *m)
{
	const struct btf *btf;

	if (m->btf || !m->map || !m->owner || !m->owner->obj)
		return;
	btf = bpf_object__btf(m->owner->obj);
	if (!btf)
		return;
	m->btf = btf;
	m->btf_key_type_id = bpf_map__btf_key_type_id(m->map);
	m->btf_value_type_id = bpf_map__btf_value_type_id(m->map);
	if (m->btf_key_type_id)
		m->key_codec = lbpf_codec_get(L, btf, m->btf_key_type_id);
	if (m->btf_value_type_id)
		m->value_codec = lbpf_codec_get(L, btf, m->btf_value_type_id);
}

/* Options of element ops: raw=true returns bytes. */
static int want_raw(lua_State *L, int idx, const char *fname)
{
	static const char *const opts[] = {"raw", NULL};

	if (lua_isnoneornil(L, idx))
		return 0;
	lbpf_check_options(L, idx, fname, opts);
	return lbpf_opt_boolean(L, idx, "raw", 0);
}

/* Push the value in `buf` (per-CPU maps: a list, one value per CPU). */
static void push_value(lua_State *L, struct lbpf_map *m, const char *buf,
		       int raw)
{
	size_t slot;
	int i, n;
	size_t total = value_buf_size(m, &slot, &n);
	struct lbpf_codec *c = raw ? NULL : m->value_codec;

	if (raw) {
		lua_pushlstring(L, buf, total);
		return;
	}
	if (!is_percpu(map_type(m))) {
		lbpf_decode(L, c, buf, map_value_size(m));
		return;
	}
	lua_createtable(L, n, 0);
	for (i = 0; i < n; i++) {
		lbpf_decode(L, c, buf + (size_t)i * slot, map_value_size(m));
		lua_rawseti(L, -2, i + 1);
	}
}

/* Encode the value at idx into buf (per-CPU: a list of values, or one
 * value replicated to every CPU, or raw bytes of the whole buffer). */
static void encode_value(lua_State *L, int idx, struct lbpf_map *m, char *buf)
{
	size_t slot;
	int i, n;
	size_t total = value_buf_size(m, &slot, &n);
	size_t vs = map_value_size(m);

	if (!is_percpu(map_type(m))) {
		lbpf_encode(L, idx, m->value_codec, buf, vs, "value");
		return;
	}
	memset(buf, 0, total);
	if (lua_type(L, idx) == LUA_TSTRING && lua_rawlen(L, idx) == total) {
		memcpy(buf, lua_tostring(L, idx), total);
		return;
	}
	if (lua_type(L, idx) == LUA_TTABLE && lua_rawlen(L, idx) > 0 &&
	    !(m->value_codec && lua_rawlen(L, idx) != (size_t)n)) {
		for (i = 0; i < n; i++) {
			lua_rawgeti(L, idx, i + 1);
			if (!lua_isnil(L, -1))
				lbpf_encode(L, -1, m->value_codec,
					    buf + (size_t)i * slot, vs, "value");
			lua_pop(L, 1);
		}
		return;
	}
	for (i = 0; i < n; i++)
		lbpf_encode(L, idx, m->value_codec, buf + (size_t)i * slot, vs,
			    "value");
}

/* A scratch buffer on the Lua stack (userdata) when the stack one is small. */
static char *value_buffer(lua_State *L, struct lbpf_map *m, char *small,
			  size_t *total)
{
	size_t slot;
	int n;

	*total = value_buf_size(m, &slot, &n);
	if (*total <= STACK_VALUE)
		return small;
	return lua_newuserdatauv(L, *total, 0);
}

static char *key_buffer(lua_State *L, struct lbpf_map *m, char *small)
{
	size_t ks = map_key_size(m);

	if (ks <= STACK_VALUE)
		return small;
	return lua_newuserdatauv(L, ks, 0);
}

/* ---- element operations ----------------------------------------------------- */

/* m:lookup(key [, {raw=true}]) -> value | nil */
static int l_lookup(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char ksmall[STACK_VALUE], vsmall[STACK_VALUE];
	int fd = ready_fd(L, m), raw = want_raw(L, 3, "lookup");
	size_t total;
	char *key, *val;

	ensure_codecs(L, m);
	key = key_buffer(L, m, ksmall);
	val = value_buffer(L, m, vsmall, &total);
	lbpf_encode(L, 2, m->key_codec, key, map_key_size(m), "key");
	if (bpf_map_lookup_elem(fd, map_key_size(m) ? key : NULL, val)) {
		if (errno == ENOENT)
			return 0;
		return lbpf_push_error(L, errno, "lookup in map '%s' failed",
				       map_name(m));
	}
	push_value(L, m, val, raw);
	return 1;
}

static __u64 update_flag(lua_State *L, int idx)
{
	static const char *const names[] = {"any", "noexist", "exist", "lock",
					    NULL};
	static const __u64 flags[] = {BPF_ANY, BPF_NOEXIST, BPF_EXIST,
				      BPF_F_LOCK};

	return flags[luaL_checkoption(L, idx, "any", names)];
}

/* m:update(key, value [, "any"|"noexist"|"exist"|"lock"]) -> true | nil, msg, errno */
static int l_update(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char ksmall[STACK_VALUE], vsmall[STACK_VALUE];
	int fd = ready_fd(L, m);
	__u64 flags = update_flag(L, 4);
	size_t total;
	char *key, *val;

	luaL_checkany(L, 3);
	ensure_codecs(L, m);
	key = key_buffer(L, m, ksmall);
	val = value_buffer(L, m, vsmall, &total);
	lbpf_encode(L, 2, m->key_codec, key, map_key_size(m), "key");
	encode_value(L, 3, m, val);
	if (bpf_map_update_elem(fd, map_key_size(m) ? key : NULL, val, flags))
		return lbpf_push_error(L, errno, "update of map '%s' failed",
				       map_name(m));
	lua_pushboolean(L, 1);
	return 1;
}

/* m:delete(key) -> true (deleted) | false (absent) | nil, msg, errno */
static int l_delete(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char ksmall[STACK_VALUE];
	int fd = ready_fd(L, m);
	char *key;

	ensure_codecs(L, m);
	key = key_buffer(L, m, ksmall);
	lbpf_encode(L, 2, m->key_codec, key, map_key_size(m), "key");
	if (bpf_map_delete_elem(fd, key)) {
		if (errno == ENOENT) {
			lua_pushboolean(L, 0);
			return 1;
		}
		return lbpf_push_error(L, errno, "delete in map '%s' failed",
				       map_name(m));
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* m:lookup_and_delete(key [, {raw=true}]) -> value | nil */
static int l_lookup_and_delete(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char ksmall[STACK_VALUE], vsmall[STACK_VALUE];
	int fd = ready_fd(L, m), raw = want_raw(L, 3, "lookup_and_delete");
	size_t total;
	char *key, *val;

	ensure_codecs(L, m);
	key = key_buffer(L, m, ksmall);
	val = value_buffer(L, m, vsmall, &total);
	lbpf_encode(L, 2, m->key_codec, key, map_key_size(m), "key");
	if (bpf_map_lookup_and_delete_elem(fd, map_key_size(m) ? key : NULL,
					   val)) {
		if (errno == ENOENT)
			return 0;
		return lbpf_push_error(L, errno,
				       "lookup_and_delete in map '%s' failed",
				       map_name(m));
	}
	push_value(L, m, val, raw);
	return 1;
}

/* Iterator state: the map and the previous key, as a userdata upvalue. */
static int pairs_next(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, lua_upvalueindex(1));
	char *prev = lua_touserdata(L, lua_upvalueindex(2));
	char vsmall[STACK_VALUE];
	size_t ks = map_key_size(m), total;
	int fd = ready_fd(L, m), started = lua_toboolean(L, lua_upvalueindex(3));
	char *next = prev + ks, *val = value_buffer(L, m, vsmall, &total);

	for (;;) {
		if (bpf_map_get_next_key(fd, started ? prev : NULL, next)) {
			if (errno == ENOENT)
				return 0;
			return luaL_error(L, "libbpf.map: iterating map '%s' "
					  "failed: %s", map_name(m),
					  strerror(errno));
		}
		memcpy(prev, next, ks);
		if (!started) {
			started = 1;
			lua_pushboolean(L, 1);
			lua_replace(L, lua_upvalueindex(3));
		}
		if (bpf_map_lookup_elem(fd, next, val) == 0)
			break;
		if (errno != ENOENT) /* deleted meanwhile: skip it */
			return luaL_error(L, "libbpf.map: lookup in map '%s' "
					  "failed: %s", map_name(m),
					  strerror(errno));
	}
	lbpf_decode(L, m->key_codec, next, ks);
	push_value(L, m, val, 0);
	return 2;
}

/* __pairs / m:pairs(): for k, v in pairs(m) */
static int l_pairs(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);

	ready_fd(L, m);
	ensure_codecs(L, m);
	lua_settop(L, 1);
	lua_newuserdatauv(L, 2 * (map_key_size(m) ? map_key_size(m) : 1), 0);
	lua_pushboolean(L, 0);
	lua_pushcclosure(L, pairs_next, 3);
	return 1;
}

/* m:keys() -> list of keys */
static int l_keys(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	int fd = ready_fd(L, m), n = 0;
	size_t ks = map_key_size(m);
	char *buf;

	ensure_codecs(L, m);
	buf = lua_newuserdatauv(L, 2 * (ks ? ks : 1), 0);
	lua_newtable(L);
	for (;;) {
		if (bpf_map_get_next_key(fd, n ? buf : NULL, buf + ks)) {
			if (errno == ENOENT)
				break;
			return lbpf_push_error(L, errno,
					       "keys of map '%s' failed",
					       map_name(m));
		}
		memcpy(buf, buf + ks, ks);
		lbpf_decode(L, m->key_codec, buf, ks);
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

/* ---- pinning, freeze, info ---------------------------------------------------- */

static int l_pin(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	const char *path = luaL_optstring(L, 2, NULL);
	int err;

	if (m->map) {
		if (!path && !bpf_map__pin_path(m->map))
			luaL_argerror(L, 2, "a path is needed (no pin_path set)");
		err = bpf_map__pin(m->map, path);
	} else {
		luaL_checkstring(L, 2);
		err = bpf_obj_pin(ready_fd(L, m), path) ? -errno : 0;
	}
	if (err)
		return lbpf_push_error(L, lbpf_errno(err),
				       "pin of map '%s' at '%s' failed",
				       map_name(m), path ? path :
				       bpf_map__pin_path(m->map));
	lua_pushboolean(L, 1);
	return 1;
}

static int l_unpin(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	const char *path = luaL_optstring(L, 2, NULL);
	int err;

	if (m->map)
		err = bpf_map__unpin(m->map, path);
	else
		err = unlink(luaL_checkstring(L, 2)) ? -errno : 0;
	if (err)
		return lbpf_push_error(L, lbpf_errno(err),
				       "unpin of map '%s' failed", map_name(m));
	lua_pushboolean(L, 1);
	return 1;
}

static int l_freeze(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);

	if (bpf_map_freeze(ready_fd(L, m)))
		return lbpf_push_error(L, errno, "freeze of map '%s' failed",
				       map_name(m));
	lua_pushboolean(L, 1);
	return 1;
}

static int l_info(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(ready_fd(L, m), &info, &len))
		return lbpf_push_error(L, errno, "info of map '%s' failed",
				       map_name(m));
	lua_createtable(L, 0, 8);
	lua_pushinteger(L, info.id);
	lua_setfield(L, -2, "id");
	lua_pushstring(L, lbpf_map_type_name(info.type));
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, info.key_size);
	lua_setfield(L, -2, "key_size");
	lua_pushinteger(L, info.value_size);
	lua_setfield(L, -2, "value_size");
	lua_pushinteger(L, info.max_entries);
	lua_setfield(L, -2, "max_entries");
	lua_pushinteger(L, info.map_flags);
	lua_setfield(L, -2, "flags");
	lua_pushstring(L, info.name);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, info.btf_id);
	lua_setfield(L, -2, "btf_id");
	return 1;
}

/* ---- setters (before load) ------------------------------------------------------ */

/* Setters act on libbpf's map definition: only before load. */
static struct lbpf_map *check_settable(lua_State *L, const char *what)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);

	if (!m->map)
		luaL_error(L, "libbpf.map: %s: map '%s' is not part of a libbpf "
			   "object", what, map_name(m));
	if (m->owner && m->owner->loaded)
		luaL_error(L, "libbpf.map: %s: map '%s' is already created "
			   "(call it before obj:load())", what, map_name(m));
	return m;
}

static int setter_result(lua_State *L, struct lbpf_map *m, int err,
			 const char *what)
{
	if (err)
		return lbpf_push_error(L, lbpf_errno(err), "%s of map '%s' failed",
				       what, map_name(m));
	lua_settop(L, 1);
	return 1;
}

static __u32 check_u32(lua_State *L, int idx)
{
	lua_Integer v = luaL_checkinteger(L, idx);

	luaL_argcheck(L, v >= 0 && v <= UINT32_MAX, idx, "out of range");
	return (__u32)v;
}

static int l_set_max_entries(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_max_entries");

	return setter_result(L, m, bpf_map__set_max_entries(m->map,
			     check_u32(L, 2)), "set_max_entries");
}

static int l_set_value_size(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_value_size");

	return setter_result(L, m, bpf_map__set_value_size(m->map,
			     check_u32(L, 2)), "set_value_size");
}

static int l_set_key_size(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_key_size");

	return setter_result(L, m, bpf_map__set_key_size(m->map,
			     check_u32(L, 2)), "set_key_size");
}

static int l_set_map_flags(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_map_flags");

	return setter_result(L, m, bpf_map__set_map_flags(m->map,
			     check_u32(L, 2)), "set_map_flags");
}

static int l_set_numa_node(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_numa_node");

	return setter_result(L, m, bpf_map__set_numa_node(m->map,
			     check_u32(L, 2)), "set_numa_node");
}

static int l_set_type(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_type");
	const char *name = luaL_checkstring(L, 2);
	int type = lbpf_map_type_from_name(name);

	if (type < 0)
		luaL_argerror(L, 2, lua_pushfstring(L, "unknown map type '%s'",
						    name));
	return setter_result(L, m, bpf_map__set_type(m->map,
			     (enum bpf_map_type)type), "set_type");
}

static int l_set_autocreate(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_autocreate");

	luaL_checktype(L, 2, LUA_TBOOLEAN);
	return setter_result(L, m, bpf_map__set_autocreate(m->map,
			     lua_toboolean(L, 2)), "set_autocreate");
}

static int l_set_pin_path(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_pin_path");

	return setter_result(L, m, bpf_map__set_pin_path(m->map,
			     luaL_optstring(L, 2, NULL)), "set_pin_path");
}

static int l_set_initial_value(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_initial_value");
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);

	return setter_result(L, m, bpf_map__set_initial_value(m->map, data, len),
			     "set_initial_value");
}

static int l_set_inner_map(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_inner_map");
	struct lbpf_map *inner = lbpf_check_map(L, 2);

	return setter_result(L, m, bpf_map__set_inner_map_fd(m->map,
			     ready_fd(L, inner)), "set_inner_map");
}

/* m:reuse_fd(map | fd): this map becomes that existing map (shared state). */
static int l_reuse_fd(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "reuse_fd");
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
	/* libbpf dups the fd: the caller's map keeps its own. */
	return setter_result(L, m, bpf_map__reuse_fd(m->map, fd), "reuse_fd");
}

/* ---- metamethods ----------------------------------------------------------------- */

static int map_get(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;

	if (k && strcmp(k, "name") == 0)
		lua_pushstring(L, map_name(m));
	else if (k && strcmp(k, "type") == 0)
		lua_pushstring(L, lbpf_map_type_name(map_type(m)));
	else if (k && strcmp(k, "key_size") == 0)
		lua_pushinteger(L, map_key_size(m));
	else if (k && strcmp(k, "value_size") == 0)
		lua_pushinteger(L, map_value_size(m));
	else if (k && strcmp(k, "max_entries") == 0)
		lua_pushinteger(L, m->map ? bpf_map__max_entries(m->map)
				   : m->max_entries);
	else if (k && strcmp(k, "flags") == 0)
		lua_pushinteger(L, m->map ? bpf_map__map_flags(m->map) : m->flags);
	else if (k && strcmp(k, "fd") == 0)
		lua_pushinteger(L, lbpf_map_fd(m));
	else if (k && strcmp(k, "pin_path") == 0 && m->map)
		lua_pushstring(L, bpf_map__pin_path(m->map));
	else if (k && strcmp(k, "autocreate") == 0 && m->map)
		lua_pushboolean(L, bpf_map__autocreate(m->map));
	else
		return l_lookup(L); /* m[key] sugar */
	return 1;
}

/* m[key] = value updates, m[key] = nil deletes. */
static int l_newindex(lua_State *L)
{
	if (lua_isnil(L, 3)) {
		lua_settop(L, 2);
		l_delete(L);
		return 0;
	}
	lua_settop(L, 3);
	if (l_update(L) == 3)
		return luaL_error(L, "%s", lua_tostring(L, -2));
	return 0;
}

/* Standalone maps own their fd; object maps belong to the object. */
static int l_close(lua_State *L)
{
	struct lbpf_map *m = luaL_checkudata(L, 1, LBPF_MAP);

	if (!m->owner && !m->closed) {
		m->closed = 1;
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
	}
	return 0;
}

static int l_tostring(lua_State *L)
{
	struct lbpf_map *m = luaL_checkudata(L, 1, LBPF_MAP);

	if (m->closed || (m->owner && m->owner->closed)) {
		lua_pushstring(L, "libbpf.map (closed)");
		return 1;
	}
	lua_pushfstring(L, "libbpf.map(%s, %s, key=%d value=%d, max=%d, fd=%d)",
			map_name(m), lbpf_map_type_name(map_type(m)),
			(int)map_key_size(m), (int)map_value_size(m),
			(int)(m->map ? bpf_map__max_entries(m->map)
				     : m->max_entries), lbpf_map_fd(m));
	return 1;
}

/* ---- constructors ---------------------------------------------------------------- */

static struct lbpf_map *new_map(lua_State *L, int objidx)
{
	struct lbpf_map *m;

	objidx = objidx ? lua_absindex(L, objidx) : 0;
	m = lua_newuserdatauv(L, sizeof(*m), 1);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	luaL_setmetatable(L, LBPF_MAP);
	if (objidx) {
		m->owner = lua_touserdata(L, objidx);
		lua_pushvalue(L, objidx);
		lua_setiuservalue(L, -2, 1);
	}
	return m;
}

struct lbpf_map *lbpf_push_map(lua_State *L, int objidx, struct bpf_map *map)
{
	struct lbpf_map *m = new_map(L, objidx);

	m->map = map;
	return m;
}

/* Takes `fd`: its attributes come from the kernel. */
struct lbpf_map *lbpf_push_fd_map(lua_State *L, int objidx, int fd,
				  const char *name)
{
	struct lbpf_map *m = new_map(L, objidx);
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

void lbpf_open_map(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{"__gc", l_close},
		{"__close", l_close},
		{"__tostring", l_tostring},
		{"__pairs", l_pairs},
		{"__newindex", l_newindex},
		{NULL, NULL}
	};
	static const luaL_Reg methods[] = {
		{"lookup", l_lookup},
		{"update", l_update},
		{"delete", l_delete},
		{"lookup_and_delete", l_lookup_and_delete},
		{"keys", l_keys},
		{"pairs", l_pairs},
		{"pin", l_pin},
		{"unpin", l_unpin},
		{"freeze", l_freeze},
		{"info", l_info},
		{"close", l_close},
		{"set_max_entries", l_set_max_entries},
		{"set_value_size", l_set_value_size},
		{"set_key_size", l_set_key_size},
		{"set_type", l_set_type},
		{"set_map_flags", l_set_map_flags},
		{"set_numa_node", l_set_numa_node},
		{"set_autocreate", l_set_autocreate},
		{"set_pin_path", l_set_pin_path},
		{"set_initial_value", l_set_initial_value},
		{"set_inner_map", l_set_inner_map},
		{"reuse_fd", l_reuse_fd},
		{NULL, NULL}
	};

	lbpf_new_class(L, LBPF_MAP, meta, methods, map_get);
}
