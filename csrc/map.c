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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524    /* the kernel's internal "not supported" */
#endif

/* Values larger than this are staged in a heap buffer. */
#define STACK_VALUE 256

/* ---- attributes ------------------------------------------------------------ */

static __u32 map_type(const struct lbpf_map *m)
{
	return m->map && !m->cached ? (__u32)bpf_map__type(m->map) : m->type;
}

static __u32 map_key_size(const struct lbpf_map *m)
{
	return m->map && !m->cached ? bpf_map__key_size(m->map) : m->key_size;
}

static __u32 map_value_size(const struct lbpf_map *m)
{
	return m->map && !m->cached ? bpf_map__value_size(m->map)
				    : m->value_size;
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

static void ensure_codecs(lua_State *L, int idx, struct lbpf_map *m);
static int is_percpu(__u32 type);

/* int_key/int_value of a codec (NULL: the integer default of 1/2/4/8) */
static signed char int_kind(const struct lbpf_codec *c, __u32 size)
{
	if (c)
		return (signed char)lbpf_codec_int(c);
	return size == 1 || size == 2 || size == 4 || size == 8 ? (signed char)size : 0;
}

/* The fd of a created map (at idx); the first call caches the fd, the
 * attributes and the codecs, which cannot change once the map exists. */
static int hot_fd(lua_State *L, int idx, struct lbpf_map *m)
{
	int fd;

	if (m->cached)
		return m->hot_fd;
	fd = ready_fd(L, m);
	ensure_codecs(L, idx, m);
	if (m->map) {
		m->type = bpf_map__type(m->map);
		m->key_size = bpf_map__key_size(m->map);
		m->value_size = bpf_map__value_size(m->map);
	}
	m->int_key = int_kind(m->key_codec, m->key_size);
	m->int_value = is_percpu(m->type) ? 0
		       : int_kind(m->value_codec, m->value_size);
	m->hot_fd = fd;
	m->cached = 1;
	return fd;
}

/* ---- the integer hot path: a u32/u64-style key and value, no codec ---------- */

/* Store v in `size` bytes if it fits either the signed or unsigned reading
 * (else the caller takes the general path, which raises or truncates). */
static int store_int(int size, lua_Integer v, void *buf)
{
	switch (size) {
	case 1:
		if (v < -128 || v > 255) return 0;
		*(uint8_t *)buf = (uint8_t)v; return 1;
	case 2:
		if (v < -32768 || v > 65535) return 0;
		*(uint16_t *)buf = (uint16_t)v; return 1;
	case 4:
		if (v < INT32_MIN || v > (lua_Integer)UINT32_MAX) return 0;
		*(uint32_t *)buf = (uint32_t)v; return 1;
	default:
		*(uint64_t *)buf = (uint64_t)v; return 1;
	}
}

static lua_Integer load_int(int kind, const void *buf)
{
	switch (kind) {
	case 1: return *(const uint8_t *)buf;
	case -1: return *(const int8_t *)buf;
	case 2: return *(const uint16_t *)buf;
	case -2: return *(const int16_t *)buf;
	case 4: return *(const uint32_t *)buf;
	case -4: return *(const int32_t *)buf;
	default: return (lua_Integer)*(const uint64_t *)buf;
	}
}

/* lbpf_check_map for the hot methods, which carry the map metatable as
 * upvalue 1: a pointer compare instead of a registry lookup by name. Falls
 * back to the full check (and its messages) otherwise. */
static struct lbpf_map *fast_check_map(lua_State *L)
{
	struct lbpf_map *m = lua_touserdata(L, 1);

	if (m && lua_getmetatable(L, 1)) {
		int same = lua_rawequal(L, -1, lua_upvalueindex(1));

		lua_pop(L, 1);
		if (same && !m->closed && !(m->owner && m->owner->closed))
			return m;
	}
	return lbpf_check_map(L, 1);
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

/* The codec of BTF type `id` when it has the map's key/value size. */
static struct lbpf_codec *sized_codec(lua_State *L, const struct btf *btf,
				      __u32 id, __u32 size)
{
	struct lbpf_codec *c = id ? lbpf_codec_get(L, btf, id) : NULL;

	return c && lbpf_codec_size(c) == size ? c : NULL;
}

/* A standalone map created with BTF (e.g. an object's map reopened from a
 * pin or an id): fetch that BTF from the kernel; the map userdata (at idx)
 * owns it through a libbpf.btf handle in its user value. */
static void load_kernel_btf(lua_State *L, int idx, struct lbpf_map *m)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct btf *btf;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(m->fd, &info, &len) || !info.btf_id)
		return;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return;
	lbpf_push_btf(L, 0, btf, 1);
	lua_setiuservalue(L, idx, 1);
	m->btf = btf;
	m->btf_key_type_id = info.btf_key_type_id;
	m->btf_value_type_id = info.btf_value_type_id;
}

