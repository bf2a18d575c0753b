/*
 * open.h - the open functions of the files that have no header of their
 * own to declare them in (object.c, sys.c, syms.c, proc.c, os.c); core.c calls them.
 */
#ifndef LBPF_OPEN_H
#define LBPF_OPEN_H

#include "lbpf.h"

void lbpf_open_object(lua_State *L);  /* object.c */
void lbpf_open_sys(lua_State *L);     /* sys.c */
void lbpf_open_syms(lua_State *L);    /* syms.c: bpf.elf_symbols */
void lbpf_open_proc(lua_State *L);    /* proc.c: bpf.getpid, bpf.ns_info */
void lbpf_open_btf_build(lua_State *L); /* btf_build.c: bpf.btf_build */
void lbpf_open_os(lua_State *L);      /* os.c: bpf.sleep, watch_signals */

#endif
