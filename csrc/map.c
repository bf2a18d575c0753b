/*
 * map.c - `libbpf.map`: the class, its integer hot path and the element
 * operations (lookup/update/delete/iterate/pin/freeze) that work on any map
 * fd, so that libbpf maps, fd-backed maps of other loaders and standalone
 * maps share one code path; the standalone map constructors.
 *
 * Keys and values are converted by map_conv.c; the pre-load setters are in
 * map_config.c, whose method table is listed here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "codec.h"
#include "map.h"
#include "names.h"
#include "pinpath.h"
#include "struct_ops.h"


/* The fd of a created map (at idx); the first call caches the fd, the
 * attributes and the codecs, which cannot change once the map exists. */
static int hot_fd(lua_State *L, int idx, struct lbpf_map *m)
{
	int fd;

	if (m->cached)
		return m->hot_fd;
	fd = lbpf_map_ready_fd(L, m);
	lbpf_map_ensure_codecs(L, idx, m);
	if (m->map) {
		m->type = bpf_map__type(m->map);
		m->key_size = bpf_map__key_size(m->map);
		m->value_size = bpf_map__value_size(m->map);
	}
	m->int_key = lbpf_map_int_kind(m->key_codec, m->key_size);
	m->int_value = lbpf_map_is_percpu(m->type) ? 0
		       : lbpf_map_int_kind(m->value_codec, m->value_size);
	/* the fast paths' buffers hold exactly the integer */
	if ((__u32)abs(m->int_key) != m->key_size)
		m->int_key = 0;
	if ((__u32)abs(m->int_value) != m->value_size)
		m->int_value = 0;
	m->hot_fd = fd;
	m->cached = 1;
	return fd;
}

/* ---- the integer hot path: a u32/u64-style key and value, no codec ---------- */

/* Store v in `size` bytes if it fits either the signed or unsigned reading
 * (else the caller takes the general path, which raises or truncates). */
static int store_int(int size, lua_Integer v, void *buf)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	/* memcpy: the buffers are char arrays, not aligned integers */
	switch (size) {
	case 1:
		if (v < -128 || v > 255) return 0;
		u8 = (uint8_t)v; memcpy(buf, &u8, 1); return 1;
	case 2:
		if (v < -32768 || v > 65535) return 0;
		u16 = (uint16_t)v; memcpy(buf, &u16, 2); return 1;
	case 4:
		if (v < INT32_MIN || v > (lua_Integer)UINT32_MAX) return 0;
		u32 = (uint32_t)v; memcpy(buf, &u32, 4); return 1;
	default:
		u64 = (uint64_t)v; memcpy(buf, &u64, 8); return 1;
	}
}

static int map_closed(const struct lbpf_map *m)
{
	return m->closed || (m->owner && m->owner->closed);
}

/* The handle a bound method (lbpf_class_bind: upvalue 1 is its handle) is
 * called on, when that is its own live handle: the hot path's check is a
 * compare of two block addresses (a light userdata holding the same
 * address would pass, and act on this same live handle), else NULL. */
static inline struct lbpf_map *bound_map(lua_State *L)
{
	struct lbpf_map *m = lua_touserdata(L, 1);

	if (m && m == lua_touserdata(L, lua_upvalueindex(1)) && !map_closed(m))
		return m;
	return NULL;
}

/* lbpf_check_map for the hot methods: bound_map, else the full check (and
 * its messages): a method taken from one map and called on another, or
 * taken from the class table. */
static struct lbpf_map *fast_check_map(lua_State *L)
{
	struct lbpf_map *m = bound_map(L);

	return m ? m : lbpf_check_map(L, 1);
}

/* The integer fast path of a lookup of the integer at 2 in a created map
 * with plain integer keys and values: 1 with the value (or one nil for an
 * absent key) pushed, or 0 when the key does not fit (the general path
 * then raises or converts). */
