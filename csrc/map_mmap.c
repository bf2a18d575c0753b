/*
 * map_mmap.c - m:mmap(): the memory of an array map created with
 * BPF_F_MMAPABLE, mapped into the process, and `libbpf.mmap_view`, the
 * handle whose v[i] / v[i] = x read and write it with plain loads and
 * stores (no system call), and whose v:read() / v:write() copy whole runs
 * of elements in one call. map.c lists `lbpf_map_mmap_methods`; map.c and
 * object.c call lbpf_map_mmap_release when a map or an object closes.
 *
 * A view holds its map handle in user value 1 (so the map, and through it
 * the object and the BTF its codec indexes into, outlive it). The memory is
 * unmapped at close (the kernel frees the map only when no mapping is
 * left): the release sets `base` to NULL, and every access tests `base`,
 * so a closed view raises instead of touching unmapped memory. The views
 * to unmap are found in a weak table of the map's owner: an object's user
 * value table ("views"), a standalone map's user value 2.
 *
 * v[i] is the hot path. The class is bound keys first
 * (lbpf_class_bind_keyed): each view has its own metatable whose
 * metamethods, __index included, are C closures holding the view itself
 * (upvalue 1; upvalue 2 is the method table): __index needs neither
 * luaL_checkudata nor a metatable compare to know the view it reads, only
 * the closed test, the bounds check and the load. The registry's
 * "libbpf.mmap_view" is the template (the same functions, no view: they
 * raise "not a view"), for the class's name and its documentation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codec.h"
#include "map.h"

#define LBPF_MMAP_VIEW "libbpf.mmap_view"

/* a bound function's view (lbpf_class_bind_keyed), and the methods */
#define VIEW_UP lua_upvalueindex(1)
#define METHODS_UP lua_upvalueindex(2)

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

static int view_closed(lua_State *L, struct mmap_view *v)
{
	if (!v)   /* the registry's template, called by hand */
		return luaL_error(L, "libbpf.mmap_view: not a view");
	return luaL_error(L, "libbpf.mmap_view: map '%s' is closed", v->name);
}

/* The view of a metamethod closure, still mapped, or raise. */
static struct mmap_view *view_up(lua_State *L)
{
	struct mmap_view *v = lua_touserdata(L, VIEW_UP);

	if (!v || !v->base)
		view_closed(L, v);
	return v;
}

/* The view at idx (a method's self), still mapped, or raise (each view
 * has its own metatable, so luaL_checkudata cannot tell). */
static struct mmap_view *view_arg(lua_State *L, int idx)
{
	struct mmap_view *v = lbpf_check_class(L, idx, LBPF_MMAP_VIEW);

	if (!v->base)
		view_closed(L, v);
	return v;
}

static int view_range(lua_State *L, struct mmap_view *v, lua_Integer i)
{
	return luaL_error(L, "libbpf.mmap_view: index %I out of range 0..%d of "
			  "map '%s'", i, (int)v->n - 1, v->name);
}

/* The index at 2 as an integer (floats with an integral value and numeric
 * strings too, as tables do), or raise. */
static lua_Integer view_key(lua_State *L)
{
	int ok;
	lua_Integer i = lua_tointegerx(L, 2, &ok);

	if (!ok)
		luaL_error(L, "libbpf.mmap_view: index must be an integer, got %s",
			   luaL_typename(L, 2));
	return i;
}

/* Push element i, decoded through the codec from a private copy in buf
 * (v->size bytes): the decoder allocates, an allocation may run a
 * finalizer, and a finalizer may close the map and unmap the memory under
 * it. (A copy also decodes one state of the element, not fields of two.) */
static void view_decode_at(lua_State *L, struct mmap_view *v, lua_Integer i,
			   char *buf)
{
	if (!v->base)   /* unmapped by a finalizer run by an allocation */
		view_closed(L, v);
	memcpy(buf, v->base + (size_t)i * v->stride, v->size);
	lbpf_map_decode(L, v->c, buf, v->size);
}

