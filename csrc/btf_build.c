/*
 * btf_build.c - `bpf.btf_build(types)`: a libbpf.btf made in process with
 * libbpf's BTF writer (btf__new_empty, btf__add_*) from a list of type
 * descriptions, entry i becoming type id i. lua/libbpf/cdef.lua parses C
 * declarations into such a list (bpf.cdef); the layout (sizes, member bit
 * offsets) is computed there, this file only writes it and refuses what the
 * writer or the codecs could not use: ids out of the list, sizes and
 * offsets out of range.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "btf.h"

struct build {
	lua_State *L;
	struct btf *btf;
	lua_Integer n;        /* entries in the list */
	lua_Integer i;        /* the entry being written */
	const char *kind;
};

/* push field `key` of the table on top, raw: no metamethod runs while the
 * half-written btf is only held by a C local */
static int build_get(lua_State *L, const char *key)
{
	lua_pushstring(L, key);
	return lua_rawget(L, -2);
}

/* raise "btf_build: entry i (kind): ..." */
static int build_error(struct build *b, const char *msg)
{
	const char *kind = b->kind ? b->kind : "?";

	btf__free(b->btf);
	b->btf = NULL;
	return luaL_error(b->L, "btf_build: entry %d (%s): %s", (int)b->i, kind,
			  msg);
}

/* field `key` of the table on top: a string or NULL when absent/empty */
static const char *build_name(struct build *b, const char *key, int needed)
{
	const char *s = NULL;

	build_get(b->L, key);
	if (lua_type(b->L, -1) == LUA_TSTRING)
		s = lua_tostring(b->L, -1);
	else if (!lua_isnil(b->L, -1))
		build_error(b, lua_pushfstring(b->L, "'%s' must be a string", key));
	lua_pop(b->L, 1); /* the string stays reachable: the table holds it */
	if (s && !*s)
		s = NULL;
	if (!s && needed)
		build_error(b, lua_pushfstring(b->L, "'%s' is missing", key));
	return s;
}

/* field `key`: an integer in [lo, hi] (`def` when absent and def >= lo) */
static lua_Integer build_int(struct build *b, const char *key, lua_Integer lo,
			     lua_Integer hi, lua_Integer def)
{
	lua_Integer v;
	int isnum;

	build_get(b->L, key);
	if (lua_isnil(b->L, -1) && def >= lo) {
		lua_pop(b->L, 1);
		return def;
	}
	v = lua_tointegerx(b->L, -1, &isnum);
	lua_pop(b->L, 1);
	if (!isnum)
		build_error(b, lua_pushfstring(b->L, "'%s' must be an integer", key));
	if (v < lo || v > hi)
		build_error(b, lua_pushfstring(b->L, "'%s' = %I is out of range", key, v));
	return v;
}

/* a referenced type id: 0 (void) .. the list's length */
static int build_ref(struct build *b, const char *key)
{
	return (int)build_int(b, key, 0, b->n, -1);
}

static int build_flag(struct build *b, const char *key)
{
	int v;

	build_get(b->L, key);
	v = lua_toboolean(b->L, -1);
	lua_pop(b->L, 1);
	return v;
}

static void build_check(struct build *b, int err, const char *what)
{
	if (err < 0)
		build_error(b, lua_pushfstring(b->L, "%s failed: %s", what,
					       strerror(-err)));
}

