/*
 * btf.c - `libbpf.btf`, the whole class: a BTF handle for lookups (btf:type
 * describes a type: kind, size, members with their type names and offsets;
 * btf:find gives its id) and explicit conversion (btf:sizeof, :decode,
 * :encode, with the codecs of codec.c). obj:btf(), bpf.btf_parse(path) and
 * bpf.btf_vmlinux() make handles.
 *
 * An object's BTF belongs to the object: the handle holds the object in its
 * user value and raises once the object is closed. A parsed BTF is owned by
 * the handle and freed on __gc/__close; the kernel's is shared (btftypes.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "btf.h"
#include "btftypes.h"
#include "codec.h"
#include "handles.h"

#define KERNEL_BTF "libbpf.kernel_btf" /* registry: the shared kernel handle */

/* type spellings longer than 256 bytes are cut on purpose (display only) */
#pragma GCC diagnostic ignored "-Wformat-truncation"

struct lbpf_btf {
	struct btf *btf;              /* NULL once closed */
	struct lbpf_object *owner;    /* object whose BTF this is, or NULL */
	int owned;                    /* btf__free on close */
	int shared;                   /* the cached kernel handle: never closed */
	int lent;                     /* kept by a map or stream (btf=): close()
				       * only marks it, __gc frees */
	int dead;                     /* closed while lent */
	char what[32];                /* "vmlinux" or the object's name */
};

static struct lbpf_btf *btf_check(lua_State *L, int idx)
{
	struct lbpf_btf *b = luaL_checkudata(L, idx, LBPF_BTF);

	if (b->owner && b->owner->closed)
		luaL_error(L, "libbpf.btf: object is closed");
	if (!b->btf || b->dead)
		luaL_error(L, "libbpf.btf: btf is closed");
	return b;
}

static const char *kind_name(int kind)
{
	static const char *const names[] = {
		"unknown", "int", "ptr", "array", "struct", "union", "enum",
		"fwd", "typedef", "volatile", "const", "restrict", "func",
		"func_proto", "var", "datasec", "float", "decl_tag", "type_tag",
		"enum64"
	};

	if (kind < 0 || kind >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[kind];
}

/* A C-like spelling of type `id` ("struct event *", "char[16]") into buf. */
static void type_spelling(const struct btf *btf, __u32 id, char *buf,
			  size_t n, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const char *name;
	char inner[256];

	if (id == 0 || !t) {
		snprintf(buf, n, "void");
		return;
	}
	if (depth > 8) {
		snprintf(buf, n, "...");
		return;
	}
	name = btf__name_by_offset(btf, t->name_off);
	if (!name || !*name)
		name = "(anon)";
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		snprintf(buf, n, "%s %s", btf_kind(t) == BTF_KIND_STRUCT ? "struct" :
			 btf_kind(t) == BTF_KIND_UNION ? "union" : "enum", name);
		break;
	case BTF_KIND_PTR:
		type_spelling(btf, t->type, inner, sizeof(inner), depth + 1);
		snprintf(buf, n, "%s *", inner);
		break;
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
		type_spelling(btf, t->type, inner, sizeof(inner), depth + 1);
		snprintf(buf, n, "%s %s", kind_name(btf_kind(t)), inner);
		break;
	case BTF_KIND_ARRAY:
		type_spelling(btf, btf_array(t)->type, inner, sizeof(inner),
			      depth + 1);
		snprintf(buf, n, "%s[%u]", inner, btf_array(t)->nelems);
		break;
	case BTF_KIND_FUNC_PROTO:
		snprintf(buf, n, "function");
		break;
	default:
		snprintf(buf, n, "%s", name);
	}
}

static void set_spelling(lua_State *L, const struct btf *btf, __u32 id)
{
	char buf[256];

	type_spelling(btf, id, buf, sizeof(buf), 0);
	lua_pushstring(L, buf);
	lua_setfield(L, -2, "type");
	lbpf_set_int(L, "type_id", id);
}

static void push_members(lua_State *L, const struct btf *btf,
			 const struct btf_type *t)
{
	const struct btf_member *m = btf_members(t);
	int i, n = btf_vlen(t);

	lua_createtable(L, n, 0);
	for (i = 0; i < n; i++, m++) {
		__u32 bit = btf_member_bit_offset(t, (__u32)i);

		lua_createtable(L, 0, 5);
		lua_pushstring(L, btf__name_by_offset(btf, m->name_off));
		lua_setfield(L, -2, "name");
		set_spelling(L, btf, m->type);
		lbpf_set_int(L, "offset", bit / 8);
		lbpf_set_int(L, "bit_offset", bit);
		lbpf_set_int(L, "bits", btf_member_bitfield_size(t, (__u32)i));
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "members");
}