/* A buffer of v->size bytes for view_decode_at: `small`, or a userdata
 * pushed on the stack. */
static char *view_scratch(lua_State *L, const struct mmap_view *v, char *small)
{
	return v->size <= STACK_VALUE ? small : lua_newuserdatauv(L, v->size, 0);
}

static void view_push_decoded(lua_State *L, struct mmap_view *v, lua_Integer i)
{
	char small[STACK_VALUE];

	view_decode_at(L, v, i, view_scratch(L, v, small));
}

/* Push element i (in range, mapped). */
static void view_push(lua_State *L, struct mmap_view *v, lua_Integer i)
{
	const char *p = v->base + (size_t)i * v->stride;

	switch (v->ints) {
	case 1: lua_pushinteger(L, *(const volatile uint8_t *)p); break;
	case 2: lua_pushinteger(L, *(const volatile uint16_t *)p); break;
	case 4: lua_pushinteger(L, *(const volatile uint32_t *)p); break;
	case 8: lua_pushinteger(L, (lua_Integer)*(const volatile uint64_t *)p); break;
	case -1: lua_pushinteger(L, *(const volatile int8_t *)p); break;
	case -2: lua_pushinteger(L, *(const volatile int16_t *)p); break;
	case -4: lua_pushinteger(L, *(const volatile int32_t *)p); break;
	case -8: lua_pushinteger(L, *(const volatile int64_t *)p); break;
	default: view_push_decoded(L, v, i);
	}
}

/* v.name: a method, else the key as an index (v[2.0], v["2"]) */
static int view_index_slow(lua_State *L)
{
	struct mmap_view *v = view_up(L);
	lua_Integer i;

	lua_settop(L, 2);
	if (lua_type(L, 2) == LUA_TSTRING) {
		lua_pushvalue(L, 2);
		if (lua_rawget(L, METHODS_UP) != LUA_TNIL)
			return 1;
		lua_pop(L, 1);
	}
	i = view_key(L);
	if (i < 0 || (lua_Unsigned)i >= v->n)
		return view_range(L, v, i);
	view_push(L, v, i);
	return 1;
}

/* v[i]: the tests in the order of their cost, anything unusual to the
 * slow path */
static int view_index(lua_State *L)
{
	struct mmap_view *v = lua_touserdata(L, VIEW_UP);
	int ok;
	lua_Unsigned i = (lua_Unsigned)lua_tointegerx(L, 2, &ok);

	if (!ok || !v || !v->base)
		return view_index_slow(L);
	if (i >= v->n)
		return view_range(L, v, (lua_Integer)i);
	view_push(L, v, (lua_Integer)i);
	return 1;
}

/* x fits `ints` bytes read signed or unsigned (else the codec's path
 * raises as m:update would) */
static int mmap_int_fits(int ints, lua_Integer x)
{
	int bits = 8 * abs(ints);

	if (bits == 64)
		return 1;
	return x >= -((lua_Integer)1 << (bits - 1)) &&
	       x < ((lua_Integer)1 << bits);
}

/* Store the integer x in `ints` bytes at p. */
static void view_store_int(char *p, int ints, lua_Integer x)
{
	lbpf_store_uint(p, (__u32)abs(ints), (__u64)x);
}

/* Encode the value at idx into buf (v->size bytes), or raise as
 * m:update would; buf is untouched memory of the caller's. */
static void view_encode(lua_State *L, struct mmap_view *v, int idx, char *buf)
{
	if (v->ints && lua_isinteger(L, idx) &&
	    mmap_int_fits(v->ints, lua_tointeger(L, idx))) {
		view_store_int(buf, v->ints, lua_tointeger(L, idx));
		return;
	}
	memset(buf, 0, v->size);
	lbpf_map_encode(L, idx, v->c, buf, v->size, "value");
}