/* the members of the struct/union on top, written right after it */
static void build_members(struct build *b, lua_Integer size)
{
	lua_State *L = b->L;
	lua_Integer j, n;

	if (build_get(L, "members") != LUA_TTABLE)
		build_error(b, "'members' must be a list");
	n = (lua_Integer)lua_rawlen(L, -1);
	for (j = 1; j <= n; j++) {
		const char *name;
		lua_Integer off, bits;
		int type;

		if (lua_rawgeti(L, -1, j) != LUA_TTABLE)
			build_error(b, "every member must be a table");
		name = build_name(b, "name", 0);
		type = build_ref(b, "type");
		bits = build_int(b, "bits", 0, 255, 0);
		off = build_int(b, "offset", 0, size * 8, -1);
		if (off + bits > size * 8)
			build_error(b, lua_pushfstring(L, "member '%s' ends past the "
				    "end", name ? name : ""));
		build_check(b, btf__add_field(b->btf, name, type, (__u32)off,
					      (__u32)bits), "btf__add_field");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

static void build_enum(struct build *b, int is64, const char *name,
		       lua_Integer size)
{
	lua_State *L = b->L;
	lua_Integer j, n;
	int sign = build_flag(b, "signed");

	if (is64)
		build_check(b, btf__add_enum64(b->btf, name, (__u32)size, sign),
			    "btf__add_enum64");
	else
		build_check(b, btf__add_enum(b->btf, name, (__u32)size),
			    "btf__add_enum");
	if (build_get(L, "values") != LUA_TTABLE)
		build_error(b, "'values' must be a list");
	n = (lua_Integer)lua_rawlen(L, -1);
	for (j = 1; j <= n; j++) {
		const char *vname;
		lua_Integer v;

		if (lua_rawgeti(L, -1, j) != LUA_TTABLE)
			build_error(b, "every value must be a table");
		vname = build_name(b, "name", 1);
		v = build_int(b, "value", LUA_MININTEGER, LUA_MAXINTEGER, -1);
		if (is64)
			build_check(b, btf__add_enum64_value(b->btf, vname, (__u64)v),
				    "btf__add_enum64_value");
		else
			build_check(b, btf__add_enum_value(b->btf, vname, (__s64)v),
				    "btf__add_enum_value");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* write entry b->i (the table on top); returns libbpf's id or -errno */
static int build_entry(struct build *b)
{
	const char *kind = build_name(b, "kind", 1);
	struct btf *btf = b->btf;
	const char *name;
	lua_Integer size;
	int id;

	b->kind = kind;
	if (strcmp(kind, "int") == 0) {
		int enc = (build_flag(b, "signed") ? BTF_INT_SIGNED : 0) |
			  (build_flag(b, "char") ? BTF_INT_CHAR : 0) |
			  (build_flag(b, "bool") ? BTF_INT_BOOL : 0);

		name = build_name(b, "name", 1);
		size = build_int(b, "size", 1, 16, -1);
		return btf__add_int(btf, name, (size_t)size, enc);
	}
	if (strcmp(kind, "float") == 0) {
		name = build_name(b, "name", 1);
		return btf__add_float(btf, name, (size_t)build_int(b, "size", 2, 16, -1));
	}
	if (strcmp(kind, "ptr") == 0)
		return btf__add_ptr(btf, build_ref(b, "type"));
	if (strcmp(kind, "const") == 0)
		return btf__add_const(btf, build_ref(b, "type"));
	if (strcmp(kind, "volatile") == 0)
		return btf__add_volatile(btf, build_ref(b, "type"));
	if (strcmp(kind, "typedef") == 0) {
		name = build_name(b, "name", 1);
		return btf__add_typedef(btf, name, build_ref(b, "type"));
	}
	if (strcmp(kind, "array") == 0) {
		int elem = build_ref(b, "type");
		int index = build_ref(b, "index_type");

		return btf__add_array(btf, index, elem,
				      (__u32)build_int(b, "nelems", 0, UINT_MAX, -1));
	}
	if (strcmp(kind, "struct") == 0 || strcmp(kind, "union") == 0) {
		name = build_name(b, "name", 0);
		size = build_int(b, "size", 0, INT_MAX / 8, -1);
		id = kind[0] == 's' ? btf__add_struct(btf, name, (__u32)size)
				    : btf__add_union(btf, name, (__u32)size);
		if (id > 0)
			build_members(b, size);
		return id;
	}
	if (strcmp(kind, "enum") == 0 || strcmp(kind, "enum64") == 0) {
		int is64 = kind[4] == '6';

		name = build_name(b, "name", 0);
		size = build_int(b, "size", 1, 8, is64 ? 8 : 4);
		if (size & (size - 1) || (!is64 && size > 4))
			build_error(b, "bad enum size");
		build_enum(b, is64, name, size);
		return (int)b->i;
	}
	if (strcmp(kind, "fwd") == 0) {
		name = build_name(b, "name", 1);
		return btf__add_fwd(btf, name, build_flag(b, "enum") ? BTF_FWD_ENUM :
				    build_flag(b, "union") ? BTF_FWD_UNION :
				    BTF_FWD_STRUCT);
	}
	return build_error(b, "unknown kind");
}

/** bpf.btf_build(types) -> libbpf.btf written from a list of descriptions */
static int btf_build(lua_State *L)
{
	struct build b = {L, NULL, 0, 0, NULL};

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	b.n = (lua_Integer)lua_rawlen(L, 1);
	if (b.n > 1000000)
		luaL_argerror(L, 1, "too many types");
	b.btf = btf__new_empty();
	if (!b.btf)
		return lbpf_push_error(L, errno, "btf__new_empty failed");
	for (b.i = 1; b.i <= b.n; b.i++) {
		int id;

		b.kind = NULL;
		if (lua_rawgeti(L, 1, b.i) != LUA_TTABLE)
			build_error(&b, "not a table");
		id = build_entry(&b);
		build_check(&b, id, "btf__add");
		if (id != b.i)
			build_error(&b, "type ids out of step");
		lua_pop(L, 1);
	}
	lbpf_push_btf(L, 0, b.btf, 1);
	return 1;
}

void lbpf_open_btf_build(lua_State *L)
{
	lua_pushcfunction(L, btf_build);
	lua_setfield(L, -2, "btf_build");
}
