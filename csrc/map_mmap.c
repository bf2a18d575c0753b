/*
 * map_mmap.c - m:mmap(): the memory of an array map created with
 * BPF_F_MMAPABLE, mapped into the process, and `libbpf.mmap_view`, the
 * handle whose v[i] / v[i] = x read and write it with plain loads and
 * stores (no system call). map.c lists `lbpf_map_mmap_methods`; map.c and
 * object.c call lbpf_map_mmap_release when a map or an object closes.
 *
 * A view holds its map handle in user value 1 (so the map, and through it
 * the object and the BTF its codec indexes into, outlive it) and checks on
 * every access that neither is closed: the memory is unmapped at close
 * (the kernel frees the map only when no mapping is left), and a closed
 * view raises instead of touching it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codec.h"
#include "map.h"

#define LBPF_MMAP_VIEW "libbpf.mmap_view"
/* registry key of the weak table of live views (view -> true) */
static const char views_key = 0;

struct mmap_view {
	struct lbpf_map *m;     /* the map handle in user value 1 */
	char *base;             /* the mapping, NULL once unmapped */
	size_t len;             /* bytes mapped */
	__u32 n;                /* max_entries */
	__u32 size, stride;     /* value size; element spacing (8-aligned) */
	int readonly;           /* mapped without PROT_WRITE (frozen map) */
	int ints;               /* plain integer value: size, negative if signed */
	struct lbpf_codec *c;   /* value codec, NULL: integers/raw bytes */
	char name[BPF_OBJ_NAME_LEN];
};

static void mmap_unmap(struct mmap_view *v)
{
	if (v->base) {
		munmap(v->base, v->len);
		v->base = NULL;
	}
}

/* The view at idx with its memory still mapped, or raise. */
static struct mmap_view *mmap_check(lua_State *L, int idx)
{
	struct mmap_view *v = luaL_checkudata(L, idx, LBPF_MMAP_VIEW);

	if (!v->base || v->m->closed || (v->m->owner && v->m->owner->closed)) {
		mmap_unmap(v);
		luaL_error(L, "libbpf.mmap_view: map '%s' is closed", v->name);
	}
	return v;
}

/* mmap_check for the metamethods, which carry the metatable as upvalue 1:
 * a pointer compare instead of a registry lookup by name (v[i] is the hot
 * path); the full check and its messages otherwise. */
static struct mmap_view *mmap_fast(lua_State *L)
{
	struct mmap_view *v = lua_touserdata(L, 1);

	if (v && lua_getmetatable(L, 1)) {
		int same = lua_rawequal(L, -1, lua_upvalueindex(1));

		lua_pop(L, 1);
		if (same && v->base && !v->m->closed &&
		    !(v->m->owner && v->m->owner->closed))
			return v;
	}
	return mmap_check(L, 1);
}

/* The element at the index at 2, or raise naming the index and the size. */
static char *mmap_elem(lua_State *L, struct mmap_view *v)
{
	int ok;
	lua_Integer i = lua_tointegerx(L, 2, &ok);

	if (!ok)
		luaL_error(L, "libbpf.mmap_view: index must be an integer, got %s",
			   luaL_typename(L, 2));
	if (i < 0 || (lua_Unsigned)i >= v->n)
		luaL_error(L, "libbpf.mmap_view: index %I out of range 0..%d of "
			   "map '%s'", i, (int)v->n - 1, v->name);
	return v->base + (size_t)i * v->stride;
}

static int mmap_index(lua_State *L)
{
	struct mmap_view *v = mmap_fast(L);
	const char *p = mmap_elem(L, v);

	switch (v->ints) {
	case 1: lua_pushinteger(L, *(const volatile uint8_t *)p); break;
	case 2: lua_pushinteger(L, *(const volatile uint16_t *)p); break;
	case 4: lua_pushinteger(L, *(const volatile uint32_t *)p); break;
	case 8: lua_pushinteger(L, (lua_Integer)*(const volatile uint64_t *)p); break;
	case -1: lua_pushinteger(L, *(const volatile int8_t *)p); break;
	case -2: lua_pushinteger(L, *(const volatile int16_t *)p); break;
	case -4: lua_pushinteger(L, *(const volatile int32_t *)p); break;
	case -8: lua_pushinteger(L, *(const volatile int64_t *)p); break;
	default: lbpf_map_decode(L, v->c, p, v->size);
	}
	return 1;
}

/* v fits `ints` bytes read signed or unsigned (else the codec's path
 * raises as m:update would) */
static int mmap_int_fits(int ints, lua_Integer v)
{
	int bits = 8 * abs(ints);

	if (bits == 64)
		return 1;
	return v >= -((lua_Integer)1 << (bits - 1)) &&
	       v < ((lua_Integer)1 << bits);
}