/* Mark the map in use until the view call returns (its object's count,
 * or a standalone map's own): values that are not plain integers go
 * through the codec, whose Lua code (a table's __len, a finalizer run by
 * an allocation) could otherwise close the object and free the codecs, or
 * close the map and unmap the memory, mid-call; obj:close() and m:close()
 * then raise "in use". */
static void view_busy(lua_State *L, struct mmap_view *v, int keepidx)
{
	lbpf_map_busy(L, v->m, keepidx);
}

static void view_writable(lua_State *L, struct mmap_view *v)
{
	if (v->readonly)
		luaL_error(L, "libbpf.mmap_view: map '%s' is mapped read-only "
			   "(frozen)", v->name);
}

static int view_newindex(lua_State *L)
{
	struct mmap_view *v = view_up(L);
	lua_Integer i = view_key(L);
	char small[STACK_VALUE];
	char *p, *buf;

	if (i < 0 || (lua_Unsigned)i >= v->n)
		return view_range(L, v, i);
	view_writable(L, v);
	switch (v->ints) {   /* the common case: one store */
	case 8: case -8:
		if (lua_isinteger(L, 3)) {
			p = v->base + (size_t)i * v->stride;
			*(volatile int64_t *)p = lua_tointeger(L, 3);
			return 0;
		}
		break;
	}
	/* encode aside first: a value that fails half-way leaves the element
	 * as it was; the encoder may run Lua code (a table's __len, a
	 * finalizer) that closes the map, so the memory is looked up after */
	if (!v->ints || !lua_isinteger(L, 3))
		view_busy(L, v, VIEW_UP);
	buf = v->size <= sizeof(small) ? small
	      : lua_newuserdatauv(L, v->size, 0);
	view_encode(L, v, 3, buf);
	if (!v->base)
		return view_closed(L, v);
	p = v->base + (size_t)i * v->stride;
	memcpy(p, buf, v->size);
	return 0;
}

/* first and n of v:read/v:write, within 0..#v, or raise */
static void view_span(lua_State *L, struct mmap_view *v, lua_Integer first,
		      lua_Integer n)
{
	if (first < 0 || first > (lua_Integer)v->n || n < 0 ||
	    n > (lua_Integer)v->n - first)   /* (the last one wraps, not overflows) */
		luaL_error(L, "libbpf.mmap_view: elements %I..%I out of range "
			   "0..%d of map '%s'", first,
			   (lua_Integer)((lua_Unsigned)first + (lua_Unsigned)n - 1),
			   (int)v->n - 1, v->name);
	if (n > INT_MAX - 1)
		luaL_error(L, "libbpf.mmap_view: %I elements do not fit a table", n);
}

/* Push the n elements from p on the stack (room made by the caller), the
 * kind tested once, outside the loop. */
#define PUSH_INTS(T) \
	for (j = 0; j < n; j++, p += v->stride) \
		lua_pushinteger(L, (lua_Integer)*(const volatile T *)p); \
	break

static void view_push_run(lua_State *L, struct mmap_view *v, lua_Integer first,
			  int n, char *buf)
{
	const char *p;
	int j;

	if (!v->base)   /* unmapped by a finalizer run by an allocation */
		view_closed(L, v);
	p = v->base + (size_t)first * v->stride;
	switch (v->ints) {
	case 1: PUSH_INTS(uint8_t);
	case 2: PUSH_INTS(uint16_t);
	case 4: PUSH_INTS(uint32_t);
	case 8: PUSH_INTS(uint64_t);
	case -1: PUSH_INTS(int8_t);
	case -2: PUSH_INTS(int16_t);
	case -4: PUSH_INTS(int32_t);
	case -8: PUSH_INTS(int64_t);
	default:
		for (j = 0; j < n; j++)
			view_decode_at(L, v, first + j, buf);
	}
}

/* v:read([first [, n]]) -> {v[first], ..., v[first + n - 1]}
 *
 * The values are pushed on the stack and packed by lbpf_push_packer's
 * `{...}`: the VM fills a table sized once from its stack at a fraction of
 * what lua_rawseti costs per element (5 against 10 ns here). Runs that do
 * not fit the stack go one lua_rawseti at a time. */