/* Attach BTF codecs the first time the map (at idx) is used: the object's
 * BTF, or the kernel's for standalone maps. Done once: the hot path pays a
 * flag test. */
static void ensure_codecs(lua_State *L, int idx, struct lbpf_map *m)
{
	if (m->typed)
		return;
	m->typed = 1;
	if (m->map && m->owner && m->owner->obj) {
		m->btf = bpf_object__btf(m->owner->obj);
		m->btf_key_type_id = bpf_map__btf_key_type_id(m->map);
		m->btf_value_type_id = bpf_map__btf_value_type_id(m->map);
	} else if (!m->owner && m->fd >= 0) {
		load_kernel_btf(L, idx, m);
	}
	if (!m->btf)
		return;
	m->key_codec = sized_codec(L, m->btf, m->btf_key_type_id,
				   map_key_size(m));
	m->value_codec = sized_codec(L, m->btf, m->btf_value_type_id,
				     map_value_size(m));
}

/* A codec by type name for the map: its BTF, builtins, the kernel's BTF.
 * (Builtin codecs are static and never written: the cast is safe.) */
static struct lbpf_codec *named_codec(lua_State *L, struct lbpf_map *m,
				      const char *name, size_t size,
				      const char *what)
{
	const struct lbpf_codec *c = lbpf_codec_by_name(L, m->btf, name);

	if (lbpf_codec_size(c) != size)
		luaL_error(L, "libbpf.map: %s type '%s' has %d bytes, map '%s' "
			   "has %d", what, name, (int)lbpf_codec_size(c),
			   map_name(m), (int)size);
	return (struct lbpf_codec *)c;
}

/* Options of element reads: raw=true returns bytes; type=/key_type= name
 * the value/key type where the map has no BTF. */
struct elem_opts {
	int raw;
	struct lbpf_codec *kc, *vc;
};

static void check_elem_opts(lua_State *L, int idx, const char *fname,
			    struct lbpf_map *m, struct elem_opts *o)
{
	static const char *const opts[] = {"raw", "type", "key_type", NULL};
	const char *name;

	o->raw = 0;
	o->kc = m->key_codec;
	o->vc = m->value_codec;
	if (lua_isnoneornil(L, idx))
		return;
	lbpf_check_options(L, idx, fname, opts);
	o->raw = lbpf_opt_boolean(L, idx, "raw", 0);
	if ((name = lbpf_opt_string(L, idx, "type", NULL)))
		o->vc = named_codec(L, m, name, map_value_size(m), "value");
	if ((name = lbpf_opt_string(L, idx, "key_type", NULL)))
		o->kc = named_codec(L, m, name, map_key_size(m), "key");
}

/* m:set_type{key=, value=}: the key/value types (by name) of a map whose BTF
 * lacks them, for every later operation. */
static int set_codec_types(lua_State *L)
{
	static const char *const opts[] = {"key", "value", NULL};
	struct lbpf_map *m = lbpf_check_map(L, 1);
	const char *name;

	lbpf_check_options(L, 2, "set_type", opts);
	ensure_codecs(L, 1, m);
	if ((name = lbpf_opt_string(L, 2, "key", NULL)))
		m->key_codec = named_codec(L, m, name, map_key_size(m), "key");
	if ((name = lbpf_opt_string(L, 2, "value", NULL)))
		m->value_codec = named_codec(L, m, name, map_value_size(m),
					     "value");
	lua_settop(L, 1);
	return 1;
}