static void push_enum_values(lua_State *L, const struct btf *btf,
			     const struct btf_type *t)
{
	int i, n = btf_vlen(t);

	lua_createtable(L, n, 0);
	for (i = 0; i < n; i++) {
		lua_createtable(L, 0, 2);
		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t) + i;

			lua_pushstring(L, btf__name_by_offset(btf, e->name_off));
			lua_setfield(L, -2, "name");
			lbpf_set_int(L, "value", e->val);
		} else {
			const struct btf_enum64 *e = btf_enum64(t) + i;

			lua_pushstring(L, btf__name_by_offset(btf, e->name_off));
			lua_setfield(L, -2, "name");
			lbpf_set_int(L, "value", (lua_Integer)btf_enum64_value(e));
		}
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "values");
}

/* btf:type(name | id) -> {id=, kind=, name=, size=, members= | values= |
 * type=, ...} or nil when there is no such type */
static int btf_type(lua_State *L)
{
	struct lbpf_btf *b = btf_check(L, 1);
	const struct btf_type *t;
	int id;

	if (lua_type(L, 2) == LUA_TNUMBER)
		id = (int)luaL_checkinteger(L, 2);
	else
		id = lbpf_btf_find(b->btf, luaL_checkstring(L, 2));
	t = id > 0 ? btf__type_by_id(b->btf, (__u32)id) : NULL;
	if (!t)
		return 0;
	lua_createtable(L, 0, 6);
	lbpf_set_int(L, "id", id);
	lua_pushstring(L, kind_name(btf_kind(t)));
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, btf__name_by_offset(b->btf, t->name_off));
	lua_setfield(L, -2, "name");
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		lbpf_set_int(L, "size", t->size);
		push_members(L, b->btf, t);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		lbpf_set_int(L, "size", t->size);
		push_enum_values(L, b->btf, t);
		break;
	case BTF_KIND_INT:
	case BTF_KIND_FLOAT:
		lbpf_set_int(L, "size", t->size);
		break;
	case BTF_KIND_ARRAY:
		set_spelling(L, b->btf, btf_array(t)->type);
		lbpf_set_int(L, "nelems", btf_array(t)->nelems);
		lbpf_set_int(L, "size", btf__resolve_size(b->btf, (__u32)id));
		break;
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_VAR:
		set_spelling(L, b->btf, t->type);
		if (btf_kind(t) != BTF_KIND_FUNC)
			lbpf_set_int(L, "size", btf__resolve_size(b->btf, (__u32)id));
		break;
	default:
		break;
	}
	return 1;
}

static int btf_get(lua_State *L)
{
	struct lbpf_btf *b = btf_check(L, 1);
	const char *k = lua_tostring(L, 2);

	if (k && strcmp(k, "count") == 0) {
		lua_pushinteger(L, btf__type_cnt(b->btf) - 1);
		return 1;
	}
	return 0;
}

/* __gc, __close and close: also reachable by hand (getmetatable(h).__gc),
 * so it checks its argument and closes only what the handle owns: never
 * the shared kernel handle, never an object's BTF (the object frees it) */
static int btf_gc(lua_State *L)
{
	struct lbpf_btf *b = luaL_checkudata(L, 1, LBPF_BTF);

	if (b->shared) /* bpf.btf_vmlinux(): one handle for every caller */
		return 0;
	if (b->owned && b->btf) {
		lbpf_codec_forget(L, b->btf);
		btf__free(b->btf);
	}
	b->btf = NULL;
	return 0;
}

/* close() and __close: a btf lent to a map or event stream stays alive
 * for them (freed by __gc); this handle raises from now on */
static int btf_close(lua_State *L)
{
	struct lbpf_btf *b = luaL_checkudata(L, 1, LBPF_BTF);

	if (b->lent && !b->shared) {
		b->dead = 1;
		return 0;
	}
	return btf_gc(L);
}