static int view_read(lua_State *L)
{
	struct mmap_view *v = view_arg(L, 1);
	lua_Integer first = luaL_optinteger(L, 2, 0), n, j;
	char small[STACK_VALUE];
	char *buf;

	n = luaL_optinteger(L, 3, first >= 0 && first <= (lua_Integer)v->n
			    ? (lua_Integer)v->n - first : 0);
	view_span(L, v, first, n);
	lua_settop(L, 3);
	if (!v->ints)
		view_busy(L, v, 1);
	buf = v->ints ? NULL : view_scratch(L, v, small);
	if (lbpf_can_pack(L, n)) {
		lbpf_push_packer(L);
		view_push_run(L, v, first, (int)n, buf);
		lua_call(L, (int)n, 1);
		return 1;
	}
	lua_createtable(L, (int)n, 0);
	for (j = 0; j < n; j++) {
		view_push_run(L, v, first + j, 1, buf);
		lua_rawseti(L, -2, j + 1);
	}
	return 1;
}

/* Encode t[j + 1..j + k] (t at 3) into buf: pushed at once, then read
 * off the stack: two API calls per integer besides the push. */
#define WRITE_BLOCK 256
static void view_encode_block(lua_State *L, struct mmap_view *v, int top,
			      lua_Integer j, lua_Integer k, char *buf)
{
	lua_Integer e;

	for (e = 1; e <= k; e++)
		lua_rawgeti(L, 3, j + e);
	for (e = 1; e <= k; e++, buf += v->size) {
		int idx = top + (int)e;
		lua_Integer x;

		if (v->ints && lua_isinteger(L, idx) &&
		    mmap_int_fits(v->ints, x = lua_tointeger(L, idx)))
			view_store_int(buf, v->ints, x);
		else   /* floats, strings, tables...: as v[i] = x */
			view_encode(L, v, idx, buf);
	}
	lua_settop(L, top);
}

/* Copy n encoded values from buf into the mapping at p (the elements
 * `stride` apart), one store each for integers. */
#define COPY_INTS(T) \
	for (j = 0; j < n; j++, p += v->stride, buf += sizeof(T)) { \
		T x; \
		memcpy(&x, buf, sizeof(T)); \
		*(volatile T *)p = x; \
	} \
	break

static void view_copy_run(const struct mmap_view *v, char *p, const char *buf,
			  lua_Integer n)
{
	lua_Integer j;

	switch (v->ints) {
	case 1: case -1: COPY_INTS(uint8_t);
	case 2: case -2: COPY_INTS(uint16_t);
	case 4: case -4: COPY_INTS(uint32_t);
	case 8: case -8: COPY_INTS(uint64_t);
	default:
		for (j = 0; j < n; j++, p += v->stride, buf += v->size)
			memcpy(p, buf, v->size);
	}
}

/* v:write(first, t): t[1..#t] into elements first.., all encoded before
 * any is stored (a value that does not encode leaves the array as it
 * was) */
static int view_write(lua_State *L)
{
	struct mmap_view *v = view_arg(L, 1);
	lua_Integer first = luaL_checkinteger(L, 2), n, j;
	char *buf, *p;
	int top;

	luaL_checktype(L, 3, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 3);
	view_span(L, v, first, n);
	view_writable(L, v);
	if (!v->ints)
		view_busy(L, v, 1);
	buf = lua_newuserdatauv(L, (size_t)n * v->size, 0);
	top = lua_gettop(L);
	/* a block, and room for what the codec pushes on top of it */
	luaL_checkstack(L, WRITE_BLOCK + LUA_MINSTACK, "v:write");
	for (j = 0; j < n; j += WRITE_BLOCK)   /* a block on the stack */
		view_encode_block(L, v, top, j, n - j < WRITE_BLOCK ? n - j : WRITE_BLOCK,
				  buf + (size_t)j * v->size);
	if (!v->base)   /* closed by Lua code the encoder ran */
		return view_closed(L, v);
	p = v->base + (size_t)first * v->stride;
	view_copy_run(v, p, buf, n);
	lua_pushvalue(L, 1);   /* (no settop below a busy guard) */
	return 1;
}