/* Push the value in `buf` (per-CPU maps: a list, one value per CPU). */
static void push_value_as(lua_State *L, struct lbpf_map *m,
			  struct lbpf_codec *c, const char *buf, int raw)
{
	size_t slot;
	int i, n;
	size_t total = value_buf_size(m, &slot, &n);

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

static void push_value(lua_State *L, struct lbpf_map *m, const char *buf,
		       int raw)
{
	push_value_as(L, m, raw ? NULL : m->value_codec, buf, raw);
}

/* Map-in-map and program-array values may be given as handles: their fd. */
static int handle_fd(lua_State *L, int idx)
{
	if (lua_type(L, idx) != LUA_TUSERDATA)
		return -1;
	if (luaL_testudata(L, idx, LBPF_MAP))
		return lbpf_map_fd(lbpf_check_map(L, idx));
	if (luaL_testudata(L, idx, LBPF_PROG))
		return lbpf_prog_fd(lbpf_check_prog(L, idx));
	return -1;
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
		int fd = handle_fd(L, idx);

		if (fd >= 0 && vs == sizeof(__u32))
			memcpy(buf, &fd, sizeof(__u32));
		else
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
	struct lbpf_map *m = fast_check_map(L);
	char ksmall[STACK_VALUE], vsmall[STACK_VALUE];
	int fd = hot_fd(L, 1, m);
	struct elem_opts o;
	size_t total;
	char *key, *val;

	if (m->int_key && m->int_value && lua_gettop(L) == 2 &&
	    lua_isinteger(L, 2) &&
	    store_int(abs(m->int_key), lua_tointeger(L, 2), ksmall)) {
		if (bpf_map_lookup_elem(fd, ksmall, vsmall)) {
			if (errno == ENOENT)
				return 0;
			return lbpf_push_error(L, errno, "lookup in map '%s' "
					       "failed", map_name(m));
		}
		lua_pushinteger(L, load_int(m->int_value, vsmall));
		return 1;
	}
	check_elem_opts(L, 3, "lookup", m, &o);
	key = key_buffer(L, m, ksmall);
	val = value_buffer(L, m, vsmall, &total);
	lbpf_encode(L, 2, o.kc, key, map_key_size(m), "key");
	if (bpf_map_lookup_elem(fd, map_key_size(m) ? key : NULL, val)) {
		if (errno == ENOENT)
			return 0;
		return lbpf_push_error(L, errno, "lookup in map '%s' failed",
				       map_name(m));
	}
	push_value_as(L, m, o.vc, val, o.raw);
	return 1;
}

/* "any"|"noexist"|"exist"|"lock" (the messages of luaL_checkoption), a
 * number or a list of names ({"noexist", "lock"}) */
static __u64 update_flag(lua_State *L, int idx, const char *who)
{
	static const char *const names[] = {"any", "noexist", "exist", "lock",
					    NULL};
	static const __u64 flags[] = {BPF_ANY, BPF_NOEXIST, BPF_EXIST,
				      BPF_F_LOCK};

	if (lua_type(L, idx) == LUA_TNUMBER || lua_type(L, idx) == LUA_TTABLE)
		return lbpf_check_flags(L, idx, LBPF_UPDATE_FLAGS, who);
	return flags[luaL_checkoption(L, idx, "any", names)];
}

/* m:update(key, value [, "any"|"noexist"|"exist"|"lock"]) -> true | nil, msg, errno */
static int l_update(lua_State *L)
{
	struct lbpf_map *m = fast_check_map(L);
	char ksmall[STACK_VALUE], vsmall[STACK_VALUE];
	int fd = hot_fd(L, 1, m);
	__u64 flags = lua_isnoneornil(L, 4) ? BPF_ANY : update_flag(L, 4, "update");
	size_t total;
	char *key, *val;

	if (m->int_key && m->int_value && lua_isinteger(L, 2) &&
	    lua_isinteger(L, 3) &&
	    store_int(abs(m->int_key), lua_tointeger(L, 2), ksmall) &&
	    store_int(abs(m->int_value), lua_tointeger(L, 3), vsmall)) {
		if (bpf_map_update_elem(fd, ksmall, vsmall, flags))
			return lbpf_push_error(L, errno, "update of map '%s' "
					       "failed", map_name(m));
		lua_pushboolean(L, 1);
		return 1;
	}
	luaL_checkany(L, 3);
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

	ensure_codecs(L, 1, m);
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
	int fd = ready_fd(L, m);
	struct elem_opts o;
	size_t total;
	char *key, *val;

	ensure_codecs(L, 1, m);
	check_elem_opts(L, 3, "lookup_and_delete", m, &o);
	key = key_buffer(L, m, ksmall);
	val = value_buffer(L, m, vsmall, &total);
	lbpf_encode(L, 2, o.kc, key, map_key_size(m), "key");
	if (bpf_map_lookup_and_delete_elem(fd, map_key_size(m) ? key : NULL,
					   val)) {
		if (errno == ENOENT)
			return 0;
		return lbpf_push_error(L, errno,
				       "lookup_and_delete in map '%s' failed",
				       map_name(m));
	}
	push_value_as(L, m, o.vc, val, o.raw);
	return 1;
}

/* Iterator state: the map and the previous key, as a userdata upvalue. */
static int pairs_next(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, lua_upvalueindex(1));
	char *prev = lua_touserdata(L, lua_upvalueindex(2));
	char vsmall[STACK_VALUE];
	size_t ks = map_key_size(m), total;
	int fd = hot_fd(L, lua_upvalueindex(1), m);
	int started = lua_toboolean(L, lua_upvalueindex(3));
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
	ensure_codecs(L, 1, m);
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