static inline int lookup_int(lua_State *L, struct lbpf_map *m)
{
	char kbuf[8], vbuf[8];

	if (!store_int(abs(m->int_key), lua_tointeger(L, 2), kbuf))
		return 0;
	if (bpf_map_lookup_elem(m->hot_fd, kbuf, vbuf)) {
		if (errno == ENOENT) { /* absent: one nil, not none */
			lua_pushnil(L);
			return 1;
		}
		return lbpf_push_error(L, errno, "lookup in map '%s' failed",
				       lbpf_map_name(m));
	}
	lua_pushinteger(L, lbpf_map_load_int(m->int_value, vbuf));
	return 1;
}

/* ---- element operations ----------------------------------------------------- */

/* m:lookup with the map at 1 (checked) and the key at 2, options at 3 */
static __attribute__((noinline)) int lookup_general(lua_State *L, struct lbpf_map *m, int fd)
{
	char ksmall[STACK_VALUE], vsmall[STACK_VALUE];
	struct elem_opts o;
	size_t total;
	char *key, *val;

	/* options and key may run metamethods: the codecs are the object's,
	 * the fd a standalone map's (lbpf_map_busy) */
	lua_settop(L, 3);
	lbpf_map_busy(L, m, 1);
	lbpf_map_elem_opts(L, 3, "lookup", m, &o);
	key = lbpf_map_key_buffer(L, m, ksmall);
	val = lbpf_map_value_buffer(L, m, vsmall, &total);
	lbpf_map_encode(L, 2, o.kc, key, lbpf_map_key_size(m), "key");
	if (bpf_map_lookup_elem(fd, lbpf_map_key_size(m) ? key : NULL, val)) {
		if (errno == ENOENT) {
			lua_pushnil(L);
			return 1;
		}
		return lbpf_push_error(L, errno, "lookup in map '%s' failed",
				       lbpf_map_name(m));
	}
	lbpf_map_push_value_as(L, m, o.vc, val, o.raw);
	return 1;
}

/* m:lookup(key [, {raw=true}]) -> value | nil */
static int map_lookup(lua_State *L)
{
	struct lbpf_map *m = bound_map(L);

	/* the hot path first: its own handle, created, plain integers, no
	 * options; everything else takes the checks and conversions */
	if (m && m->cached && m->int_key && m->int_value &&
	    lua_gettop(L) == 2 && lua_isinteger(L, 2) && lookup_int(L, m))
		return 1;
	m = fast_check_map(L);
	return lookup_general(L, m, hot_fd(L, 1, m));
}

/* "any"|"noexist"|"exist"|"lock", a number or a list of names
 * ({"noexist", "lock"}); none: "any" */
static __u64 map_update_flags(lua_State *L, int idx, const char *who)
{
	if (lua_isnoneornil(L, idx))
		return BPF_ANY;
	return lbpf_check_flags(L, idx, LBPF_UPDATE_FLAGS, who);
}

/* The failure of an update, with the cause in words where errno is
 * cryptic: E2BIG is a full map. */
static int update_failure(lua_State *L, struct lbpf_map *m, int err)
{
	if (err == E2BIG)
		return lbpf_push_error(L, err, "update of map '%s' failed (the "
				       "map is full: max_entries %I)",
				       lbpf_map_name(m), (LUAI_UACINT)(m->map ?
				       bpf_map__max_entries(m->map) :
				       m->max_entries));
	return lbpf_push_error(L, err, "update of map '%s' failed",
			       lbpf_map_name(m));
}

/* The integer fast path of an update of the integers at 2 and 3: 1 (true
 * or nil, msg, errno pushed, as update_failure), or 0 when either does not
 * fit (the general path then raises or converts). */
static inline int update_int(lua_State *L, struct lbpf_map *m, __u64 flags)
{
	char kbuf[8], vbuf[8];

	if (!store_int(abs(m->int_key), lua_tointeger(L, 2), kbuf) ||
	    !store_int(abs(m->int_value), lua_tointeger(L, 3), vbuf))
		return 0;
	if (bpf_map_update_elem(m->hot_fd, kbuf, vbuf, flags))
		return update_failure(L, m, errno);
	lua_pushboolean(L, 1);
	return 1;
}

