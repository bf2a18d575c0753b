/*
 * codec.c - BTF-driven conversion between C bytes and Lua values.
 *
 * A codec is the compiled plan of one BTF type: its kind, size, and for
 * aggregates the offsets and codecs of its members. Codecs are compiled once
 * per (btf, type id) and kept in the registry table CODECS, keyed by the btf
 * pointer (light userdata), then by type id; each codec lives in a full
 * userdata of that table, so member codecs stay valid as long as the btf's
 * table does, and lbpf_codec_forget() releases them all at once.
 *
 * Mapping (see README "Typed values"):
 *   integers, enums, pointers -> Lua integers (a u64 above 2^63 wraps to a
 *   negative integer, as in C: math.ult and %u-style formatting read it back);
 *   _Bool -> boolean; float/double -> number; char[N] -> string up to the NUL;
 *   other arrays -> lists; structs/unions -> tables keyed by member name
 *   (members of anonymous struct/union members are flattened into the
 *   parent, as C spells them); anything else -> raw bytes.
 * Encoding is the inverse: missing members and list elements are zero, an
 * unknown member raises naming the member and the type.
 *
 * Bitfields assume a little-endian host (x86, arm64), as BPF on them does.
 */
#include <errno.h>
#include <string.h>

#include "btftypes.h"
#include "codec.h"

#define CODECS "libbpf.codecs"      /* registry: btf -> {type id -> codec} */
#define MAX_DEPTH 32                /* nesting bound against hostile BTF */

enum codec_kind {
	K_INT, K_BOOL, K_FLOAT, K_ENUM, K_CHARS, K_ARRAY, K_STRUCT, K_RAW
};

struct codec_member {
	const char *name;               /* in the btf's string section */
	__u32 off;                      /* byte offset */
	__u8 bit_shift, bit_size;       /* bitfields: bit_size > 0 */
	const struct lbpf_codec *c;
};

struct lbpf_codec {
	__u8 kind, is_signed;
	__u32 size;                     /* bytes */
	__u32 n;                        /* array elements / members */
	__u32 elem_size;                /* arrays */
	const struct lbpf_codec *elem;  /* arrays */
	const struct btf *btf;          /* for names in messages; NULL: builtin */
	__u32 type_id;
	const char *builtin;            /* name of builtin codecs */
	struct codec_member m[];
};

/* ---- naming (error messages only) --------------------------------------- */

static const char *kind_prefix(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT: return "struct ";
	case BTF_KIND_UNION: return "union ";
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64: return "enum ";
	default: return "";
	}
}

/* push a readable name of the codec's type: "struct event", "u32" */
static const char *push_type_name(lua_State *L, const struct lbpf_codec *c)
{
	const struct btf_type *t;
	const char *name;

	if (!c->btf)
		return lua_pushstring(L, c->builtin);
	t = btf__type_by_id(c->btf, c->type_id);
	name = t ? btf__name_by_offset(c->btf, t->name_off) : NULL;
	if (!t)
		return lua_pushfstring(L, "type #%d", (int)c->type_id);
	if (btf_is_array(t))
		return lua_pushfstring(L, "array[%d]", (int)c->n);
	return lua_pushfstring(L, "%s%s", kind_prefix(t),
			       name && *name ? name : "<anon>");
}

/* where in the value an encoding error happened: "value.comm", "key[3]" */
struct path {
	const struct path *up;
	const char *name;               /* member name, or NULL for an index */
	lua_Integer index;
};

static void push_path(lua_State *L, const struct path *p)
{
	if (!p->up) {
		lua_pushstring(L, p->name);
		return;
	}
	push_path(L, p->up);
	if (p->name)
		lua_pushfstring(L, ".%s", p->name);
	else
		lua_pushfstring(L, "[%I]", (LUAI_UACINT)p->index);
	lua_concat(L, 2);
}