	ensure_codecs(L, 1, m);
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

/* Fill the table at -1 by iteration (maps without batch support). */
static int dump_iterate(lua_State *L, struct lbpf_map *m, int fd,
			const struct elem_opts *o)
{
	size_t ks = map_key_size(m), slot;
	int ncpu, started = 0;
	char *keys = lua_newuserdatauv(L, 2 * (ks ? ks : 1), 0);
	char *val = lua_newuserdatauv(L, value_buf_size(m, &slot, &ncpu), 0);

	lua_rotate(L, -3, 1);   /* the result table back on top */
	lua_rotate(L, -3, 1);
	for (;;) {
		if (bpf_map_get_next_key(fd, started ? keys : NULL, keys + ks)) {
			if (errno == ENOENT)
				return 0;
			return errno;
		}
		started = 1;
		memcpy(keys, keys + ks, ks);
		if (bpf_map_lookup_elem(fd, keys, val)) {
			if (errno == ENOENT)
				continue;
			return errno;
		}
		lbpf_decode(L, o->kc, keys, ks);
		push_value_as(L, m, o->vc, val, o->raw);
		lua_rawset(L, -3);
	}
}

/* Push a table of every element read with BPF_MAP_LOOKUP_BATCH: all batches
 * first, so the table is created at its final size (no rehash while it
 * grows). Returns EINVAL/ENOTSUPP (nothing pushed) when the map type has no
 * batch ops. */
static int dump_batch(lua_State *L, struct lbpf_map *m, int fd,
		      const struct elem_opts *o)
{
	size_t ks = map_key_size(m), slot, vsize;
	int ncpu;
	__u32 max = m->map ? bpf_map__max_entries(m->map) : m->max_entries;
	__u32 total = 0, count, i;
	__u64 in_tok = 0, out_tok = 0;
	char *keys, *vals;
	int err = 0;

	vsize = value_buf_size(m, &slot, &ncpu);
	max = max ? max : 1;
	keys = lua_newuserdatauv(L, (size_t)max * ks, 0);
	vals = lua_newuserdatauv(L, (size_t)max * vsize, 0);
	while (!err && total < max) {
		count = max - total;
		err = bpf_map_lookup_batch(fd, total ? &in_tok : NULL, &out_tok,
					   keys + (size_t)total * ks,
					   vals + (size_t)total * vsize, &count,
					   NULL) ? errno : 0;
		if (err && err != ENOENT) {
			lua_pop(L, 2);
			return err;
		}
		total += count;
		in_tok = out_tok;
	}
	lua_createtable(L, 0, (int)total);
	for (i = 0; i < total; i++) {
		lbpf_decode(L, o->kc, keys + (size_t)i * ks, ks);
		push_value_as(L, m, o->vc, vals + (size_t)i * vsize, o->raw);
		lua_rawset(L, -3);
	}
	return 0;
}

/* m:dump([{raw=, type=, key_type=}]) -> {key = value, ...}, with the batch
 * syscall where the map type has it, else by iteration */
static int l_dump(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	int fd = ready_fd(L, m), err;
	struct elem_opts o;

	ensure_codecs(L, 1, m);
	check_elem_opts(L, 2, "dump", m, &o);
	lua_settop(L, 2);
	err = map_key_size(m) ? dump_batch(L, m, fd, &o) : EINVAL;
	if (err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP ||
	    err == ENOSPC) {
		lua_settop(L, 2);
		lua_newtable(L);
		err = dump_iterate(L, m, fd, &o);
	}
	if (err)
		return lbpf_push_error(L, err, "dump of map '%s' failed",
				       map_name(m));
	return 1;
}

/* m:clear() -> number of entries removed (arrays: zeroed) */
static int l_clear(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	int fd = ready_fd(L, m);
	size_t ks = map_key_size(m), slot, total;
	__u32 type = map_type(m);
	lua_Integer n = 0;
	int ncpu;
	char *key, *val;

	total = value_buf_size(m, &slot, &ncpu);
	key = lua_newuserdatauv(L, ks ? ks : 1, 0);
	val = lua_newuserdatauv(L, total, 0);
	memset(val, 0, total);
	if (type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		__u32 i, max = m->map ? bpf_map__max_entries(m->map)
				       : m->max_entries;
		for (i = 0; i < max; i++, n++)
			if (bpf_map_update_elem(fd, &i, val, BPF_ANY))
				return lbpf_push_error(L, errno, "clear of map "
						       "'%s' failed", map_name(m));
	} else if (!ks) {   /* queue, stack: pop until empty */
		while (!bpf_map_lookup_and_delete_elem(fd, NULL, val))
			n++;
	} else {
		/* delete the first key until none is left: deleting while
		 * walking get_next_key would restart on hash maps anyway */
		while (!bpf_map_get_next_key(fd, NULL, key)) {
			if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
				return lbpf_push_error(L, errno, "clear of map "
						       "'%s' failed", map_name(m));
			n++;
		}
	}
	lua_pushinteger(L, n);
	return 1;
}

/* m:push(value [, "any"|"exist"]) for queue/stack maps ("exist" overwrites
 * the oldest when full) */
static int l_push(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char vsmall[STACK_VALUE];
	int fd = ready_fd(L, m);
	__u64 flags = update_flag(L, 3, "push");
	size_t total;
	char *val;

	luaL_checkany(L, 2);
	ensure_codecs(L, 1, m);
	val = value_buffer(L, m, vsmall, &total);
	encode_value(L, 2, m, val);
	if (bpf_map_update_elem(fd, NULL, val, flags))
		return lbpf_push_error(L, errno, "push to map '%s' failed",
				       map_name(m));
	lua_pushboolean(L, 1);
	return 1;
}

/* pop/peek: the value at the head of a queue/stack, nil when empty */
static int pop_or_peek(lua_State *L, int pop, const char *fname)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char vsmall[STACK_VALUE];
	int fd = ready_fd(L, m);
	struct elem_opts o;
	size_t total;
	char *val;