static int mmap_newindex(lua_State *L)
{
	struct mmap_view *v = mmap_fast(L);
	char *p = mmap_elem(L, v);
	char small[STACK_VALUE];
	char *buf;

	if (v->readonly)
		return luaL_error(L, "libbpf.mmap_view: map '%s' is mapped "
				  "read-only (frozen)", v->name);
	if (v->ints && lua_isinteger(L, 3) &&
	    mmap_int_fits(v->ints, lua_tointeger(L, 3))) {
		lbpf_store_uint(p, (__u32)abs(v->ints), (__u64)lua_tointeger(L, 3));
		return 0;
	}
	/* encode aside first: a value that fails half-way leaves the element
	 * as it was */
	buf = v->size <= sizeof(small) ? small
	      : lua_newuserdatauv(L, v->size, 0);
	memset(buf, 0, v->size);
	lbpf_map_encode(L, 3, v->c, buf, v->size, "value");
	memcpy(p, buf, v->size);
	return 0;
}

static int mmap_len(lua_State *L)
{
	struct mmap_view *v = mmap_check(L, 1);

	lua_pushinteger(L, v->n);
	return 1;
}

static int mmap_gc(lua_State *L)
{
	mmap_unmap(luaL_checkudata(L, 1, LBPF_MMAP_VIEW));
	return 0;
}

static int mmap_tostring(lua_State *L)
{
	struct mmap_view *v = luaL_checkudata(L, 1, LBPF_MMAP_VIEW);

	if (!v->base)
		lua_pushfstring(L, "libbpf.mmap_view(%s, closed)", v->name);
	else
		lua_pushfstring(L, "libbpf.mmap_view(%s, %d x %d bytes%s)", v->name,
				(int)v->n, (int)v->size,
				v->readonly ? ", read-only" : "");
	return 1;
}

/* Map the array; a map frozen (or read-only to user space) refuses a
 * writable mapping and is mapped read-only. */
static int mmap_map(struct mmap_view *v, int fd)
{
	void *p = mmap(NULL, v->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED && (errno == EPERM || errno == EACCES)) {
		p = mmap(NULL, v->len, PROT_READ, MAP_SHARED, fd, 0);
		v->readonly = 1;
	}
	if (p == MAP_FAILED)
		return errno;
	v->base = p;
	return 0;
}

/* m:mmap() -> view, or nil, msg, errno */
static int map_mmap(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	int fd = lbpf_map_ready_fd(L, m);
	__u32 flags = m->map ? bpf_map__map_flags(m->map) : m->flags;
	long page = sysconf(_SC_PAGE_SIZE);
	struct mmap_view *v;
	size_t bytes;
	int err;

	if (lbpf_map_type(m) != BPF_MAP_TYPE_ARRAY || !(flags & BPF_F_MMAPABLE))
		return luaL_error(L, "libbpf.mmap_view: map '%s' is not an array "
				  "created with flags {\"mmapable\"} "
				  "(BPF_F_MMAPABLE)", lbpf_map_name(m));
	lbpf_map_ensure_codecs(L, 1, m);
	v = lua_newuserdatauv(L, sizeof(*v), 1);
	memset(v, 0, sizeof(*v));
	v->m = m;
	v->n = m->map ? bpf_map__max_entries(m->map) : m->max_entries;
	v->size = lbpf_map_value_size(m);
	v->stride = (v->size + 7) / 8 * 8;  /* the kernel's array layout */
	v->c = m->value_codec;
	v->ints = v->c ? lbpf_codec_int(v->c)
		: (v->size == 1 || v->size == 2 || v->size == 4 || v->size == 8)
		? (int)v->size : 0;
	snprintf(v->name, sizeof(v->name), "%s", lbpf_map_name(m));
	bytes = (size_t)v->stride * v->n;
	v->len = (bytes + page - 1) / page * page;
	luaL_setmetatable(L, LBPF_MMAP_VIEW);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	err = mmap_map(v, fd);
	if (err)
		return lbpf_push_error(L, err, "mmap of map '%s' failed", v->name);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &views_key);
	lua_pushvalue(L, -2);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	return 1;
}

void lbpf_map_mmap_release(lua_State *L, const void *map_or_object)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &views_key) != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		struct mmap_view *v = luaL_testudata(L, -2, LBPF_MMAP_VIEW);

		lua_pop(L, 1);
		if (v && ((const void *)v->m == map_or_object ||
			  (const void *)v->m->owner == map_or_object))
			mmap_unmap(v);
	}
	lua_pop(L, 1);
}

const luaL_Reg lbpf_map_mmap_methods[] = {
	{"mmap", map_mmap},
	{NULL, NULL}
};

void lbpf_open_map_mmap(lua_State *L)
{
	static const luaL_Reg hot[] = {   /* the metatable as upvalue */
		{"__index", mmap_index},
		{"__newindex", mmap_newindex},
		{NULL, NULL}
	};
	static const luaL_Reg meta[] = {
		{"__len", mmap_len},
		{"__gc", mmap_gc},
		{"__close", mmap_gc},
		{"__tostring", mmap_tostring},
		{NULL, NULL}
	};

	luaL_newmetatable(L, LBPF_MMAP_VIEW);
	luaL_setfuncs(L, meta, 0);
	lua_pushvalue(L, -1);
	luaL_setfuncs(L, hot, 1);
	lua_pop(L, 1);
	/* weak keys: the table never keeps a view alive */
	lua_newtable(L);
	lua_newtable(L);
	lua_pushstring(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &views_key);
}