/* m:update with the map at 1 and the key, value and flags at 2..4 */
static __attribute__((noinline)) int update_general(lua_State *L)
{
	struct lbpf_map *m = fast_check_map(L);
	char ksmall[STACK_VALUE], vsmall[STACK_VALUE];
	int fd = hot_fd(L, 1, m), r;
	__u64 flags = map_update_flags(L, 4, "update");
	size_t total;
	char *key, *val;

	if (m->int_key && m->int_value && lua_isinteger(L, 2) &&
	    lua_isinteger(L, 3) && (r = update_int(L, m, flags)))
		return r;
	luaL_checkany(L, 3);
	lbpf_map_busy(L, m, 1);
	key = lbpf_map_key_buffer(L, m, ksmall);
	val = lbpf_map_value_buffer(L, m, vsmall, &total);
	lbpf_map_encode(L, 2, m->key_codec, key, lbpf_map_key_size(m), "key");
	lbpf_map_encode_value(L, 3, m, val);
	if (bpf_map_update_elem(fd, lbpf_map_key_size(m) ? key : NULL, val, flags))
		return update_failure(L, m, errno);
	lua_pushboolean(L, 1);
	return 1;
}

/* m:update(key, value [, "any"|"noexist"|"exist"|"lock"]) -> true | nil, msg, errno */
static int map_update(lua_State *L)
{
	struct lbpf_map *m = bound_map(L);
	int r;

	/* the hot path first, as map_lookup's (no flags: BPF_ANY) */
	if (m && m->cached && m->int_key && m->int_value &&
	    lua_gettop(L) == 3 && lua_isinteger(L, 2) && lua_isinteger(L, 3) &&
	    (r = update_int(L, m, BPF_ANY)))
		return r;
	return update_general(L);
}

