/*
 * vars.c - `libbpf.vars` (obj.vars): the globals of an object's internal
 * maps (.rodata, .data, .bss, .kconfig and custom sections) by name, read
 * and written through the codecs of their BTF types.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "btfcheck.h"
#include "codec.h"
#include "handles.h"
#include "vars.h"

/* ---- obj.vars: globals of the internal maps (.rodata, .data, .bss, ...) --- */

#define LBPF_VARS "libbpf.vars"

struct lbpf_vars {
	int remapped;                   /* live mmaps installed after load */
};

/* one global: where it lives and how to convert it */
struct var_desc {
	struct bpf_map *map;
	__u32 off, size;
	const struct lbpf_codec *c;     /* NULL: raw bytes */
};

static struct lbpf_object *vars_object(lua_State *L, int idx)
{
	struct lbpf_object *o;

	luaL_checkudata(L, idx, LBPF_VARS);
	lua_getiuservalue(L, idx, 1);
	o = luaL_checkudata(L, -1, LBPF_OBJECT);
	lua_pop(L, 1);
	if (o->closed || !o->obj)
		luaL_error(L, "libbpf.vars: object is closed");
	return o;
}

static int vars_is_readonly(const struct bpf_map *map)
{
	return !!(bpf_map__map_flags(map) & BPF_F_RDONLY_PROG);
}

/* Map the kernel's memory of `map` (fd) over libbpf's copy at p, len bytes.
 * The new mapping is made elsewhere first and then moved over p: a
 * MAP_FIXED mmap that fails (a frozen map refuses a writable mapping) has
 * already discarded what was at p, and libbpf would later munmap whatever
 * took that address. A map that refuses a writable mapping is mapped
 * read-only; returns 1 then, 0 for writable, -errno on failure (p intact). */
static int vars_map_over(void *p, size_t len, int fd, int readonly)
{
	int prot = readonly ? PROT_READ : PROT_READ | PROT_WRITE;
	void *q = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (q == MAP_FAILED && !readonly && errno == EPERM) {
		readonly = 1;
		q = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	}
	if (q == MAP_FAILED)
		return -errno;
	if (mremap(q, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, p) == MAP_FAILED) {
		int err = errno;

		munmap(q, len);
		return -err;
	}
	return readonly;
}

/* libbpf 1.1 keeps bpf_map__initial_value() pointing at its private copy
 * after load (only skeletons remap it); map the kernel's memory over that
 * copy, as bpf_object__load_skeleton does, so reads and writes are live and
 * libbpf's own munmap at close still matches. Maps mapped read-only (frozen
 * ones) are noted in the handle's user value 3. */
static void vars_remap(lua_State *L, struct lbpf_vars *v,
		       struct lbpf_object *o)
{
	struct bpf_map *map;
	long page = sysconf(_SC_PAGE_SIZE);

	if (v->remapped || !o->loaded)
		return;
	lua_getiuservalue(L, 1, 3);
	bpf_object__for_each_map(map, o->obj) {
		size_t size;
		void *p = (void *)bpf_map__initial_value(map, &size);
		size_t len = ((size + 7) / 8 * 8 + page - 1) / page * page;
		int r;

		if (!p || !bpf_map__is_internal(map) ||
		    !(bpf_map__map_flags(map) & BPF_F_MMAPABLE))
			continue;
		r = vars_map_over(p, len, bpf_map__fd(map),
				  vars_is_readonly(map));
		if (r < 0)
			luaL_error(L, "libbpf.vars: cannot map '%s': %s",
				   bpf_map__name(map), strerror(-r));
		lua_pushboolean(L, r);
		lua_rawsetp(L, -2, map);
	}
	lua_pop(L, 1);
	v->remapped = 1;
}

/* mapped read-only by vars_remap (frozen after load) */
static int vars_mapped_readonly(lua_State *L, const struct bpf_map *map)
{
	int ro;

	lua_getiuservalue(L, 1, 3);
	ro = lua_rawgetp(L, -1, map) == LUA_TBOOLEAN && lua_toboolean(L, -1);
	lua_pop(L, 2);
	return ro;
}

/* the descriptor of global `name` (argument 2), or raise */
static struct var_desc *vars_lookup(lua_State *L, int idx, const char **base)
{
	struct var_desc *d;
	size_t size;

	lua_getiuservalue(L, idx, 2);
	lua_pushvalue(L, 2);
	if (lua_rawget(L, -2) != LUA_TUSERDATA)
		luaL_error(L, "libbpf.vars: no global variable '%s'",
			   luaL_tolstring(L, 2, NULL));
	d = lua_touserdata(L, -1);
	lua_pop(L, 2);
	*base = bpf_map__initial_value(d->map, &size);
	/* in size_t: the offset and size come from the BTF, two u32s whose
	 * sum can wrap */
	if (!*base || size < (size_t)d->off + (size_t)d->size)
		luaL_error(L, "libbpf.vars: '%s' is not accessible (%I bytes at "
			   "%I, its section has %I)", lua_tostring(L, 2),
			   (LUAI_UACINT)d->size, (LUAI_UACINT)d->off,
			   (LUAI_UACINT)size);
	if (lbpf_codec_refused(d->c))
		luaL_error(L, "libbpf.vars: '%s': %s", lua_tostring(L, 2),
			   lbpf_codec_refused(d->c));
	return d;
}

/* after load, the globals are typed by the object's BTF only if the kernel
 * took it (issue 13 item 1: never decode silently with an unchecked copy) */
static void vars_check_btf(lua_State *L, struct lbpf_object *o)
{
	if (lbpf_btf_kernel_refused(o->obj, o->loaded))
		luaL_error(L, "libbpf.vars: the kernel refused the BTF of "
			   "object '%s': its globals are not read or written "
			   "with types the kernel did not check",
			   bpf_object__name(o->obj));
}