static int encode_error(lua_State *L, const struct path *p,
			const struct lbpf_codec *c, const char *fmt, ...)
{
	va_list ap;

	luaL_where(L, 1);
	push_path(L, p);
	lua_pushliteral(L, " (");
	push_type_name(L, c);
	lua_pushliteral(L, "): ");
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_concat(L, 6);
	return lua_error(L);
}

/* ---- compiling ------------------------------------------------------------ */

static __u32 skip_mods(const struct btf *btf, __u32 id, int *via_typedef)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	int hops = 0;

	while (t && (btf_is_mod(t) || btf_is_typedef(t) || btf_is_var(t)) &&
	       hops++ < MAX_DEPTH) {
		if (via_typedef && btf_is_typedef(t))
			*via_typedef = 1;
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	return id;
}

static struct lbpf_codec *codec_get(lua_State *L, const struct btf *btf,
				    __u32 id, int depth);

/* members of struct/union `t`, anonymous aggregate members flattened */
static __u32 count_members(const struct btf *btf, const struct btf_type *t,
			   int depth)
{
	const struct btf_member *m = btf_members(t);
	__u32 n = 0;
	int i;

	if (depth > MAX_DEPTH)
		return 0;
	for (i = 0; i < btf_vlen(t); i++, m++) {
		const struct btf_type *mt =
			btf__type_by_id(btf, skip_mods(btf, m->type, NULL));
		if (!m->name_off && mt && btf_is_composite(mt))
			n += count_members(btf, mt, depth + 1);
		else if (m->name_off)
			n++;
	}
	return n;
}

static void fill_members(lua_State *L, const struct btf *btf,
			 const struct btf_type *t, __u32 base_bits,
			 struct lbpf_codec *c, int depth)
{
	const struct btf_member *m = btf_members(t);
	int i;

	for (i = 0; i < btf_vlen(t); i++, m++) {
		__u32 tid = skip_mods(btf, m->type, NULL);
		const struct btf_type *mt = btf__type_by_id(btf, tid);
		__u32 bits = base_bits + btf_member_bit_offset(t, i);
		__u32 bsize = btf_member_bitfield_size(t, i);
		struct codec_member *cm;

		if (!mt)
			continue;
		if (!m->name_off) {
			if (btf_is_composite(mt))
				fill_members(L, btf, mt, bits, c, depth + 1);
			continue;
		}
		cm = &c->m[c->n++];
		cm->name = btf__name_by_offset(btf, m->name_off);
		cm->c = codec_get(L, btf, tid, depth + 1);
		/* old-style int bitfields carry offset/bits in the INT itself */
		if (!bsize && btf_is_int(mt) &&
		    (btf_int_offset(mt) || btf_int_bits(mt) != mt->size * 8)) {
			bits += btf_int_offset(mt);
			bsize = btf_int_bits(mt);
		}
		if (!bsize && bits % 8)          /* unaligned: treat as bitfield */
			bsize = cm->c ? cm->c->size * 8 : 0;
		cm->off = bits / 8;
		cm->bit_shift = bsize ? bits % 8 : 0;
		cm->bit_size = bsize > 64 ? 64 : bsize;
	}
}

static int is_char_name(const char *s)
{
	return !strcmp(s, "char") || !strcmp(s, "signed char") ||
	       !strcmp(s, "unsigned char");
}