/* m:delete(key) -> true (deleted) | false (absent) | nil, msg, errno */
static int map_delete(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char ksmall[STACK_VALUE];
	int fd = lbpf_map_ready_fd(L, m);
	char *key;

	lbpf_map_ensure_codecs(L, 1, m);
	lua_settop(L, 2);
	lbpf_map_busy(L, m, 1);
	key = lbpf_map_key_buffer(L, m, ksmall);
	lbpf_map_encode(L, 2, m->key_codec, key, lbpf_map_key_size(m), "key");
	if (bpf_map_delete_elem(fd, key)) {
		if (errno == ENOENT) {
			lua_pushboolean(L, 0);
			return 1;
		}
		return lbpf_push_error(L, errno, "delete in map '%s' failed",
				       lbpf_map_name(m));
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* m:lookup_and_delete(key [, {raw=true}]) -> value | nil */
static int map_lookup_and_delete(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char ksmall[STACK_VALUE], vsmall[STACK_VALUE];
	int fd = lbpf_map_ready_fd(L, m);
	struct elem_opts o;
	size_t total;
	char *key, *val;

	lbpf_map_ensure_codecs(L, 1, m);
	lua_settop(L, 3);
	lbpf_map_busy(L, m, 1);
	lbpf_map_elem_opts(L, 3, "lookup_and_delete", m, &o);
	key = lbpf_map_key_buffer(L, m, ksmall);
	val = lbpf_map_value_buffer(L, m, vsmall, &total);
	lbpf_map_encode(L, 2, o.kc, key, lbpf_map_key_size(m), "key");
	if (bpf_map_lookup_and_delete_elem(fd, lbpf_map_key_size(m) ? key : NULL,
					   val)) {
		if (errno == ENOENT) {
			lua_pushnil(L);
			return 1;
		}
		return lbpf_push_error(L, errno,
				       "lookup_and_delete in map '%s' failed",
				       lbpf_map_name(m));
	}
	lbpf_map_push_value_as(L, m, o.vc, val, o.raw);
	return 1;
}

/* pairs(m)'s state (upvalue 2; the map is upvalue 1): the map, whether the
 * walk has started, the previous and the next key and a value buffer, all
 * sized once so that a step does two syscalls and pushes two values. */
struct pairs_state {
	struct lbpf_map *m;
	int started;
	size_t ks;
	char *prev, *next, *val;
	char buf[];
};

static int map_pairs_next(lua_State *L)
{
	struct pairs_state *st = lua_touserdata(L, lua_upvalueindex(2));
	struct lbpf_map *m = st->m;
	int fd;

	if (map_closed(m))
		lbpf_check_map(L, lua_upvalueindex(1)); /* raises, naming it */
	fd = m->cached ? m->hot_fd : hot_fd(L, lua_upvalueindex(1), m);
	for (;;) {
		if (bpf_map_get_next_key(fd, st->started ? st->prev : NULL,
					 st->next)) {
			if (errno == ENOENT)
				return 0;
			return luaL_error(L, "libbpf.map: iterating map '%s' "
					  "failed: %s", lbpf_map_name(m),
					  strerror(errno));
		}
		memcpy(st->prev, st->next, st->ks);
		st->started = 1;
		if (bpf_map_lookup_elem(fd, st->next, st->val) == 0)
			break;
		if (errno != ENOENT) /* deleted meanwhile: skip it */
			return luaL_error(L, "libbpf.map: lookup in map '%s' "
					  "failed: %s", lbpf_map_name(m),
					  strerror(errno));
	}
	if (m->int_key)
		lua_pushinteger(L, lbpf_map_load_int(m->int_key, st->next));
	else
		lbpf_map_decode(L, m->key_codec, st->next, st->ks);
	if (m->int_value)
		lua_pushinteger(L, lbpf_map_load_int(m->int_value, st->val));
	else
		lbpf_map_push_value(L, m, st->val, 0);
	return 2;
}

/* __pairs / m:pairs(): for k, v in pairs(m) */
static int map_pairs(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	size_t ks, total, slot;
	struct pairs_state *st;
	int ncpu;

	hot_fd(L, 1, m);
	ks = lbpf_map_key_size(m) ? lbpf_map_key_size(m) : 1;
	total = lbpf_map_value_buf_size(L, m, &slot, &ncpu);
	lua_settop(L, 1);
	st = lua_newuserdatauv(L, sizeof(*st) + 2 * ks + total + 8, 0);
	st->m = m;
	st->started = 0;
	st->ks = lbpf_map_key_size(m);
	st->prev = st->buf;
	st->next = st->buf + ks;
	st->val = st->buf + 2 * ks;
	lua_pushcclosure(L, map_pairs_next, 2);
	return 1;
}

/* m:keys() -> list of keys */
static int map_keys(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	int fd = lbpf_map_ready_fd(L, m), n = 0;
	size_t ks = lbpf_map_key_size(m);
	char *buf;

	lbpf_map_ensure_codecs(L, 1, m);
	/* decoding allocates: a finalizer run meanwhile must not close the
	 * map (its fd, reused by the next open) or its object under us */
	lbpf_map_busy(L, m, 1);
	buf = lua_newuserdatauv(L, 2 * (ks ? ks : 1), 0);
	lua_newtable(L);
	for (;;) {
		if (bpf_map_get_next_key(fd, n ? buf : NULL, buf + ks)) {
			if (errno == ENOENT)
				break;
			return lbpf_push_error(L, errno,
					       "keys of map '%s' failed",
					       lbpf_map_name(m));
		}
		memcpy(buf, buf + ks, ks);
		lbpf_map_decode(L, m->key_codec, buf, ks);
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

/* m:push(value [, "any"|"exist"]) for queue/stack maps ("exist" overwrites
 * the oldest when full) */
static int map_push(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char vsmall[STACK_VALUE];
	int fd = lbpf_map_ready_fd(L, m);
	__u64 flags = map_update_flags(L, 3, "push");
	size_t total;
	char *val;

	luaL_checkany(L, 2);
	lbpf_map_ensure_codecs(L, 1, m);
	lbpf_map_busy(L, m, 1);
	val = lbpf_map_value_buffer(L, m, vsmall, &total);
	lbpf_map_encode_value(L, 2, m, val);
	if (bpf_map_update_elem(fd, NULL, val, flags))
		return lbpf_push_error(L, errno, "push to map '%s' failed",
				       lbpf_map_name(m));
	lua_pushboolean(L, 1);
	return 1;
}

/* pop/peek: the value at the head of a queue/stack, nil when empty */
static int pop_or_peek(lua_State *L, int pop, const char *fname)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	char vsmall[STACK_VALUE];
	int fd = lbpf_map_ready_fd(L, m);
	struct elem_opts o;
	size_t total;
	char *val;

	lbpf_map_ensure_codecs(L, 1, m);
	/* the options may run metamethods, the decoder finalizers: neither
	 * may close the map (its fd) or its object (its codecs) under us */
	lua_settop(L, 2);
	lbpf_map_busy(L, m, 1);
	lbpf_map_elem_opts(L, 2, fname, m, &o);
	val = lbpf_map_value_buffer(L, m, vsmall, &total);
	if (pop ? bpf_map_lookup_and_delete_elem(fd, NULL, val)
		: bpf_map_lookup_elem(fd, NULL, val)) {
		if (errno == ENOENT) { /* empty: one nil */
			lua_pushnil(L);
			return 1;
		}
		return lbpf_push_error(L, errno, "%s of map '%s' failed", fname,
				       lbpf_map_name(m));
	}
	lbpf_map_push_value_as(L, m, o.vc, val, o.raw);
	return 1;
}

static int map_pop(lua_State *L)
{
	return pop_or_peek(L, 1, "pop");
}

static int map_peek(lua_State *L)
{
	return pop_or_peek(L, 0, "peek");
}

/* ---- pinning, freeze, info ---------------------------------------------------- */

static int map_pin(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	const char *path = luaL_optstring(L, 2, NULL);
	char msg[512] = "";
	int err;

	/* never through a symbolic link or another user's directory
	 * (pinpath.c); libbpf pins in the directories checked here */
	if (m->map) {
		if (!path && !bpf_map__pin_path(m->map))
			luaL_argerror(L, 2, "a path is needed (no pin_path set)");
		err = lbpf_pin_check_dir(path ? path : bpf_map__pin_path(m->map),
					 1, msg, sizeof(msg));
		if (!err)
			err = bpf_map__pin(m->map, path);
	} else {
		luaL_checkstring(L, 2);
		err = lbpf_pin_fd(lbpf_map_ready_fd(L, m), path, 1, msg, sizeof(msg));
	}
	if (err && *msg)
		return lbpf_push_error(L, lbpf_errno(err), "pin of map '%s' "
				       "failed: %s", lbpf_map_name(m), msg);
	if (err)
		return lbpf_push_error(L, lbpf_errno(err),
				       "pin of map '%s' at '%s' failed",
				       lbpf_map_name(m), path ? path :
				       bpf_map__pin_path(m->map));
	lua_pushboolean(L, 1);
	return 1;
}

/* Check that `path` names a pin on a BPF filesystem, reached without
 * following any symlink, and (unlink_it) remove it through the directory
 * checked. Returns 0, or an errno with *why saying what is wrong. */
static int map_check_pin(const char *path, int unlink_it, const char **why)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	char dir[PATH_MAX];
	const char *base = strrchr(path, '/');
	struct statfs sfs;
	struct stat st;
	int dfd, err = 0;

	*why = NULL;
	if (strlen(path) >= sizeof(dir))
		return ENAMETOOLONG;
	if (!base) {
		strcpy(dir, ".");
		base = path;
	} else {
		snprintf(dir, sizeof(dir), "%.*s", base == path ? 1 :
			 (int)(base - path), path);
		base++;
	}
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return EINVAL;
	dfd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	if (dfd < 0) {
		if (errno == ELOOP)
			*why = "a directory on its path is a symlink";
		return errno;
	}
	if (fstatfs(dfd, &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		*why = "not on a BPF filesystem";
		err = EXDEV;
	} else if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW)) {
		err = errno;
	} else if (!S_ISREG(st.st_mode)) {
		*why = S_ISLNK(st.st_mode) ? "a symlink, not a pin"
					   : "not a pin";
		err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	} else if (unlink_it && unlinkat(dfd, base, 0)) {
		err = errno;
	}
	close(dfd);
	return err;
}

/* m:unpin([path]): removes the map's pin, and only a pin: a path that is
 * not a pin on bpffs, or that goes through a symlink, is refused. */
static int map_unpin(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	const char *path = luaL_optstring(L, 2, NULL);
	const char *why;
	int err;

	if (m->map && !path)
		path = bpf_map__pin_path(m->map);
	if (!path)
		return luaL_argerror(L, 2, "a path is needed (no pin_path set)");
	/* libbpf maps: libbpf unlinks (it keeps its "pinned" state) once the
	 * path has been checked; fd-backed maps unlink in the checked dir */
	err = map_check_pin(path, m->map == NULL, &why);
	if (!err && m->map) {
		int r = bpf_map__unpin(m->map, path);

		err = r ? lbpf_errno(r) : 0;
	}
	if (err && why)
		return lbpf_push_error(L, err, "unpin of map '%s' at '%s' "
				       "refused: %s", lbpf_map_name(m), path, why);
	if (err)
		return lbpf_push_error(L, err, "unpin of map '%s' at '%s' failed",
				       lbpf_map_name(m), path);
	lua_pushboolean(L, 1);
	return 1;
}

static int map_freeze(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);

	if (bpf_map_freeze(lbpf_map_ready_fd(L, m)))
		return lbpf_push_error(L, errno, "freeze of map '%s' failed",
				       lbpf_map_name(m));
	lua_pushboolean(L, 1);
	return 1;
}