static int btf_tostring(lua_State *L)
{
	struct lbpf_btf *b = luaL_checkudata(L, 1, LBPF_BTF);

	if (!b->btf || b->dead || (b->owner && b->owner->closed))
		lua_pushfstring(L, "libbpf.btf(%s, closed)", b->what);
	else
		lua_pushfstring(L, "libbpf.btf(%s, %d types)", b->what,
				(int)btf__type_cnt(b->btf) - 1);
	return 1;
}

static struct lbpf_btf *push_btf(lua_State *L, struct btf *btf,
				 struct lbpf_object *owner, const char *what)
{
	struct lbpf_btf *b = lua_newuserdatauv(L, sizeof(*b), 1);

	memset(b, 0, sizeof(*b)); /* userdata memory is not zeroed: `shared` */
	b->btf = btf;
	b->owner = owner;
	b->owned = owner == NULL;
	snprintf(b->what, sizeof(b->what), "%s", what);
	luaL_setmetatable(L, LBPF_BTF);
	return b;
}

const struct btf *lbpf_check_btf(lua_State *L, int idx)
{
	return btf_check(L, idx)->btf;
}

/* A handle on `btf`: `owned` ones free it; borrowed ones keep the value at
 * `owneridx` (an object, or the kernel BTF holder) alive. */
void lbpf_push_btf(lua_State *L, int owneridx, const struct btf *btf,
		   int owned)
{
	struct lbpf_object *o = NULL;
	struct lbpf_btf *b;

	owneridx = owneridx ? lua_absindex(L, owneridx) : 0;
	if (owneridx)
		o = luaL_testudata(L, owneridx, LBPF_OBJECT);
	b = push_btf(L, (struct btf *)btf, o,
		     o && o->obj ? bpf_object__name(o->obj) : "btf");
	b->owned = owned;
	if (owneridx) {
		lua_pushvalue(L, owneridx);
		lua_setiuservalue(L, -2, 1);
	}
}

#define LENT "libbpf.lent_btf" /* registry: holder -> {btf handles} (weak keys) */

/* The btf of the libbpf.btf handle at `idx`, lent to the holder at
 * `holderidx` (a map, or a poller's user value table) for as long as the
 * holder lives: the holder keeps a handle that owns the btf. An object's
 * BTF is copied (obj:close() frees the original under every user); owned
 * handles are kept themselves (their close() then defers the free to __gc);
 * the kernel's is never freed. */
const struct btf *lbpf_btf_lend(lua_State *L, int idx, int holderidx)
{
	struct lbpf_btf *b = btf_check(L, idx);
	const struct btf *btf = b->btf;
	int top = lua_gettop(L);

	idx = lua_absindex(L, idx);
	holderidx = lua_absindex(L, holderidx);
	if (lua_type(L, holderidx) == LUA_TTABLE) {
		lua_pushvalue(L, holderidx);
	} else {
		if (lua_getfield(L, LUA_REGISTRYINDEX, LENT) != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_newtable(L);
			lua_pushliteral(L, "k");
			lua_setfield(L, -2, "__mode");
			lua_pushvalue(L, -1);
			lua_setmetatable(L, -2);
			lua_pushvalue(L, -1);
			lua_setfield(L, LUA_REGISTRYINDEX, LENT);
		}
		lua_pushvalue(L, holderidx);
		if (lua_rawget(L, -2) != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_newtable(L);
			lua_pushvalue(L, holderidx);
			lua_pushvalue(L, -2);
			lua_rawset(L, -4); /* LENT[holder] = its list */
		}
	}
	if (b->owner) {
		struct btf *copy = btf__new_empty();
		int err = copy ? btf__add_btf(copy, b->btf) : -ENOMEM;

		if (err < 0) {
			btf__free(copy);
			luaL_error(L, "btf=: copying the BTF of '%s' failed: %s",
				   b->what, strerror(-err));
		}
		push_btf(L, copy, NULL, b->what);
		btf = copy;
	} else {
		b->lent = 1;
		lua_pushvalue(L, idx);
	}
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_settop(L, top);
	return btf;
}

/* ---- libbpf.btf: a BTF handle for lookups and explicit conversion --------- */

/* the codec of argument `idx`: a type name or a type id */
static const struct lbpf_codec *btf_check_codec(lua_State *L,
					    const struct btf *btf, int idx)
{
	const struct lbpf_codec *c;

	if (lua_type(L, idx) == LUA_TNUMBER) {
		c = lbpf_codec_get(L, btf, (__u32)luaL_checkinteger(L, idx));
		if (!c)
			luaL_argerror(L, idx, "type cannot be decoded");
		if (lbpf_codec_refused(c))
			luaL_argerror(L, idx, lbpf_codec_refused(c));
		return c;
	}
	return lbpf_codec_by_name(L, btf, luaL_checkstring(L, idx));
}