/* fill the scalar/array part of a codec; returns 0 for undecodable types */
static int compile_type(lua_State *L, const struct btf *btf,
			const struct btf_type *t, struct lbpf_codec *c,
			int depth)
{
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		c->size = t->size;
		c->is_signed = !!(btf_int_encoding(t) & BTF_INT_SIGNED);
		if (btf_int_encoding(t) & BTF_INT_BOOL)
			c->kind = K_BOOL;
		else
			c->kind = t->size <= 8 ? K_INT : K_RAW;
		return 1;
	case BTF_KIND_PTR:
		c->kind = K_INT;
		c->size = btf__pointer_size(btf);
		if (!c->size)
			c->size = sizeof(void *);
		return 1;
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
		c->kind = t->size <= 8 ? K_ENUM : K_RAW;
		c->size = t->size;
		c->is_signed = btf_kflag(t);
		return 1;
	case BTF_KIND_FLOAT:
		c->kind = t->size == 4 || t->size == 8 ? K_FLOAT : K_RAW;
		c->size = t->size;
		return 1;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		int via_typedef = 0;
		__u32 eid = skip_mods(btf, a->type, &via_typedef);
		const struct btf_type *et = btf__type_by_id(btf, eid);
		__s64 esize = btf__resolve_size(btf, eid);

		if (!et || esize <= 0)
			return 0;
		c->n = a->nelems;
		c->elem_size = (__u32)esize;
		c->size = c->n * c->elem_size;
		if (btf_is_int(et) && et->size == 1 && !via_typedef &&
		    is_char_name(btf__name_by_offset(btf, et->name_off))) {
			c->kind = K_CHARS;
			return 1;
		}
		c->kind = K_ARRAY;
		c->elem = codec_get(L, btf, eid, depth + 1);
		if (!c->elem)
			c->kind = K_RAW;
		return 1;
	}
	default:
		return 0;
	}
}

static struct lbpf_codec *compile(lua_State *L, const struct btf *btf,
				  __u32 id, int depth)
{
	__u32 rid = skip_mods(btf, id, NULL);
	const struct btf_type *t = btf__type_by_id(btf, rid);
	__u32 nmem = 0;
	struct lbpf_codec *c;

	if (!t || depth > MAX_DEPTH)
		return NULL;
	if (btf_is_composite(t)) {
		if (!t->size)
			return NULL;
		nmem = count_members(btf, t, depth);
	}
	c = lua_newuserdatauv(L, sizeof(*c) + nmem * sizeof(c->m[0]), 0);
	memset(c, 0, sizeof(*c));
	c->btf = btf;
	c->type_id = rid;
	if (btf_is_composite(t)) {
		c->kind = K_STRUCT;
		c->size = t->size;
		fill_members(L, btf, t, 0, c, depth);
	} else if (!compile_type(L, btf, t, c, depth) || !c->size) {
		lua_pop(L, 1);
		return NULL;
	}
	return c;
}

/* push CODECS[btf], creating it */
static void push_cache(lua_State *L, const struct btf *btf)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, CODECS) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, CODECS);
	}
	lua_pushlightuserdata(L, (void *)btf);
	if (lua_rawget(L, -2) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushlightuserdata(L, (void *)btf);
		lua_pushvalue(L, -2);
		lua_rawset(L, -4);
	}
	lua_remove(L, -2);
}

static struct lbpf_codec *codec_get(lua_State *L, const struct btf *btf,
				    __u32 id, int depth)
{
	struct lbpf_codec *c;

	luaL_checkstack(L, 4, "BTF type nesting too deep");
	push_cache(L, btf);
	if (lua_rawgeti(L, -1, id) == LUA_TUSERDATA) {
		c = lua_touserdata(L, -1);
		lua_pop(L, 2);
		return c;
	}
	lua_pop(L, 1);
	c = compile(L, btf, id, depth);
	if (c)
		lua_rawseti(L, -2, id);
	lua_pop(L, 1);
	return c;
}

struct lbpf_codec *lbpf_codec_get(lua_State *L, const struct btf *btf,
				  __u32 type_id)
{
	if (!btf || !type_id)
		return NULL;
	return codec_get(L, btf, type_id, 0);
}

void lbpf_codec_forget(lua_State *L, const struct btf *btf)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, CODECS) == LUA_TTABLE) {
		lua_pushlightuserdata(L, (void *)btf);
		lua_pushnil(L);
		lua_rawset(L, -3);
	}
	lua_pop(L, 1);
}

size_t lbpf_codec_size(const struct lbpf_codec *c)
{
	return c->size;
}

int lbpf_codec_int(const struct lbpf_codec *c)
{
	if (c->kind != K_INT && c->kind != K_ENUM)
		return 0;
	return c->is_signed ? -(int)c->size : (int)c->size;
}

/* ---- builtin codecs for type= names absent from the BTF ------------------ */