	ensure_codecs(L, 1, m);
	check_elem_opts(L, 2, fname, m, &o);
	val = value_buffer(L, m, vsmall, &total);
	if (pop ? bpf_map_lookup_and_delete_elem(fd, NULL, val)
		: bpf_map_lookup_elem(fd, NULL, val)) {
		if (errno == ENOENT)
			return 0;
		return lbpf_push_error(L, errno, "%s of map '%s' failed", fname,
				       map_name(m));
	}
	push_value_as(L, m, o.vc, val, o.raw);
	return 1;
}

static int l_pop(lua_State *L)
{
	return pop_or_peek(L, 1, "pop");
}

static int l_peek(lua_State *L)
{
	return pop_or_peek(L, 0, "peek");
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

/* The setters that take one u32 share one body: upvalue 1 indexes this. */
static const struct {
	const char *name;
	int (*set)(struct bpf_map *map, __u32 value);
} u32_setters[] = {
	{"set_max_entries", bpf_map__set_max_entries},
	{"set_value_size", bpf_map__set_value_size},
	{"set_key_size", bpf_map__set_key_size},
	{"set_numa_node", bpf_map__set_numa_node},
};

static int l_set_u32(lua_State *L)
{
	int i = (int)lua_tointeger(L, lua_upvalueindex(1));
	struct lbpf_map *m = check_settable(L, u32_setters[i].name);

	return setter_result(L, m, u32_setters[i].set(m->map, check_u32(L, 2)),
			     u32_setters[i].name);
}

/* m:set_map_flags(n | "name" | {names}) */
static int l_set_map_flags(lua_State *L)
{
	struct lbpf_map *m = check_settable(L, "set_map_flags");
	__u64 flags = lbpf_check_flags(L, 2, LBPF_MAP_FLAGS, "set_map_flags");

	luaL_argcheck(L, flags <= UINT32_MAX, 2, "out of range");
	return setter_result(L, m, bpf_map__set_map_flags(m->map, (__u32)flags),
			     "set_map_flags");
}

static void add_u32_setters(lua_State *L)
{
	size_t i;

	luaL_getmetatable(L, LBPF_MAP);
	lua_getfield(L, -1, "__index");
	lua_getupvalue(L, -1, 1);
	for (i = 0; i < sizeof(u32_setters) / sizeof(u32_setters[0]); i++) {
		lua_pushinteger(L, (lua_Integer)i);
		lua_pushcclosure(L, l_set_u32, 1);
		lua_setfield(L, -2, u32_setters[i].name);
	}
	lua_pop(L, 3);
}

static int l_set_type(lua_State *L)
{
	struct lbpf_map *m;
	const char *name;
	int type;

	if (lua_istable(L, 2))
		return set_codec_types(L);
	m = check_settable(L, "set_type");
	name = luaL_checkstring(L, 2);
	type = lbpf_map_type_from_name(name);

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

/* ---- standalone maps: they own a fd, closed on __gc/__close/close() ------------- */

/* bpf.map_create{type=, key_size=, value_size=, max_entries=, name=, flags=,
 * inner_map=} -> map | nil, msg, errno */
static int l_map_create(lua_State *L)
{
	static const char *const keys[] = {"type", "key_size", "value_size",
		"max_entries", "name", "flags", "inner_map", NULL};
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	const char *tname, *name;
	int type, fd;

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
	fd = bpf_map_create((enum bpf_map_type)type, name,
			    (__u32)lbpf_opt_integer(L, 1, "key_size", 0),
			    (__u32)lbpf_opt_integer(L, 1, "value_size", 0),
			    (__u32)lbpf_opt_integer(L, 1, "max_entries", 0),
			    &opts);
	if (fd < 0)
		return lbpf_push_error(L, lbpf_errno(fd), "map_create of %s map "
				       "'%s' failed", tname, name ? name : "");
	lbpf_push_fd_map(L, 0, fd, name);
	return 1;
}

/* bpf.map_from_pinned(path) -> map | nil, msg, errno */
static int l_map_from_pinned(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return lbpf_push_error(L, lbpf_errno(fd), "map_from_pinned "
				       "'%s' failed", path);
	lbpf_push_fd_map(L, 0, fd, NULL);
	return 1;
}

/* bpf.map_from_id(id) -> map | nil, msg, errno */
static int l_map_from_id(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	int fd = bpf_map_get_fd_by_id((__u32)id);

	if (fd < 0)
		return lbpf_push_error(L, lbpf_errno(fd), "map_from_id %d "
				       "failed", (int)id);
	lbpf_push_fd_map(L, 0, fd, NULL);
	return 1;
}

/* bpf.map_from_fd(fd) -> map on a dup of fd (the caller keeps its fd) */
static int l_map_from_fd(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1), dfd;
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return lbpf_push_error(L, errno, "map_from_fd %d: not a BPF map",
				       fd);
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return lbpf_push_error(L, errno, "map_from_fd %d failed", fd);
	lbpf_push_fd_map(L, 0, dfd, NULL);
	return 1;
}

void lbpf_open_map(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"map_create", l_map_create},
		{"map_from_pinned", l_map_from_pinned},
		{"map_from_id", l_map_from_id},
		{"map_from_fd", l_map_from_fd},
		{NULL, NULL}
	};
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
		{"dump", l_dump},
		{"clear", l_clear},
		{"push", l_push},
		{"pop", l_pop},
		{"peek", l_peek},
		{"pairs", l_pairs},
		{"pin", l_pin},
		{"unpin", l_unpin},
		{"freeze", l_freeze},
		{"info", l_info},
		{"close", l_close},
		{"set_type", l_set_type},
		{"set_map_flags", l_set_map_flags},
		{"set_autocreate", l_set_autocreate},
		{"set_pin_path", l_set_pin_path},
		{"set_initial_value", l_set_initial_value},
		{"set_inner_map", l_set_inner_map},
		{"reuse_fd", l_reuse_fd},
		{NULL, NULL}
	};

	static const luaL_Reg hot[] = {
		{"lookup", l_lookup},
		{"update", l_update},
		{NULL, NULL}
	};

	lbpf_new_class(L, LBPF_MAP, meta, methods, map_get);
	add_u32_setters(L);
	/* re-register the hot methods with the metatable as upvalue, for
	 * fast_check_map (the methods table is __index's upvalue 1) */
	luaL_getmetatable(L, LBPF_MAP);
	lua_getfield(L, -1, "__index");
	lua_getupvalue(L, -1, 1);
	lua_pushvalue(L, -3);
	luaL_setfuncs(L, hot, 1);
	lua_pop(L, 3);
	luaL_setfuncs(L, funcs, 0);
}
