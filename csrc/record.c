/*
 * record.c - decoded structs print as what they hold (issue 19):
 * `print(ev)` of a ring buffer record, an m:lookup value or an obj.vars
 * struct shows `{pid=123, comm="bash", seq=4}`, members in declaration
 * order.
 *
 * A Lua table does not keep the order of its keys, so each struct codec
 * gets one metatable, made on its first decode and shared by every table
 * decoded with it: `__members` lists the member names in order and
 * `__tostring` formats (in Lua: `libbpf.pretty`'s `record`, loaded when a
 * record is first printed). Decoding only looks the metatable up and sets
 * it: no string is built until something prints the record.
 *
 * A codec keeps its metatable in a registry slot (its `record_mt`), so a
 * decode costs one array read and lua_setmetatable. Codecs are freed with
 * all the codecs of their btf: lbpf_record_forget, called first, frees the
 * slots of that btf's codecs, listed in the registry table RECORDS[btf].
 *
 * Enums show by name where a value is displayed, never where it is
 * returned (decoded values stay integers: scripts compare them with
 * numbers): an enum codec gets one {[value] = "NAME"} table, made the
 * first time it is asked for and kept in a registry slot (its
 * `enum_names`), and a struct's metatable maps each member of an enum type
 * (or an array of one) to that table in `__enums`. Both are made once per
 * codec, with the metatable: decoding a record costs nothing more.
 */
#include "codec_priv.h"
#include "record.h"

static const char RECORDS = 0;   /* registry key (the address): btf -> {codec, ...} */

/* __tostring: require("libbpf.pretty").record(t); where that module is
 * missing (libbpf.core used alone), what tostring would say */
static int record_tostring(lua_State *L)
{
	lua_settop(L, 1);
	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, "libbpf.pretty") != LUA_TTABLE) {
		lua_getglobal(L, "require");
		lua_pushliteral(L, "libbpf.pretty");
		if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
			lua_pushfstring(L, "record: %p", lua_topointer(L, 1));
			return 1;
		}
	}
	lua_getfield(L, -1, "record");
	lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	return 1;
}

/* list codec c under its btf in RECORDS, for forget (once: when its
 * first registry slot is made) */
static void record_list(lua_State *L, const struct lbpf_codec *c)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &RECORDS) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &RECORDS);
	}
	if (lua_rawgetp(L, -1, c->btf) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, -3, c->btf);
	}
	lua_pushlightuserdata(L, (void *)c);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 2);
}

/* The Lua integer a decode gives for enumerator value v of enum codec c:
 * its low size*8 bits, sign-extended when the enum is signed (BTF keeps
 * 32-bit values as s32 whatever the enum's signedness) */
static lua_Integer record_enum_key(const struct lbpf_codec *c, __u64 v)
{
	unsigned bits = c->size * 8;
	__u64 mask;

	if (bits >= 64)
		return (lua_Integer)v;
	mask = ((__u64)1 << bits) - 1;
	v &= mask;
	if (c->is_signed && (v >> (bits - 1)))
		v |= ~mask;
	return (lua_Integer)v;
}

/* make enum codec c's {[value] = "NAME"} table; the first enumerator of
 * a value names it (C allows aliases) */
static void record_new_enum(lua_State *L, const struct lbpf_codec *c)
{
	const struct btf_type *t = btf__type_by_id(c->btf, c->type_id);
	int i, n = t ? btf_vlen(t) : 0;

	lua_createtable(L, 0, n);
	for (i = 0; i < n; i++) {
		__u64 v;
		__u32 name_off;
		const char *name;

		if (btf_is_enum(t)) {
			v = (__u64)(__s64)btf_enum(t)[i].val;
			name_off = btf_enum(t)[i].name_off;
		} else {
			v = btf_enum64_value(btf_enum64(t) + i);
			name_off = btf_enum64(t)[i].name_off;
		}
		name = btf__name_by_offset(c->btf, name_off);
		if (!name || !*name)
			continue;
		lua_pushinteger(L, record_enum_key(c, v));
		if (lua_rawget(L, -2) == LUA_TNIL) {
			lua_pushinteger(L, record_enum_key(c, v));
			lua_pushstring(L, name);
			lua_rawset(L, -4);
		}
		lua_pop(L, 1);
	}
}

void lbpf_record_push_enum(lua_State *L, const struct lbpf_codec *c)
{
	if (c && c->kind == K_ARRAY)
		c = c->elem;
	if (!c || c->kind != K_ENUM || !c->btf) {
		lua_pushnil(L);
		return;
	}
	luaL_checkstack(L, 5, "BTF value nesting too deep");
	if (!c->enum_names) {
		/* the codec's own field: filled once, like record_mt */
		record_new_enum(L, c);
		((struct lbpf_codec *)c)->enum_names =
			luaL_ref(L, LUA_REGISTRYINDEX);
		record_list(L, c);
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, c->enum_names);
}

/* make c's metatable: {__tostring =, __members = {names in order}, and
 * __enums = {member = {[value] = "NAME"}} when a member is an enum} */
static void record_new_metatable(lua_State *L, const struct lbpf_codec *c)
{
	__u32 i, n = 0;
	int enums = 0;

	lua_createtable(L, 0, 3);
	lua_pushcfunction(L, record_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_createtable(L, (int)c->n, 0);
	for (i = 0; i < c->n; i++)
		if (c->m[i].c) {
			lua_pushstring(L, c->m[i].name);
			lua_rawseti(L, -2, ++n);
		}
	lua_setfield(L, -2, "__members");
	lua_newtable(L);
	for (i = 0; i < c->n; i++) {
		if (!c->m[i].c)
			continue;
		lbpf_record_push_enum(L, c->m[i].c);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			continue;
		}
		lua_setfield(L, -2, c->m[i].name);
		enums = 1;
	}
	if (enums)
		lua_setfield(L, -2, "__enums");
	else
		lua_pop(L, 1);
}

/* first decode with c: make its metatable, keep it in a registry slot
 * (c->record_mt) and list c under its btf in RECORDS, for forget */
static void record_first(lua_State *L, struct lbpf_codec *c)
{
	luaL_checkstack(L, 8, "BTF value nesting too deep");
	record_new_metatable(L, c);
	c->record_mt = luaL_ref(L, LUA_REGISTRYINDEX);
	record_list(L, c);
}

void lbpf_record_mark(lua_State *L, const struct lbpf_codec *c)
{
	/* the codec's own field: filled once, like the plan itself */
	if (!c->record_mt)
		record_first(L, (struct lbpf_codec *)c);
	lua_rawgeti(L, LUA_REGISTRYINDEX, c->record_mt);
	lua_setmetatable(L, -2);
}

void lbpf_record_forget(lua_State *L, const struct btf *btf)
{
	lua_Integer i, n;

	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &RECORDS) != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	if (lua_rawgetp(L, -1, btf) == LUA_TTABLE) {
		/* the codecs are still alive: codec.c drops them after this */
		n = (lua_Integer)lua_rawlen(L, -1);
		for (i = 1; i <= n; i++) {
			struct lbpf_codec *c;

			lua_rawgeti(L, -1, i);
			c = lua_touserdata(L, -1);
			lua_pop(L, 1);
			if (c->record_mt)
				luaL_unref(L, LUA_REGISTRYINDEX, c->record_mt);
			if (c->enum_names)
				luaL_unref(L, LUA_REGISTRYINDEX, c->enum_names);
			c->record_mt = c->enum_names = 0;
		}
		lua_pushnil(L);
		lua_rawsetp(L, -3, btf);
	}
	lua_pop(L, 2);
}
