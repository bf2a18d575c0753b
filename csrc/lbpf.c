/*
 * lbpf.c - the leaf helpers every class uses: error pushers, option-table
 * checking and class registration. Calls nothing else in the module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include <bpf/libbpf_version.h>

#include "lbpf.h"

/* ---- errors ------------------------------------------------------------ */

int lbpf_errno(long ret)
{
	if (ret < 0)
		return (int)-ret;
	return errno ? errno : EINVAL;
}

int lbpf_needs_libbpf(lua_State *L, const char *what, int major, int minor)
{
	return luaL_error(L, "%s needs libbpf >= %d.%d (built with %d.%d)", what,
			  major, minor, LIBBPF_MAJOR_VERSION,
			  LIBBPF_MINOR_VERSION);
}

static int push_error_va(lua_State *L, int err, const char *detail,
			 const char *fmt, va_list ap)
{
	luaL_Buffer b;

	char text[256];

	if (err < 0)
		err = -err;
	/* libbpf's own codes (4000+: bad ELF, relocation, ...) have words in
	 * libbpf_strerror; the number returned stays a POSIX errno. */
	libbpf_strerror(err, text, sizeof(text));
	if (err >= __LIBBPF_ERRNO__START)
		err = EINVAL;
	lua_pushnil(L);
	luaL_buffinit(L, &b);
	lua_pushvfstring(L, fmt, ap);
	luaL_addvalue(&b);
	luaL_addstring(&b, ": ");
	luaL_addstring(&b, text);
	if (detail && *detail) {
		luaL_addchar(&b, '\n');
		luaL_addstring(&b, detail);
	}
	luaL_pushresult(&b);
	lua_pushinteger(L, err);
	return 3;
}

int lbpf_push_error(lua_State *L, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = push_error_va(L, err, NULL, fmt, ap);
	va_end(ap);
	return n;
}

int lbpf_push_error_detail(lua_State *L, int err, const char *detail,
			   const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = push_error_va(L, err, detail, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- option tables ------------------------------------------------------ */

void lbpf_check_options(lua_State *L, int idx, const char *fname,
			const char *const allowed[])
{
	idx = lua_absindex(L, idx);
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int i, known = 0;

		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING) {
			const char *k = lua_tostring(L, -1);

			for (i = 0; allowed[i]; i++)
				if (strcmp(allowed[i], k) == 0)
					known = 1;
		}
		if (!known) {
			lua_pushfstring(L, "%s: unknown option '%s'", fname,
					luaL_tolstring(L, -1, NULL));
			lua_error(L);
		}
	}
}

static int opt_field(lua_State *L, int idx, const char *key)
{
	if (lua_type(L, idx) != LUA_TTABLE)
		return 0;
	if (lua_getfield(L, idx, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	return 1;
}

/* The returned string stays valid while the option table is on the stack. */
const char *lbpf_opt_string(lua_State *L, int idx, const char *key,
			    const char *def)
{
	const char *s;

	idx = lua_absindex(L, idx);
	if (!opt_field(L, idx, key))
		return def;
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "option '%s' must be a string, got %s", key,
			   luaL_typename(L, -1));
	s = lua_tostring(L, -1);
	lua_pop(L, 1);
	return s;
}

lua_Integer lbpf_opt_integer(lua_State *L, int idx, const char *key,
			     lua_Integer def)
{
	lua_Integer v;
	int ok;

	idx = lua_absindex(L, idx);
	if (!opt_field(L, idx, key))
		return def;
	v = lua_tointegerx(L, -1, &ok);
	if (!ok)
		luaL_error(L, "option '%s' must be an integer, got %s", key,
			   luaL_typename(L, -1));
	lua_pop(L, 1);
	return v;
}

int lbpf_opt_boolean(lua_State *L, int idx, const char *key, int def)
{
	int v;

	idx = lua_absindex(L, idx);
	if (!opt_field(L, idx, key))
		return def;
	if (!lua_isboolean(L, -1))
		luaL_error(L, "option '%s' must be a boolean, got %s", key,
			   luaL_typename(L, -1));
	v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* ---- result tables ------------------------------------------------------ */

void lbpf_set_int(lua_State *L, const char *key, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, key);
}

void lbpf_set_str(lua_State *L, const char *key, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, key);
}

/* ---- classes --------------------------------------------------------------- */

/* __index: methods first (upvalue 1), then the type's field getter. */
/* Edit distance between two short names (insert, delete, substitute,
 * swap of neighbours), capped at 3: only near misses matter. */