static int map_info(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(lbpf_map_ready_fd(L, m), &info, &len))
		return lbpf_push_error(L, errno, "info of map '%s' failed",
				       lbpf_map_name(m));
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

/* ---- metamethods ----------------------------------------------------------------- */

/* Push field `k` of the map (1), or return 0 when `k` names none. */
static int map_field(lua_State *L, struct lbpf_map *m, const char *k)
{
	if (strcmp(k, "name") == 0)
		lua_pushstring(L, lbpf_map_name(m));
	else if (strcmp(k, "type") == 0)
		lua_pushstring(L, lbpf_map_type_name(lbpf_map_type(m)));
	else if (strcmp(k, "key_size") == 0)
		lua_pushinteger(L, lbpf_map_key_size(m));
	else if (strcmp(k, "value_size") == 0)
		lua_pushinteger(L, lbpf_map_value_size(m));
	else if (strcmp(k, "max_entries") == 0)
		lua_pushinteger(L, m->map ? bpf_map__max_entries(m->map)
				   : m->max_entries);
	else if (strcmp(k, "flags") == 0)
		lua_pushinteger(L, m->map ? bpf_map__map_flags(m->map) : m->flags);
	else if (strcmp(k, "fd") == 0)
		lua_pushinteger(L, lbpf_map_fd(m));
	else if (strcmp(k, "pin_path") == 0 && m->map)
		lua_pushstring(L, bpf_map__pin_path(m->map));
	else if (strcmp(k, "autocreate") == 0 && m->map)
		lua_pushboolean(L, bpf_map__autocreate(m->map));
	else
		return 0;
	return 1;
}

