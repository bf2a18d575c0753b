/*
 * lbpf.h - the leaf helpers of the `libbpf.core` module (lbpf.c): errors,
 * option tables, class registration. Every C file includes it; it calls
 * nothing else in the module.
 */
#ifndef LBPF_H
#define LBPF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>
#include <lauxlib.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* core.so is built with -fvisibility=hidden: only what is marked with this
 * (the luaopen_* functions) is exported */
#define LBPF_EXPORT __attribute__((visibility("default")))

#define LBPF_OBJECT "libbpf.object"
#define LBPF_MAP "libbpf.map"
#define LBPF_PROG "libbpf.program"
#define LBPF_LINK "libbpf.link"
#define LBPF_BTF "libbpf.btf"

/* ---- errors ------------------------------------------------------------ */

/* Push `nil, "<formatted>: <strerror(err)>", err` and return 3; `err` is a
 * positive errno (negative values are accepted and flipped). */
int lbpf_push_error(lua_State *L, int err, const char *fmt, ...);
/* Same, with an extra text block (a verifier log tail) after the message. */
int lbpf_push_error_detail(lua_State *L, int err, const char *detail,
			   const char *fmt, ...);
/* libbpf returns -errno or NULL+errno; normalise to a positive errno. */
int lbpf_errno(long ret);

/* Raise "<what> needs libbpf >= X.Y (built with A.B)": for a method or an
 * option whose libbpf API is newer than the libbpf core.so was built with
 * (the code calling it is under #if __LIBBPF_CURRENT_VERSION_GEQ(X, Y)). */
int lbpf_needs_libbpf(lua_State *L, const char *what, int major, int minor);

/* ---- argument checking ------------------------------------------------- */

/* Raise unless every key of the option table at `idx` is in `allowed`
 * (NULL-terminated). `fname` names the function in the message. */
void lbpf_check_options(lua_State *L, int idx, const char *fname,
			const char *const allowed[]);
/* Optional fields of an option table (absent/nil -> default). */
const char *lbpf_opt_string(lua_State *L, int idx, const char *key,
			    const char *def);
lua_Integer lbpf_opt_integer(lua_State *L, int idx, const char *key,
			     lua_Integer def);
int lbpf_opt_boolean(lua_State *L, int idx, const char *key, int def);

/* ---- result tables: t[key] = v for the table at -1 ---------------------- */

void lbpf_set_int(lua_State *L, const char *key, lua_Integer v);
void lbpf_set_str(lua_State *L, const char *key, const char *v);

/* ---- classes ----------------------------------------------------------- */

/* Create a metatable `name` with methods, __index dispatching to `getter`
 * for fields, and __name. `getter(L)` is called with (ud, key) and returns
 * 1 value or 0 if it does not know the key. */
void lbpf_new_class(lua_State *L, const char *name, const luaL_Reg *meta,
		    const luaL_Reg *methods, lua_CFunction getter);
/* Same with the methods of several tables (NULL-terminated list): a class
 * whose methods are grouped in files of their own lists them all here. */
void lbpf_new_class_tables(lua_State *L, const char *name,
			   const luaL_Reg *meta,
			   const luaL_Reg *const methods[],
			   lua_CFunction getter);

/* Record the names the getter of class `name` answers (NULL-terminated) as
 * the metatable's `__fields` list: the REPL's completion, the docs spec and
 * the misuse fuzzer enumerate fields from it. */
void lbpf_class_fields(lua_State *L, const char *name,
		       const char *const fields[]);

/* Push `return {...}`, compiled once per state: called with n values on
 * the stack it returns them as an array, filled by the VM from its stack
 * (OP_SETLIST) at about half of what n lua_rawseti cost. For the bulk
 * reads that build arrays: v:read, b:column. lbpf_can_pack says whether n
 * values (and the packer) fit the stack; else fill with lua_rawseti. */
void lbpf_push_packer(lua_State *L);
int lbpf_can_pack(lua_State *L, lua_Integer n);

/* Give the handles of class `name` (already registered) metatables of
 * their own, made by lbpf_set_own_metatable from the class's: __index is a
 * table of the methods, so `h:method()` calls no C function to find it.
 * `bound` lists C functions made into closures over each handle (upvalue
 * 1 is the handle, upvalue 2 the class's method table): those named "__x"
 * go into the handle's metatable, the others into its method table, and
 * "__index" is what the method table falls back to for other keys (called
 * with the method table and the key). */
void lbpf_class_bind(lua_State *L, const char *name, const luaL_Reg *bound);
/* lbpf_class_bind for handles indexed by key first (views: v[i] is the hot
 * path): the bound "__index" is the handle metatable's __index itself,
 * called with the handle and the key, and finds the methods in its
 * upvalue 2; other bound functions are metamethods ("__x") only. */
void lbpf_class_bind_keyed(lua_State *L, const char *name,
			   const luaL_Reg *bound);
/* Set the userdata at -1's metatable: its own, from class `name`. */
void lbpf_set_own_metatable(lua_State *L, const char *name);
/* luaL_testudata/luaL_checkudata (same message) that also accept handles
 * with metatables of their own. */
void *lbpf_test_class(lua_State *L, int idx, const char *name);
void *lbpf_check_class(lua_State *L, int idx, const char *name);
/* For a string key at 2 of the handle at 1 of a bound class: raise "no
 * method 'lokup' on libbpf.map (did you mean lookup?)" when the key is
 * near a method or field name and `getter` (called protected with the
 * handle and key) raises; 1 with its result pushed when it does not; 0
 * when the key is near no name. */
int lbpf_index_near_miss(lua_State *L, const char *name,
			 lua_CFunction getter);

/* The result of a pre-load setter (maps and programs): on error
 * `nil, "<what> of <kind> '<name>' failed: ...", errno`, else the handle
 * at 1, so setters chain. */
int lbpf_setter_result(lua_State *L, int err, const char *what,
		       const char *kind, const char *name);

#endif
