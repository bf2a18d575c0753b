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

#include "btfcheck.h"
#include "btftypes.h"
#include "codec_priv.h"
#include "record.h"

#define CODECS "libbpf.codecs"      /* registry: btf -> {type id -> codec} */
#define MAX_DEPTH LBPF_BTF_MAX_DEPTH /* nesting bound, shared with btfcheck.c */
#define MAX_MEMBERS 65536           /* flattened members of one aggregate */

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
	/* flattening copies of one anonymous union in another is legal BTF:
	 * stop counting (compile refuses the type) instead of going on for
	 * ever */
	for (i = 0; i < btf_vlen(t) && n <= MAX_MEMBERS; i++, m++) {
		const struct btf_type *mt =
			btf__type_by_id(btf, skip_mods(btf, m->type, NULL));
		if (!m->name_off && mt && btf_is_composite(mt))
			n += count_members(btf, mt, depth + 1);
		else if (m->name_off)
			n++;
	}
	return n;
}

/* the members counted by count_members (same depth bound), at most `cap`;
 * a member that does not lie inside the aggregate gets no codec (the type
 * was checked by lbpf_btf_check_type: this is the last line) */
/* bytes [off, off + what the member reads) inside `size` */
static int member_inside(const struct codec_member *cm, __u32 size)
{
	__u64 len;

	if (!cm->c)
		return 1;
	len = cm->bit_size ? (__u64)(cm->bit_shift + cm->bit_size + 7) / 8
			   : cm->c->size;
	return (__u64)cm->off + len <= size;
}

/* the member_kind of a member whose codec and bitfield are known */
static __u8 member_kind(const struct codec_member *cm)
{
	static const __u8 uints[] = { 0, MK_U8, MK_U16, 0, MK_U32, 0, 0, 0, MK_U64 };
	static const __u8 sints[] = { 0, MK_S8, MK_S16, 0, MK_S32, 0, 0, 0, MK_S64 };
	const struct lbpf_codec *c = cm->c;

	if (!c)
		return MK_NONE;
	if (cm->bit_size)
		return MK_BITS;
	switch (c->kind) {
	case K_INT: case K_ENUM:
		if (c->size > 8 || !uints[c->size])
			return MK_CODEC;
		return c->is_signed ? sints[c->size] : uints[c->size];
	case K_BOOL:
		return c->size <= 8 && uints[c->size] ? MK_BOOL : MK_CODEC;
	case K_CHARS:
		return MK_CHARS;
	default:
		return MK_CODEC;
	}
}

static void fill_members(lua_State *L, const struct btf *btf,
			 const struct btf_type *t, __u32 base_bits,
			 struct lbpf_codec *c, __u32 cap, int depth)
{
	const struct btf_member *m = btf_members(t);
	int i;

	if (depth > MAX_DEPTH)
		return;
	for (i = 0; i < btf_vlen(t) && c->n < cap; i++, m++) {
		__u32 tid = skip_mods(btf, m->type, NULL);
		const struct btf_type *mt = btf__type_by_id(btf, tid);
		__u32 bits = base_bits + btf_member_bit_offset(t, i);
		__u32 bsize = btf_member_bitfield_size(t, i);
		struct codec_member *cm;

		if (!mt)
			continue;
		if (!m->name_off) {
			if (btf_is_composite(mt))
				fill_members(L, btf, mt, bits, c, cap, depth + 1);
			continue;
		}
		cm = &c->m[c->n++];
		cm->name = btf__name_by_offset(btf, m->name_off);
		if (!cm->name)
			cm->name = "";
		cm->c = codec_get(L, btf, tid, depth + 1);
		if (cm->c && cm->c->kind == K_REFUSED)
			cm->c = NULL;
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
		if (!member_inside(cm, c->size))
			cm->c = NULL;
		cm->kind = member_kind(cm);
	}
}

static int is_char_name(const char *s)
{
	return s && (!strcmp(s, "char") || !strcmp(s, "signed char") ||
	       !strcmp(s, "unsigned char"));
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

		if (!et || esize <= 0 ||
		    (__u64)a->nelems * (__u64)esize > 0xffffffffu)
			return 0;
		c->n = a->nelems;
		c->elem_size = (__u32)esize;
		c->size = (__u32)((size_t)c->n * c->elem_size);
		if (btf_is_int(et) && et->size == 1 && !via_typedef &&
		    is_char_name(btf__name_by_offset(btf, et->name_off))) {
			c->kind = K_CHARS;
			return 1;
		}
		c->kind = K_ARRAY;
		c->elem = codec_get(L, btf, eid, depth + 1);
		if (!c->elem || c->elem->kind == K_REFUSED ||
		    c->elem->size != c->elem_size)
			c->kind = K_RAW;
		return 1;
	}
	default:
		return 0;
	}
}