#define BUILTIN(nm, k, sz, sg) \
	{ nm, { .kind = k, .is_signed = sg, .size = sz, .builtin = nm } }
static const struct {
	const char *name;
	struct lbpf_codec c;
} builtins[] = {
	BUILTIN("u8", K_INT, 1, 0), BUILTIN("u16", K_INT, 2, 0),
	BUILTIN("u32", K_INT, 4, 0), BUILTIN("u64", K_INT, 8, 0),
	BUILTIN("s8", K_INT, 1, 1), BUILTIN("s16", K_INT, 2, 1),
	BUILTIN("s32", K_INT, 4, 1), BUILTIN("s64", K_INT, 8, 1),
	BUILTIN("__u8", K_INT, 1, 0), BUILTIN("__u16", K_INT, 2, 0),
	BUILTIN("__u32", K_INT, 4, 0), BUILTIN("__u64", K_INT, 8, 0),
	BUILTIN("__s8", K_INT, 1, 1), BUILTIN("__s16", K_INT, 2, 1),
	BUILTIN("__s32", K_INT, 4, 1), BUILTIN("__s64", K_INT, 8, 1),
	BUILTIN("uint8_t", K_INT, 1, 0), BUILTIN("uint16_t", K_INT, 2, 0),
	BUILTIN("uint32_t", K_INT, 4, 0), BUILTIN("uint64_t", K_INT, 8, 0),
	BUILTIN("int8_t", K_INT, 1, 1), BUILTIN("int16_t", K_INT, 2, 1),
	BUILTIN("int32_t", K_INT, 4, 1), BUILTIN("int64_t", K_INT, 8, 1),
	BUILTIN("char", K_INT, 1, 1), BUILTIN("unsigned char", K_INT, 1, 0),
	BUILTIN("short", K_INT, 2, 1), BUILTIN("unsigned short", K_INT, 2, 0),
	BUILTIN("int", K_INT, 4, 1), BUILTIN("unsigned int", K_INT, 4, 0),
	BUILTIN("unsigned", K_INT, 4, 0),
	BUILTIN("long", K_INT, 8, 1), BUILTIN("unsigned long", K_INT, 8, 0),
	BUILTIN("long long", K_INT, 8, 1),
	BUILTIN("unsigned long long", K_INT, 8, 0),
	BUILTIN("bool", K_BOOL, 1, 0), BUILTIN("_Bool", K_BOOL, 1, 0),
	BUILTIN("float", K_FLOAT, 4, 0), BUILTIN("double", K_FLOAT, 8, 0),
};

static const struct lbpf_codec *builtin_codec(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(builtins[i].name, name))
			return &builtins[i].c;
	return NULL;
}

/* ---- codec of a type name ----------------------------------------------- */

const struct lbpf_codec *lbpf_codec_by_name(lua_State *L,
					    const struct btf *btf,
					    const char *name)
{
	const struct lbpf_codec *c = NULL;
	__s32 id = lbpf_btf_find(btf, name);

	if (id > 0)
		c = lbpf_codec_get(L, btf, id);
	if (!c)
		c = builtin_codec(name);
	if (!c) {
		const struct btf *kbtf = lbpf_kernel_btf();
		id = lbpf_btf_find(kbtf, name);
		if (id > 0)
			c = lbpf_codec_get(L, kbtf, id);
	}
	if (!c)
		luaL_error(L, "unknown type '%s'", name);
	return c;
}

/* ---- decoding ------------------------------------------------------------- */

__u64 lbpf_load_uint(const void *p, __u32 size)
{
	switch (size) {
	case 1: return *(const __u8 *)p;
	case 2: { __u16 v; memcpy(&v, p, 2); return v; }
	case 4: { __u32 v; memcpy(&v, p, 4); return v; }
	case 8: { __u64 v; memcpy(&v, p, 8); return v; }
	default: {
		__u64 v = 0;
		memcpy(&v, p, size < 8 ? size : 8);
		return v;
	}
	}
}

