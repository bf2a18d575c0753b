/*
 * vars.h - obj.vars (vars.c).
 */
#ifndef LBPF_VARS_H
#define LBPF_VARS_H

#include "lbpf.h"

/* push obj.vars (libbpf.vars) for the object at `objidx`: its .rodata,
 * .data, .bss, .kconfig and custom section globals by name */
void lbpf_push_vars(lua_State *L, int objidx);
void lbpf_open_vars(lua_State *L);

#endif
