/*
 * prog.h - the libbpf.program handle (prog.c), for the files that make one.
 */
#ifndef LBPF_PROG_H
#define LBPF_PROG_H

#include "handles.h"

struct lbpf_prog *lbpf_push_prog(lua_State *L, int objidx,
				 struct bpf_program *prog);
void lbpf_open_prog(lua_State *L);

#endif