static lua_Integer sign_extend(__u64 v, unsigned bits)
{
	if (bits < 64 && (v >> (bits - 1)) & 1)
		v |= ~(__u64)0 << bits;
	return (lua_Integer)v;
}

static __u64 load_bits(const __u8 *p, unsigned shift, unsigned bits)
{
	unsigned nbytes = (shift + bits + 7) / 8;
	__u64 v = 0;

	memcpy(&v, p, nbytes < 8 ? nbytes : 8);
	v >>= shift;
	if (nbytes > 8)
		v |= (__u64)p[8] << (64 - shift);
	if (bits < 64)
		v &= ((__u64)1 << bits) - 1;
	return v;
}

static void push_scalar(lua_State *L, const struct lbpf_codec *c, __u64 v,
			unsigned bits)
{
	if (c->kind == K_BOOL)
		lua_pushboolean(L, v != 0);
	else if (c->is_signed)
		lua_pushinteger(L, sign_extend(v, bits));
	else
		lua_pushinteger(L, (lua_Integer)v);
}

static void decode_at(lua_State *L, const struct lbpf_codec *c,
		      const __u8 *p);

static void decode_struct(lua_State *L, const struct lbpf_codec *c,
			  const __u8 *p)
{
	const struct codec_member *m = c->m, *end = c->m + c->n;

	luaL_checkstack(L, 3, "BTF value nesting too deep");
	lua_createtable(L, 0, (int)c->n);
	for (; m < end; m++) {
		if (!m->c) {
			continue;
		} else if (m->bit_size) {
			push_scalar(L, m->c, load_bits(p + m->off, m->bit_shift,
						       m->bit_size), m->bit_size);
		} else {
			decode_at(L, m->c, p + m->off);
		}
		lua_setfield(L, -2, m->name);
	}
}

static void decode_array(lua_State *L, const struct lbpf_codec *c,
			 const __u8 *p)
{
	const struct lbpf_codec *e = c->elem;
	__u32 i;

	luaL_checkstack(L, 3, "BTF value nesting too deep");
	lua_createtable(L, (int)c->n, 0);
	for (i = 0; i < c->n; i++, p += c->elem_size) {
		decode_at(L, e, p);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static void decode_at(lua_State *L, const struct lbpf_codec *c,
		      const __u8 *p)
{
	switch (c->kind) {
	case K_INT: case K_ENUM: case K_BOOL:
		push_scalar(L, c, lbpf_load_uint(p, c->size), c->size * 8);
		break;
	case K_FLOAT:
		if (c->size == 4) {
			float f;
			memcpy(&f, p, 4);
			lua_pushnumber(L, f);
		} else {
			double d;
			memcpy(&d, p, 8);
			lua_pushnumber(L, d);
		}
		break;
	case K_CHARS:
		lua_pushlstring(L, (const char *)p, strnlen((const char *)p,
							     c->size));
		break;
	case K_ARRAY:
		decode_array(L, c, p);
		break;
	case K_STRUCT:
		decode_struct(L, c, p);
		break;
	default:
		lua_pushlstring(L, (const char *)p, c->size);
		break;
	}
}

void lbpf_codec_decode(lua_State *L, const struct lbpf_codec *c,
		       const void *buf, size_t size)
{
	if (size < c->size)
		luaL_error(L, "cannot decode %d bytes as a %d-byte type",
			   (int)size, (int)c->size);
	decode_at(L, c, buf);
}

/* ---- encoding ------------------------------------------------------------- */

static void encode_at(lua_State *L, int idx, const struct lbpf_codec *c,
		      __u8 *p, const struct path *path);

/* an enum value given by enumerator name */
static int enum_value(const struct lbpf_codec *c, const char *name,
		      __u64 *v)
{
	const struct btf_type *t = btf__type_by_id(c->btf, c->type_id);
	int i;

	if (!t)
		return 0;
	for (i = 0; i < btf_vlen(t); i++) {
		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t) + i;
			if (!strcmp(btf__name_by_offset(c->btf, e->name_off), name)) {
				*v = (__u64)(__s64)e->val;
				return 1;
			}
		} else {
			const struct btf_enum64 *e = btf_enum64(t) + i;
			if (!strcmp(btf__name_by_offset(c->btf, e->name_off), name)) {
				*v = btf_enum64_value(e);
				return 1;
			}
		}
	}
	return 0;
}

