/*
 * codec_conv.c - conversion with a compiled codec (codec.c compiles them):
 * C bytes to Lua values (decoding) and back (encoding), with the error
 * messages that name the place in the value ("value.comm", "key[3]").
 * The mapping is described at the top of codec.c.
 *
 * Bitfields assume a little-endian host (x86, arm64), as BPF on them does.
 */
#include <errno.h>
#include <string.h>

#include "codec_priv.h"
#include "record.h"

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

/* push member m of the struct at p, by the kind compiled for it */
static void decode_member(lua_State *L, const struct codec_member *m,
			  const __u8 *p)
{
	__u16 u16; __u32 u32; __u64 u64;

	p += m->off;
	switch (m->kind) {
	case MK_U8: lua_pushinteger(L, *p); break;
	case MK_U16: memcpy(&u16, p, 2); lua_pushinteger(L, u16); break;
	case MK_U32: memcpy(&u32, p, 4); lua_pushinteger(L, u32); break;
	case MK_S8: lua_pushinteger(L, (__s8)*p); break;
	case MK_S16: memcpy(&u16, p, 2); lua_pushinteger(L, (__s16)u16); break;
	case MK_S32: memcpy(&u32, p, 4); lua_pushinteger(L, (__s32)u32); break;
	case MK_U64: case MK_S64:
		memcpy(&u64, p, 8);
		lua_pushinteger(L, (lua_Integer)u64);
		break;
	case MK_BOOL:
		lua_pushboolean(L, lbpf_load_uint(p, m->c->size) != 0);
		break;
	case MK_CHARS:
		lua_pushlstring(L, (const char *)p,
				strnlen((const char *)p, m->c->size));
		break;
	case MK_BITS:
		push_scalar(L, m->c, load_bits(p, m->bit_shift, m->bit_size),
			    m->bit_size);
		break;
	default:
		decode_at(L, m->c, p);
		break;
	}
}

/* A struct as a table sized for its members, the keys taken from the
 * codec's table of member names (no string made or hashed per member),
 * each value pushed by the kind compiled for its member. The caller made
 * room for 3 values. */
static void decode_struct(lua_State *L, const struct lbpf_codec *c,
			  const __u8 *p)
{
	const struct codec_member *m = c->m;
	__u32 i;

	lua_createtable(L, 0, (int)c->n);
	if (lua_rawgeti(L, LUA_REGISTRYINDEX, c->keys) != LUA_TTABLE)
		luaL_error(L, "decoding with a released codec");   /* a bug */
	for (i = 0; i < c->n; i++, m++) {
		if (m->kind == MK_NONE)
			continue;
		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		decode_member(L, m, p);
		lua_rawset(L, -4);
	}
	lua_pop(L, 1);
	lbpf_record_mark(L, c);         /* print(ev) shows its members */
}

static void decode_array(lua_State *L, const struct lbpf_codec *c,
			 const __u8 *p)
{
	const struct lbpf_codec *e = c->elem;
	__u32 i;

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
	case K_ARRAY:   /* the table and one element or member */
		luaL_checkstack(L, 3, "BTF value nesting too deep");
		decode_array(L, c, p);
		break;
	case K_STRUCT:
		luaL_checkstack(L, 3, "BTF value nesting too deep");
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
	if (c->kind == K_REFUSED)
		luaL_error(L, "%s", c->why);
	if (size < c->size)
		luaL_error(L, "cannot decode %d bytes as a %d-byte type",
			   (int)size, (int)c->size);
	if (c->kind != K_STRUCT) {
		decode_at(L, c, buf);
		return;
	}
	luaL_checkstack(L, 3, "BTF value nesting too deep");
	decode_struct(L, c, buf);   /* the hot path of event records */
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
			const char *en = btf__name_by_offset(c->btf, e->name_off);
			if (en && !strcmp(en, name)) {
				*v = (__u64)(__s64)e->val;
				return 1;
			}
		} else {
			const struct btf_enum64 *e = btf_enum64(t) + i;
			const char *en = btf__name_by_offset(c->btf, e->name_off);
			if (en && !strcmp(en, name)) {
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

	if (c->kind == K_REFUSED)
		luaL_error(L, "%s", c->why);
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
