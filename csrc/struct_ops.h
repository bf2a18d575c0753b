/*
 * struct_ops.h - struct_ops maps as attachments (struct_ops.c): the map
 * method attach_struct_ops and obj:attach()'s pass over struct_ops maps.
 */
#ifndef LBPF_STRUCT_OPS_H
#define LBPF_STRUCT_OPS_H

#include "handles.h"

/* m:attach_struct_ops(), listed in the map class by map.c */
extern const luaL_Reg lbpf_map_struct_ops_methods[];
/* Attach every auto-attachable struct_ops map of the loaded libbpf object
 * at `objidx`, setting result[map name] = link in the table at `result`.
 * 0 on success; else the errno, with the failed map's name in *name and
 * the links made so far left in `result` for the caller to release. */
int lbpf_attach_struct_ops_maps(lua_State *L, int objidx, int result,
				const char **name);

#endif