/* The member names of struct codec c as Lua strings, made once: decoding
 * a struct pushes them from this table rather than making (or looking up)
 * a string per member per value. Returns the registry ref, released by
 * lbpf_codec_forget. */
static int ref_keys(lua_State *L, const struct lbpf_codec *c)
{
	__u32 i;

	lua_createtable(L, (int)c->n, 0);
	for (i = 0; i < c->n; i++) {
		lua_pushstring(L, c->m[i].name);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return luaL_ref(L, LUA_REGISTRYINDEX);
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
		if (nmem > MAX_MEMBERS)
			return NULL;
	}
	c = lua_newuserdatauv(L, sizeof(*c) + nmem * sizeof(c->m[0]), 0);
	memset(c, 0, sizeof(*c));
	c->btf = btf;
	c->type_id = rid;
	if (btf_is_composite(t)) {
		c->kind = K_STRUCT;
		c->size = t->size;
		fill_members(L, btf, t, 0, c, nmem, depth);
		c->keys = ref_keys(L, c);
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

/* push a K_REFUSED codec saying why (formatted); returns it */
static struct lbpf_codec *push_refusedv(lua_State *L, const struct btf *btf,
					__u32 id, const char *fmt, va_list ap)
{
	struct lbpf_codec *c;
	const char *why = lua_pushvfstring(L, fmt, ap);
	size_t len = strlen(why);

	c = lua_newuserdatauv(L, sizeof(*c) + len + 1, 0);
	memset(c, 0, sizeof(*c));
	c->kind = K_REFUSED;
	c->btf = btf;
	c->type_id = id;
	c->why = memcpy((char *)(c + 1), why, len + 1);
	lua_remove(L, -2);
	return c;
}

static struct lbpf_codec *push_refused(lua_State *L, const struct btf *btf,
				       __u32 id, const char *fmt, ...)
{
	struct lbpf_codec *c;
	va_list ap;

	va_start(ap, fmt);
	c = push_refusedv(L, btf, id, fmt, ap);
	va_end(ap);
	return c;
}

/* The one gate of every codec compile (issue 13 item 1): a type a root
 * codec is compiled from is first checked with the kernel's rules
 * (btfcheck.c), members and elements with it. A type that fails gets a
 * refused codec, pushed; NULL (nothing pushed) when it passes. */
static struct lbpf_codec *check_or_refuse(lua_State *L,
					  const struct btf *btf, __u32 id)
{
	char msg[256];

	if (!lbpf_btf_check_type(btf, id, msg, sizeof(msg)))
		return NULL;
	return push_refused(L, btf, id, "invalid BTF: %s", msg);
}

struct lbpf_codec *lbpf_codec_refuse(lua_State *L, const struct btf *btf,
				     const char *fmt, ...)
{
	struct lbpf_codec *c;
	va_list ap;

	push_cache(L, btf);
	va_start(ap, fmt);
	c = push_refusedv(L, btf, 0, fmt, ap);
	va_end(ap);
	lua_pushboolean(L, 1);          /* kept as long as the btf's codecs */
	lua_rawset(L, -3);
	lua_pop(L, 1);
	return c;
}

const char *lbpf_codec_refused(const struct lbpf_codec *c)
{
	return c && c->kind == K_REFUSED ? c->why : NULL;
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
	c = depth ? NULL : check_or_refuse(L, btf, id);
	if (!c)
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
	lbpf_record_forget(L, btf);
	if (lua_getfield(L, LUA_REGISTRYINDEX, CODECS) == LUA_TTABLE) {
		lua_pushlightuserdata(L, (void *)btf);
		if (lua_rawget(L, -2) == LUA_TTABLE) {
			/* the struct codecs' member names (ref_keys) */
			for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
				struct lbpf_codec *c = lua_touserdata(L, -1);

				/* a stale codec then fails decode_struct's
				 * check whatever the slot holds later */
				if (lua_type(L, -1) == LUA_TUSERDATA &&
				    c->kind == K_STRUCT) {
					luaL_unref(L, LUA_REGISTRYINDEX, c->keys);
					c->keys = LUA_NOREF;
				}
			}
		}
		lua_pop(L, 1);
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
	if (lbpf_codec_refused(c))
		luaL_error(L, "type '%s': %s", name, lbpf_codec_refused(c));
	if (!c)
		c = builtin_codec(name);
	if (!c) {
		const struct btf *kbtf = lbpf_kernel_btf();
		id = lbpf_btf_find(kbtf, name);
		if (id > 0)
			c = lbpf_codec_get(L, kbtf, id);
		if (lbpf_codec_refused(c))
			luaL_error(L, "type '%s': %s", name,
				   lbpf_codec_refused(c));
	}
	if (!c)
		luaL_error(L, "unknown type '%s'", name);
	return c;
}