/* the integer to store for a scalar of `bits` bits; raises when out of
 * range (both the signed and unsigned readings of the bits are accepted) */
static __u64 check_scalar(lua_State *L, int idx, const struct lbpf_codec *c,
			  unsigned bits, const struct path *path)
{
	int isnum;
	lua_Integer v;
	__u64 u;

	if (c->kind == K_BOOL && lua_type(L, idx) == LUA_TBOOLEAN)
		return lua_toboolean(L, idx);
	v = lua_tointegerx(L, idx, &isnum);
	if (!isnum) {
		if (c->kind == K_ENUM && c->btf &&
		    lua_type(L, idx) == LUA_TSTRING &&
		    enum_value(c, lua_tostring(L, idx), &u))
			return u;
		encode_error(L, path, c, "%s expected, got %s",
			     c->kind == K_BOOL ? "boolean" : "integer",
			     luaL_typename(L, idx));
	}
	if (bits < 64 && (v < -((lua_Integer)1 << (bits - 1)) ||
			  v > (lua_Integer)(((__u64)1 << bits) - 1)))
		encode_error(L, path, c, "%I out of range for %d bits",
			     (LUAI_UACINT)v, (int)bits);
	u = (__u64)v;
	return bits < 64 ? u & (((__u64)1 << bits) - 1) : u;
}

void lbpf_store_uint(void *p, __u32 size, __u64 v)
{
	switch (size) {
	case 1: *(__u8 *)p = (__u8)v; break;
	case 2: { __u16 x = (__u16)v; memcpy(p, &x, 2); break; }
	case 4: { __u32 x = (__u32)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, size < 8 ? size : 8); break;
	}
}

static void store_bits(__u8 *p, unsigned shift, unsigned bits, __u64 v)
{
	unsigned nbytes = (shift + bits + 7) / 8;
	__u64 word = 0, mask = bits < 64 ? ((__u64)1 << bits) - 1 : ~(__u64)0;

	memcpy(&word, p, nbytes < 8 ? nbytes : 8);
	word = (word & ~(mask << shift)) | ((v & mask) << shift);
	memcpy(p, &word, nbytes < 8 ? nbytes : 8);
	if (nbytes > 8) {
		__u8 hi_mask = (__u8)(mask >> (64 - shift));
		p[8] = (p[8] & ~hi_mask) | ((__u8)(v >> (64 - shift)) & hi_mask);
	}
}