static int vars_index(lua_State *L)
{
	struct lbpf_object *o = vars_object(L, 1);
	const char *base;
	struct var_desc *d;

	vars_check_btf(L, o);
	vars_remap(L, lua_touserdata(L, 1), o);
	d = vars_lookup(L, 1, &base);
	if (d->c)
		lbpf_codec_decode(L, d->c, base + d->off, d->size);
	else
		lua_pushlstring(L, base + d->off, d->size);
	return 1;
}

static int vars_newindex(lua_State *L)
{
	struct lbpf_object *o = vars_object(L, 1);
	const char *base;
	struct var_desc *d;
	void *tmp;
	size_t len;

	vars_check_btf(L, o);
	vars_remap(L, lua_touserdata(L, 1), o);
	d = vars_lookup(L, 1, &base);
	if (o->loaded && vars_is_readonly(d->map))
		return luaL_error(L, "libbpf.vars: '%s' is read-only after load "
				  "(it lives in %s)", lua_tostring(L, 2),
				  bpf_map__name(d->map));
	if (o->loaded && vars_mapped_readonly(L, d->map))
		return luaL_error(L, "libbpf.vars: '%s' is read-only (its map "
				  "%s is frozen)", lua_tostring(L, 2),
				  bpf_map__name(d->map));
	/* encode aside first: a failed conversion leaves the global intact;
	 * the value's metamethods must not close the object (its memory) */
	lbpf_object_busy(L, o, 1);
	tmp = lua_newuserdatauv(L, d->size, 0);
	if (d->c) {
		lbpf_codec_encode(L, 3, d->c, tmp, d->size, lua_tostring(L, 2));
	} else {
		const char *s = luaL_checklstring(L, 3, &len);
		if (len != d->size)
			return luaL_error(L, "libbpf.vars: '%s' needs %d bytes, "
					  "got %d", lua_tostring(L, 2),
					  (int)d->size, (int)len);
		memcpy(tmp, s, len);
	}
	memcpy((char *)base + d->off, tmp, d->size);
	return 0;
}

/* the iterator of pairs(obj.vars); it may be called by hand with anything */
static int vars_next(lua_State *L)
{
	vars_object(L, 1);
	lua_settop(L, 2);
	lua_getiuservalue(L, 1, 2);
	lua_pushvalue(L, 2);
	if (!lua_next(L, -2))
		return 0;
	lua_pop(L, 1);
	lua_replace(L, 2);
	lua_settop(L, 2);
	lua_pushvalue(L, 2);
	lua_pushcfunction(L, vars_index);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_call(L, 2, 1);
	return 2;
}

static int vars_pairs(lua_State *L)
{
	vars_object(L, 1);
	lua_pushcfunction(L, vars_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

static int vars_tostring(lua_State *L)
{
	int n = 0;

	luaL_checkudata(L, 1, LBPF_VARS);
	lua_getiuservalue(L, 1, 2);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		n++;
		lua_pop(L, 1);
	}
	lua_pushfstring(L, "libbpf.vars (%d globals)", n);
	return 1;
}

/* add the VARs of the DATASEC behind internal map `map` to the table at -1 */
static void vars_collect(lua_State *L, const struct btf *btf,
			 struct bpf_map *map)
{
	const struct btf_type *sec =
		btf__type_by_id(btf, bpf_map__btf_value_type_id(map));
	const struct btf_var_secinfo *vs;
	int i;

	if (!sec || !btf_is_datasec(sec))
		return;
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		const char *name = var ? btf__name_by_offset(btf, var->name_off)
				       : NULL;
		struct var_desc *d;

		if (!var || !btf_is_var(var) || !name || !*name)
			continue;
		d = lua_newuserdatauv(L, sizeof(*d), 0);
		d->map = map;
		d->off = vs->offset;
		d->size = vs->size;
		d->c = lbpf_codec_get(L, btf, var->type);
		/* a smaller type in a larger slot is legal (the kernel's
		 * rule): raw bytes then; a refused type stays refused */
		if (d->c && !lbpf_codec_refused(d->c) &&
		    lbpf_codec_size(d->c) != d->size)
			d->c = NULL;
		lua_setfield(L, -2, name);
	}
}

/* push obj.vars for the object at `objidx` (a new handle each call; the
 * caller may cache it) */
void lbpf_push_vars(lua_State *L, int objidx)
{
	struct lbpf_object *o = luaL_checkudata(L, objidx, LBPF_OBJECT);
	const struct btf *btf = o->obj ? bpf_object__btf(o->obj) : NULL;
	struct lbpf_vars *v;
	struct bpf_map *map;

	objidx = lua_absindex(L, objidx);
	v = lua_newuserdatauv(L, sizeof(*v), 3);
	v->remapped = 0;
	luaL_setmetatable(L, LBPF_VARS);
	lua_pushvalue(L, objidx);
	lua_setiuservalue(L, -2, 1);
	lua_newtable(L);
	if (btf) {
		bpf_object__for_each_map(map, o->obj)
			if (bpf_map__is_internal(map))
				vars_collect(L, btf, map);
	}
	lua_setiuservalue(L, -2, 2);
	lua_newtable(L);
	lua_setiuservalue(L, -2, 3);
}

void lbpf_open_vars(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{ "__index", vars_index }, { "__newindex", vars_newindex },
		{ "__pairs", vars_pairs },
		{ "__tostring", vars_tostring }, { NULL, NULL }
	};

	luaL_newmetatable(L, LBPF_VARS);
	luaL_setfuncs(L, meta, 0);
	lua_pop(L, 1);
}