static int name_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int d[33][33];

	if (la > 32 || lb > 32 || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb] < 3 ? d[la][lb] : 3;
}

/* The method or field of the class at `mt` closest to `key` (at most two
 * edits away, and less than half the name), pushed; else nothing pushed
 * and 0 returned. Only runs for names that are neither. */
static int push_near_miss(lua_State *L, int methods, int mt, const char *key)
{
	int best = 3, limit = (int)strlen(key) / 2, n, i;

	lua_pushnil(L); /* the best name so far */
	lua_pushnil(L);
	while (lua_next(L, methods)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING &&
		    (n = name_distance(key, lua_tostring(L, -1))) < best &&
		    n <= limit) {
			best = n;
			lua_pushvalue(L, -1);
			lua_replace(L, -3);
		}
	}
	if (lua_getfield(L, mt, "__fields") == LUA_TTABLE) {
		for (i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
			n = name_distance(key, lua_tostring(L, -1));
			if (n < best && n <= limit) {
				best = n;
				lua_replace(L, -3);
			} else {
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (best < 3)
		return 1;
	lua_pop(L, 1);
	return 0;
}

/* True when `key` is one of the class's fields (its __fields list; a class
 * with no fields has none). */
static int is_field(lua_State *L, int mt, const char *key)
{
	int i, found = 0, top = lua_gettop(L);

	if (lua_getfield(L, mt, "__fields") == LUA_TTABLE)
		for (i = 1; !found && lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
			found = strcmp(lua_tostring(L, -1), key) == 0;
			lua_pop(L, 1);
		}
	lua_settop(L, top);
	return found;
}

/* Raise "no method 'lokup' on libbpf.map (did you mean lookup?)" when a
 * string key is not a method or field but close to one; return 0 when it
 * is not close to any (the getter then decides: a map looks it up). */
static int near_miss_in(lua_State *L, int methods, int mt,
			lua_CFunction getter);

static int check_near_miss(lua_State *L, lua_CFunction getter)
{
	int mt, top = lua_gettop(L);

	if (lua_type(L, 1) != LUA_TUSERDATA || !lua_getmetatable(L, 1))
		return 0;
	mt = lua_gettop(L);
	/* only for this class's own handles (its __index has our methods):
	 * the metamethod may be called by hand with anything */
	if (lua_getfield(L, mt, "__index") != LUA_TFUNCTION ||
	    !lua_getupvalue(L, -1, 1) ||
	    !lua_rawequal(L, -1, lua_upvalueindex(1)) ||
	    lua_getfield(L, mt, "__name") != LUA_TSTRING) {
		lua_settop(L, top);
		return 0;
	}
	lua_settop(L, mt);
	return near_miss_in(L, lua_upvalueindex(1), mt, getter);
}

/* check_near_miss once the methods (at `methods`) and the class metatable
 * (at `mt`, the top of the stack) of the handle at 1 are known */
static int near_miss_in(lua_State *L, int methods, int mt,
			lua_CFunction getter)
{
	const char *key = lua_tostring(L, 2);
	int is_method, top = mt - 1;

	if (is_field(L, mt, key) || !push_near_miss(L, methods, mt, key)) {
		lua_settop(L, top);
		return 0;
	}
	/* the getter may still know it: a map looks string keys up (an
	 * absent key is nil, as always); a key it cannot even convert is
	 * the misspelt method */
	if (getter) {
		int base = lua_gettop(L), keyed;

		lua_getfield(L, mt, "__name");
		keyed = strcmp(lua_tostring(L, -1), LBPF_MAP) == 0;
		lua_settop(L, base);
		lua_pushcfunction(L, getter);
		lua_pushvalue(L, 1);
		lua_pushvalue(L, 2);
		if (lua_pcall(L, 2, 1, 0) == LUA_OK &&
		    (keyed || !lua_isnil(L, -1)))
			return 1;
		lua_settop(L, base);
	}
	lua_pushvalue(L, mt + 1);
	is_method = lua_rawget(L, methods) != LUA_TNIL;
	lua_getfield(L, mt, "__name");
	return luaL_error(L, "no %s '%s' on %s (did you mean %s?)",
			  is_method ? "method" : "field", key,
			  lua_tostring(L, -1), lua_tostring(L, mt + 1));
}

static int class_index(lua_State *L)
{
	lua_CFunction getter = lua_tocfunction(L, lua_upvalueindex(2));

	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
		return 1;
	lua_pop(L, 1);
	lua_settop(L, 2);
	if (lua_type(L, 2) == LUA_TSTRING && check_near_miss(L, getter))
		return 1;
	lua_settop(L, 2);
	if (getter && getter(L) == 1)
		return 1;
	return 0;
}

void lbpf_new_class_tables(lua_State *L, const char *name,
			   const luaL_Reg *meta,
			   const luaL_Reg *const methods[],
			   lua_CFunction getter)
{
	int i;

	luaL_newmetatable(L, name);
	luaL_setfuncs(L, meta, 0);
	lua_newtable(L);
	for (i = 0; methods[i]; i++)
		luaL_setfuncs(L, methods[i], 0);
	if (getter)
		lua_pushcfunction(L, getter);
	else
		lua_pushnil(L);
	lua_pushcclosure(L, class_index, 2);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

void lbpf_new_class(lua_State *L, const char *name, const luaL_Reg *meta,
		    const luaL_Reg *methods, lua_CFunction getter)
{
	const luaL_Reg *const tables[] = {methods, NULL};

	lbpf_new_class_tables(L, name, meta, tables, getter);
}

void lbpf_class_fields(lua_State *L, const char *name,
		       const char *const fields[])
{
	int i;

	luaL_getmetatable(L, name);
	lua_newtable(L);
	for (i = 0; fields[i]; i++) {
		lua_pushstring(L, fields[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "__fields");
	lua_pop(L, 1);
}

/* ---- handles with metatables of their own -------------------------------
 * `m:lookup(k)` through a C __index pays a C call just to find the method.
 * A class registered with lbpf_class_bind gives each handle a metatable of
 * its own whose __index is a plain table of the methods (Lua finds them
 * without calling anything); that table's own __index is a closure over
 * the handle, for fields and keys. The class metatable stays in the
 * registry as the template (and answers as before for the docs, the
 * fuzzer, luaL_checkudata of other classes). Every handle metatable holds
 * the template under `own_mark`: lbpf_test_class checks that.
 * A class bound keys first (lbpf_class_bind_keyed: views, whose hot path
 * is v[i]) has no method table in front: the handle's __index is its bound
 * closure, which looks the methods up itself when the key is no index. */

static const char own_mark;     /* handle metatable -> class template */
static const char own_methods;  /* template -> its methods table */
static const char own_bound;    /* template -> {name = C function} */
static const char own_keyed;    /* template -> true: __index is the bound one */

void lbpf_class_bind(lua_State *L, const char *name, const luaL_Reg *bound)
{
	luaL_getmetatable(L, name);
	lua_pushvalue(L, -1);
	lua_rawsetp(L, -2, &own_mark);
	lua_getfield(L, -1, "__index");
	lua_getupvalue(L, -1, 1);       /* class_index's methods */
	lua_rawsetp(L, -3, &own_methods);
	lua_pop(L, 1);
	lua_newtable(L);
	for (; bound->name; bound++) {
		lua_pushcfunction(L, bound->func);
		lua_setfield(L, -2, bound->name);
	}
	lua_rawsetp(L, -2, &own_bound);
	lua_pop(L, 1);
}

void lbpf_class_bind_keyed(lua_State *L, const char *name,
			   const luaL_Reg *bound)
{
	lbpf_class_bind(L, name, bound);
	luaL_getmetatable(L, name);
	lua_pushboolean(L, 1);
	lua_rawsetp(L, -2, &own_keyed);
	lua_pop(L, 1);
}

/* Push closure(f, handle, methods): a bound function's upvalues */
static void own_closure(lua_State *L, lua_CFunction f, int ud, int methods)
{
	lua_pushvalue(L, ud);
	lua_pushvalue(L, methods);
	lua_pushcclosure(L, f, 2);
}

/* t[k] = closure(f, handle, methods) for every bound C function whose
 * name does (meta) or does not start with "__"; "__index" is left out */
static void own_bind(lua_State *L, int bound, int t, int ud, int methods,
		     int meta)
{
	lua_pushnil(L);
	while (lua_next(L, bound)) {
		const char *k = lua_tostring(L, -2);

		if ((strncmp(k, "__", 2) == 0) == meta &&
		    strcmp(k, "__index") != 0) {
			lua_pushvalue(L, -2);
			own_closure(L, lua_tocfunction(L, -2), ud, methods);
			lua_rawset(L, t);
		}
		lua_pop(L, 1);
	}
}

void lbpf_set_own_metatable(lua_State *L, const char *name)
{
	int ud = lua_absindex(L, -1), cls, mt, methods, bound;

	luaL_getmetatable(L, name);
	cls = lua_gettop(L);
	lua_rawgetp(L, cls, &own_methods);
	methods = lua_gettop(L);
	lua_rawgetp(L, cls, &own_bound);
	bound = lua_gettop(L);
	/* the metamethods, __name and __fields: every string key but __index */
	lua_createtable(L, 0, 12);
	mt = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, cls)) {
		if (lua_type(L, -2) == LUA_TSTRING &&
		    strcmp(lua_tostring(L, -2), "__index") != 0) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, mt);
		} else {
			lua_pop(L, 1);
		}
	}
	lua_pushvalue(L, cls);
	lua_rawsetp(L, mt, &own_mark);
	own_bind(L, bound, mt, ud, methods, 1);
	if (lua_rawgetp(L, cls, &own_keyed) == LUA_TBOOLEAN) {
		/* keys first: __index is the bound one itself */
		lua_getfield(L, bound, "__index");
		own_closure(L, lua_tocfunction(L, -1), ud, methods);
		lua_setfield(L, mt, "__index");
		lua_settop(L, mt);
		lua_setmetatable(L, ud);
		lua_settop(L, ud);
		return;
	}
	lua_pop(L, 1);
	/* __index: a copy of the methods, with the bound ones over the handle */
	lua_createtable(L, 0, (int)lua_rawlen(L, methods) + 48);
	lua_pushnil(L);
	while (lua_next(L, methods)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -4);
	}
	own_bind(L, bound, mt + 1, ud, methods, 0);
	if (lua_getfield(L, bound, "__index") == LUA_TFUNCTION) {
		lua_createtable(L, 0, 1);
		own_closure(L, lua_tocfunction(L, -2), ud, methods);
		lua_setfield(L, -2, "__index");
		lua_setmetatable(L, mt + 1);
	}
	lua_pop(L, 1);
	lua_setfield(L, mt, "__index");
	lua_setmetatable(L, ud);
	lua_settop(L, ud);
}