/** btf:find(name) -> type id, or nil when absent */
static int btf_find(lua_State *L)
{
	const struct btf *btf = lbpf_check_btf(L, 1);
	__s32 id = lbpf_btf_find(btf, luaL_checkstring(L, 2));

	if (id <= 0)
		return 0;
	lua_pushinteger(L, id);
	return 1;
}

/** btf:sizeof(type) -> bytes */
static int btf_sizeof(lua_State *L)
{
	const struct btf *btf = lbpf_check_btf(L, 1);

	lua_pushinteger(L, lbpf_codec_size(btf_check_codec(L, btf, 2)));
	return 1;
}

/** btf:decode(type, bytes) -> Lua value */
static int btf_decode(lua_State *L)
{
	const struct btf *btf = lbpf_check_btf(L, 1);
	const struct lbpf_codec *c = btf_check_codec(L, btf, 2);
	size_t len;
	const char *s = luaL_checklstring(L, 3, &len);

	if (len < lbpf_codec_size(c))
		luaL_argerror(L, 3, lua_pushfstring(L, "%d bytes needed, got %d",
						    (int)lbpf_codec_size(c), (int)len));
	lbpf_codec_decode(L, c, s, len);
	return 1;
}

/** btf:encode(type, value) -> bytes */
static int btf_encode(lua_State *L)
{
	const struct btf *btf = lbpf_check_btf(L, 1);
	const struct lbpf_codec *c = btf_check_codec(L, btf, 2);
	luaL_Buffer buf;
	char *p;

	luaL_checkany(L, 3);
	p = luaL_buffinitsize(L, &buf, lbpf_codec_size(c));
	lbpf_codec_encode(L, 3, c, p, lbpf_codec_size(c), "value");
	luaL_pushresultsize(&buf, lbpf_codec_size(c));
	return 1;
}

/** bpf.btf_parse(path) -> btf handle of an ELF's .BTF or a raw BTF file */
static int btf_parse(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct btf *btf = btf__parse(path, NULL);

	if (!btf)
		return lbpf_push_error(L, errno ? errno : EINVAL,
				       "cannot read BTF of '%s'", path);
	lbpf_push_btf(L, 0, btf, 1);
	return 1;
}

/* bpf.btf_vmlinux(), bpf.btf_kernel() -> the libbpf.btf of the running
 * kernel: one handle, made once and kept in the registry (rawequal across
 * calls); closing it is a no-op, as other callers share it */
static int btf_vmlinux(lua_State *L)
{
	const struct btf *kbtf;
	struct lbpf_btf *b;

	if (lua_getfield(L, LUA_REGISTRYINDEX, KERNEL_BTF) == LUA_TUSERDATA)
		return 1;
	lua_pop(L, 1);
	kbtf = lbpf_kernel_btf();
	if (!kbtf)
		return lbpf_push_error(L, errno, "loading the kernel BTF "
				       "(/sys/kernel/btf/vmlinux) failed");
	b = push_btf(L, (struct btf *)kbtf, NULL, "vmlinux");
	b->owned = 0;
	b->shared = 1;
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, KERNEL_BTF);
	return 1;
}

void lbpf_open_btf(lua_State *L)
{
	static const char *const fields[] = {
		"count", NULL
	};
	static const luaL_Reg meta[] = {
		{"__gc", btf_gc},
		{"__close", btf_close},
		{"__tostring", btf_tostring},
		{NULL, NULL}
	};
	static const luaL_Reg methods[] = {
		{"type", btf_type},
		{"find", btf_find},
		{"sizeof", btf_sizeof},
		{"decode", btf_decode},
		{"encode", btf_encode},
		{"close", btf_close},
		{NULL, NULL}
	};
	static const luaL_Reg funcs[] = {
		{"btf_parse", btf_parse},
		{"btf_vmlinux", btf_vmlinux},
		{"btf_kernel", btf_vmlinux},
		{NULL, NULL}
	};

	lbpf_new_class(L, LBPF_BTF, meta, methods, btf_get);
	lbpf_class_fields(L, LBPF_BTF, fields);
	luaL_setfuncs(L, funcs, 0);
}