static int view_len(lua_State *L)
{
	lua_pushinteger(L, view_up(L)->n);
	return 1;
}

static int view_gc(lua_State *L)
{
	struct mmap_view *v = lua_touserdata(L, VIEW_UP);

	if (v)
		mmap_unmap(v);
	return 0;
}

static int view_tostring(lua_State *L)
{
	struct mmap_view *v = lua_touserdata(L, VIEW_UP);

	if (!v)
		lua_pushliteral(L, LBPF_MMAP_VIEW);
	else if (!v->base)
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

/* Push the weak table of live views (view -> true) of the handle at idx:
 * an object keeps its maps' views in its user value table ("views"), a
 * standalone map its own in its user value 2; made when `create`. Returns
 * 0 (nil pushed) when there is none. */
static int views_push(lua_State *L, int idx, int create)
{
	struct lbpf_map *m = lbpf_test_class(L, idx, LBPF_MAP);
	int r;

	idx = lua_absindex(L, idx);
	if (m && m->owner) {   /* an object's map: the object's table */
		lua_getiuservalue(L, idx, 1);
		r = views_push(L, -1, create);
		lua_remove(L, -2);
		return r;
	}
	if (!m) {              /* an object */
		lua_getiuservalue(L, idx, 1);
		if (lua_getfield(L, -1, "views") == LUA_TTABLE || !create) {
			lua_remove(L, -2);
			return lua_type(L, -1) == LUA_TTABLE;
		}
	} else if (lua_getiuservalue(L, idx, 2) == LUA_TTABLE || !create) {
		return lua_type(L, -1) == LUA_TTABLE;
	}
	lua_pop(L, 1);
	lua_newtable(L);   /* weak keys: the table never keeps a view alive */
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	if (m) {
		lua_setiuservalue(L, idx, 2);
	} else {
		lua_setfield(L, -3, "views");
		lua_remove(L, -2);
	}
	return 1;
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
	lbpf_set_own_metatable(L, LBPF_MMAP_VIEW);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	err = mmap_map(v, fd);
	if (err)
		return lbpf_push_error(L, err, "mmap of map '%s' failed", v->name);
	views_push(L, 1, 1);
	lua_pushvalue(L, -2);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	return 1;
}

void lbpf_map_mmap_release(lua_State *L, int idx)
{
	if (!views_push(L, idx, 0)) {
		lua_pop(L, 1);
		return;
	}
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		mmap_unmap(lua_touserdata(L, -1));   /* only views */
	}
	lua_pop(L, 1);
}

const luaL_Reg lbpf_map_mmap_methods[] = {
	{"mmap", map_mmap},
	{NULL, NULL}
};

/* The template's getter (class_index's, for keys that are not methods):
 * the template is no view. */
static int view_template_index(lua_State *L)
{
	return view_closed(L, NULL);
}

void lbpf_open_map_mmap(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"read", view_read},
		{"write", view_write},
		{NULL, NULL}
	};
	/* the metamethods, bound to each view (its closures' upvalue 1); in
	 * the template in the registry they have no view and raise */
	static const luaL_Reg meta[] = {
		{"__index", view_index},
		{"__newindex", view_newindex},
		{"__len", view_len},
		{"__gc", view_gc},
		{"__close", view_gc},
		{"__tostring", view_tostring},
		{NULL, NULL}
	};

	lbpf_new_class(L, LBPF_MMAP_VIEW, meta + 1, methods, view_template_index);
	lbpf_class_bind_keyed(L, LBPF_MMAP_VIEW, meta);
}