static const struct codec_member *find_member(const struct lbpf_codec *c,
					      const char *name)
{
	const struct codec_member *m = c->m, *end = c->m + c->n;

	for (; m < end; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

static void encode_struct(lua_State *L, int idx, const struct lbpf_codec *c,
			  __u8 *p, const struct path *path)
{
	luaL_checkstack(L, 3, "BTF value nesting too deep");
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const struct codec_member *m;
		struct path sub = { path, NULL, 0 };

		if (lua_type(L, -2) != LUA_TSTRING)
			encode_error(L, path, c, "member names must be strings, "
				     "got %s", luaL_typename(L, -2));
		sub.name = lua_tostring(L, -2);
		m = find_member(c, sub.name);
		if (!m) {
			push_path(L, path);
			push_type_name(L, c);
			luaL_error(L, "%s: unknown field '%s' in %s",
				   lua_tostring(L, -2), sub.name,
				   lua_tostring(L, -1));
		}
		if (!m->c)
			encode_error(L, &sub, c, "member cannot be encoded");
		if (m->bit_size)
			store_bits(p + m->off, m->bit_shift, m->bit_size,
				   check_scalar(L, lua_gettop(L), m->c,
						m->bit_size, &sub));
		else
			encode_at(L, lua_gettop(L), m->c, p + m->off, &sub);
		lua_pop(L, 1);
	}
}

static void encode_array(lua_State *L, int idx, const struct lbpf_codec *c,
			 __u8 *p, const struct path *path)
{
	lua_Integer n = (lua_Integer)luaL_len(L, idx), i;

	if (n > (lua_Integer)c->n)
		encode_error(L, path, c, "%I elements given, room for %d",
			     (LUAI_UACINT)n, (int)c->n);
	luaL_checkstack(L, 2, "BTF value nesting too deep");
	for (i = 1; i <= n; i++, p += c->elem_size) {
		struct path sub = { path, NULL, i };
		lua_geti(L, idx, i);
		encode_at(L, lua_gettop(L), c->elem, p, &sub);
		lua_pop(L, 1);
	}
}

static void encode_at(lua_State *L, int idx, const struct lbpf_codec *c,
		      __u8 *p, const struct path *path)
{
	int t = lua_type(L, idx);
	size_t len;
	const char *s;

	switch (c->kind) {
	case K_INT: case K_ENUM: case K_BOOL:
		lbpf_store_uint(p, c->size, check_scalar(L, idx, c, c->size * 8, path));
		return;
	case K_FLOAT:
		if (t != LUA_TNUMBER)
			encode_error(L, path, c, "number expected, got %s",
				     luaL_typename(L, idx));
		if (c->size == 4) {
			float f = (float)lua_tonumber(L, idx);
			memcpy(p, &f, 4);
		} else {
			double d = lua_tonumber(L, idx);
			memcpy(p, &d, 8);
		}
		return;
	case K_CHARS:
		if (t != LUA_TSTRING)
			encode_error(L, path, c, "string expected, got %s",
				     luaL_typename(L, idx));
		s = lua_tolstring(L, idx, &len);
		if (len > c->size)
			encode_error(L, path, c, "string of %d bytes is longer "
				     "than %d", (int)len, (int)c->size);
		memcpy(p, s, len);
		memset(p + len, 0, c->size - len);
		return;
	default:
		break;
	}
	/* aggregates and raw: a string of exactly the size is raw bytes */
	if (t == LUA_TSTRING) {
		s = lua_tolstring(L, idx, &len);
		if (len != c->size)
			encode_error(L, path, c, "string of %d bytes given, "
				     "raw bytes must be exactly %d", (int)len,
				     (int)c->size);
		memcpy(p, s, len);
	} else if (t != LUA_TTABLE || c->kind == K_RAW) {
		encode_error(L, path, c, "%s expected, got %s",
			     c->kind == K_RAW ? "string" : "table",
			     luaL_typename(L, idx));
	} else if (c->kind == K_ARRAY) {
		encode_array(L, idx, c, p, path);
	} else {
		encode_struct(L, idx, c, p, path);
	}
}

void lbpf_codec_encode(lua_State *L, int idx, const struct lbpf_codec *c,
		       void *buf, size_t size, const char *what)
{
	struct path root = { NULL, what ? what : "value", 0 };
	size_t len;

	/* hot path: an integer key/value of an integer type */
	if (c->kind == K_INT && c->size == size && lua_isinteger(L, idx)) {
		lua_Integer v = lua_tointeger(L, idx);
		unsigned bits = c->size * 8;

		if (bits == 64 || (v >= -((lua_Integer)1 << (bits - 1)) &&
				   v <= (lua_Integer)(((__u64)1 << bits) - 1))) {
			lbpf_store_uint(buf, c->size, (__u64)v);
			return;
		}
	}
	idx = lua_absindex(L, idx);
	if (size < c->size)
		luaL_error(L, "%s: cannot encode a %d-byte type into %d bytes",
			   root.name, (int)c->size, (int)size);
	if (c->kind != K_CHARS && lua_type(L, idx) == LUA_TSTRING) {
		const char *s = lua_tolstring(L, idx, &len);
		if (len == size) {
			memcpy(buf, s, len);
			return;
		}
	}
	memset(buf, 0, size);
	encode_at(L, idx, c, buf, &root);
}