/* The class table's getter (the template's __index, for calls by hand):
 * fields, else m[key] */
static int map_get(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);

	if (lua_type(L, 2) == LUA_TSTRING && map_field(L, m, lua_tostring(L, 2)))
		return 1;
	return map_lookup(L);
}

/* What a map handle's method table falls back to (bound: upvalue 1 is the
 * handle; called with the method table and the key): an integer key of a
 * plain integer map goes straight to the syscall; a string is a field, a
 * misspelt method or field (lbpf_index_near_miss), or a key; anything
 * else is a key. */
static int map_index(lua_State *L)
{
	struct lbpf_map *m = lua_touserdata(L, lua_upvalueindex(1));

	if (m->cached && m->int_key && m->int_value && !map_closed(m) &&
	    lua_isinteger(L, 2) && lookup_int(L, m))
		return 1;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_replace(L, 1);
	lua_settop(L, 2);
	m = lbpf_check_map(L, 1);
	if (lua_type(L, 2) == LUA_TSTRING) {
		if (map_field(L, m, lua_tostring(L, 2)) ||
		    lbpf_index_near_miss(L, LBPF_MAP, map_get))
			return 1;
	}
	return lookup_general(L, m, hot_fd(L, 1, m));
}

/* m[key] = value updates, m[key] = nil deletes (an absent key is no
 * error); an assignment has no result to return, so the kernel's no (an
 * array map's EINVAL, EPERM...) is raised, for delete as for update. */
