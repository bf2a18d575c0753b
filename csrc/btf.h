/*
 * btf.h - the libbpf.btf handle (btf.c), for the classes that make one.
 */
#ifndef LBPF_BTF_H
#define LBPF_BTF_H

#include "lbpf.h"

/* the btf of the libbpf.btf handle at `idx`; raises when closed */
const struct btf *lbpf_check_btf(lua_State *L, int idx);
/* push a libbpf.btf handle; `owned`: free btf with the handle, else keep the
 * value at `owneridx` (an object userdata, or 0) alive while it is used */
void lbpf_push_btf(lua_State *L, int owneridx, const struct btf *btf,
		   int owned);

/* the btf of the libbpf.btf handle at `idx` (btf= options), kept alive for
 * the holder at `holderidx` (a map, or a poller's user value table) however
 * the handle or its object is closed: see btf.c */
const struct btf *lbpf_btf_lend(lua_State *L, int idx, int holderidx);

void lbpf_open_btf(lua_State *L);
#endif