void *lbpf_test_class(lua_State *L, int idx, const char *name)
{
	void *p = lua_touserdata(L, idx);
	int ok;

	if (!p || lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
		return NULL;
	lua_rawgetp(L, -1, &own_mark);
	luaL_getmetatable(L, name);
	/* a handle of its own metatable, or one with the class's (a class
	 * not bound: luaL_testudata's check) */
	ok = lua_type(L, -1) == LUA_TTABLE &&
	     (lua_rawequal(L, -1, -2) || lua_rawequal(L, -1, -3));
	lua_pop(L, 3);
	return ok ? p : NULL;
}

void *lbpf_check_class(lua_State *L, int idx, const char *name)
{
	void *p = lbpf_test_class(L, idx, name);

	if (!p)
		luaL_typeerror(L, idx, name);
	return p;
}

int lbpf_index_near_miss(lua_State *L, const char *name,
			 lua_CFunction getter)
{
	int top = lua_gettop(L), methods;

	luaL_getmetatable(L, name);
	lua_rawgetp(L, -1, &own_methods);
	if (lua_type(L, -1) != LUA_TTABLE) {
		lua_settop(L, top);
		return 0;
	}
	lua_insert(L, -2);  /* methods, then the class metatable on top */
	methods = lua_gettop(L) - 1;
	if (near_miss_in(L, methods, methods + 1, getter)) {
		lua_replace(L, top + 1);
		lua_settop(L, top + 1);
		return 1;
	}
	lua_settop(L, top);
	return 0;
}

/* ---- arrays from the stack ------------------------------------------------ */

static char packer_key;   /* registry key of the packer */

void lbpf_push_packer(lua_State *L)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &packer_key) == LUA_TFUNCTION)
		return;
	lua_pop(L, 1);
	if (luaL_loadstring(L, "return {...}") != LUA_OK)
		lua_error(L);
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &packer_key);
}

/* `return {...}` holds its n arguments twice (the call's and OP_VARARG's
 * copy) within Lua's stack limit (LUAI_MAXSTACK, 1,000,000 slots by
 * default): larger arrays are filled with lua_rawseti. */
#define PACK_MAX 200000

int lbpf_can_pack(lua_State *L, lua_Integer n)
{
	return n >= 0 && n <= PACK_MAX &&
	       lua_checkstack(L, 2 * (int)n + LUA_MINSTACK);
}

/* ---- pre-load setters (maps and programs) ------------------------------- */

int lbpf_setter_result(lua_State *L, int err, const char *what,
		       const char *kind, const char *name)
{
	if (err)
		return lbpf_push_error(L, lbpf_errno(err), "%s of %s '%s' failed",
				       what, kind, name);
	lua_settop(L, 1);
	return 1;
}