static int map_newindex(lua_State *L)
{
	struct lbpf_map *m = bound_map(L);

	if (m && m->cached && m->int_key && m->int_value &&
	    lua_isinteger(L, 2) && lua_isinteger(L, 3)) {
		int r = update_int(L, m, BPF_ANY);

		if (r == 3)
			return luaL_error(L, "%s", lua_tostring(L, -2));
		if (r)
			return 0;
	}
	if (lua_isnil(L, 3)) {
		lua_settop(L, 2);
		if (map_delete(L) == 3)
			return luaL_error(L, "%s", lua_tostring(L, -2));
		return 0;
	}
	lua_settop(L, 3);
	if (map_update(L) == 3)
		return luaL_error(L, "%s", lua_tostring(L, -2));
	return 0;
}

/* Standalone maps own their fd; object maps belong to the object. */
static void map_release(lua_State *L, struct lbpf_map *m)
{
	if (!m->owner && !m->closed) {
		m->closed = 1;
		lbpf_map_mmap_release(L, 1);
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
	}
}

/* m:close(), __close: not while a call is using the map (its fd, its
 * views' memory) */
static int map_close(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_class(L, 1, LBPF_MAP);

	if (!m->owner && !m->closed)
		lbpf_check_map_not_busy(L, m);
	map_release(L, m);
	return 0;
}

/* __gc: no call can be using a map being collected (a busy mark left by
 * a coroutine that raised is stale) */
static int map_gc(lua_State *L)
{
	map_release(L, lbpf_check_class(L, 1, LBPF_MAP));
	return 0;
}

static int map_tostring(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_class(L, 1, LBPF_MAP);

	if (map_closed(m)) {
		lua_pushstring(L, "libbpf.map (closed)");
		return 1;
	}
	lua_pushfstring(L, "libbpf.map(%s, %s, key=%d value=%d, max=%d, fd=%d)",
			lbpf_map_name(m), lbpf_map_type_name(lbpf_map_type(m)),
			(int)lbpf_map_key_size(m), (int)lbpf_map_value_size(m),
			(int)(m->map ? bpf_map__max_entries(m->map)
				     : m->max_entries), lbpf_map_fd(m));
	return 1;
}

void lbpf_open_map(lua_State *L)
{
	static const char *const fields[] = {
		"name", "type", "key_size", "value_size", "max_entries", "flags", "fd", "pin_path", "autocreate", NULL
	};
	static const luaL_Reg meta[] = {
		{"__gc", map_gc},
		{"__close", map_close},
		{"__tostring", map_tostring},
		{"__pairs", map_pairs},
		{"__newindex", map_newindex},
		{NULL, NULL}
	};
	static const luaL_Reg methods[] = {
		{"lookup", map_lookup},
		{"update", map_update},
		{"delete", map_delete},
		{"lookup_and_delete", map_lookup_and_delete},
		{"keys", map_keys},
		{"push", map_push},
		{"pop", map_pop},
		{"peek", map_peek},
		{"pairs", map_pairs},
		{"pin", map_pin},
		{"unpin", map_unpin},
		{"freeze", map_freeze},
		{"info", map_info},
		{"close", map_close},
		{NULL, NULL}
	};

	/* bound to each handle (lbpf_class_bind): the hot methods compare
	 * their first argument with their handle, m[k] and m[k] = v go to
	 * the key path without looking for a method first */
	static const luaL_Reg bound[] = {
		{"lookup", map_lookup},
		{"update", map_update},
		{"__newindex", map_newindex},
		{"__index", map_index},
		{NULL, NULL}
	};

	static const luaL_Reg *const tables[] = {
		methods, lbpf_map_config_methods, lbpf_map_bulk_methods,
		lbpf_map_struct_ops_methods, lbpf_map_mmap_methods,
		lbpf_map_conv_methods, NULL
	};

	lbpf_new_class_tables(L, LBPF_MAP, meta, tables, map_get);
	lbpf_class_fields(L, LBPF_MAP, fields);
	lbpf_class_bind(L, LBPF_MAP, bound);
	luaL_setfuncs(L, lbpf_map_functions, 0); /* map_new.c */
	lbpf_open_map_mmap(L);
}
