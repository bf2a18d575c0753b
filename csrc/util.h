/*
 * util.h - the handle structs and helpers shared by every C file of the
 * `libbpf.core` module.
 *
 * Ownership in one paragraph (see README "Lifetimes"):
 *  - an object userdata owns its `struct bpf_object` (or, for objects in
 *    another loader's convention, the fds in its `struct lbpf_legacy`);
 *  - map/program/link userdata hold their object in user value 1, so the
 *    object's memory outlives every child, whatever order finalizers run in;
 *  - a child checks `owner->closed` before every use and raises
 *    "libbpf.map: object is closed";
 *  - links are kept in the object's `links` set (strong refs), so dropping the
 *    Lua variable never detaches; the object destroys them before it frees
 *    its libbpf handle.
 */
#ifndef LBPF_UTIL_H
#define LBPF_UTIL_H

#include "lbpf.h"
#include "handles.h"
#include "names.h"
#include "print.h"

void lbpf_add_methods(lua_State *L, const char *name, const luaL_Reg *methods);

/* elfcheck.c: 0 when libbpf can safely parse the ELF in buf, else -1 and
 * a message naming the section at fault */
int lbpf_elf_check(const void *buf, size_t len, char *err, size_t errlen);

/* ---- per-file registration (each file fills `bpf` at -1) ------------- */
void lbpf_open_object(lua_State *L);
void lbpf_open_map(lua_State *L);
void lbpf_open_btf(lua_State *L);
void lbpf_open_events(lua_State *L);
void lbpf_open_sys(lua_State *L);      /* sys.c */
void lbpf_open_syms(lua_State *L);    /* syms.c: bpf.elf_symbols */

/* ---- constructors used across files ---------------------------------- */
/* push a new map userdata that wraps libbpf map `map` of object at `objidx` */
struct lbpf_map *lbpf_push_map(lua_State *L, int objidx, struct bpf_map *map);
/* push a fd-backed map userdata; takes ownership of `fd` */
struct lbpf_map *lbpf_push_fd_map(lua_State *L, int objidx, int fd,
				  const char *name);
/* map keys/values (map.c): encode a Lua value into exactly `size` bytes */
void lbpf_encode(lua_State *L, int idx, struct lbpf_codec *c, void *buf,
		 size_t size, const char *what);
void lbpf_decode(lua_State *L, struct lbpf_codec *c, const void *buf,
		 size_t size);
#include "btf.h"
#include "codec.h"
#include "vars.h"
#include "btftypes.h"
#include "attach.h"
#include "link.h"
#include "probe.h"
#include "prog.h"

#endif
