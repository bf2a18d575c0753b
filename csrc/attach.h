/*
 * attach.h - the attach families' method tables (listed by prog.c) and the
 * helpers they share (attach.c).
 */
#ifndef LBPF_ATTACH_H
#define LBPF_ATTACH_H

#include "handles.h"

/* prog:attach_* methods, one table per family */
extern const luaL_Reg lbpf_attach_trace_methods[];   /* attach_trace.c */
extern const luaL_Reg lbpf_attach_net_methods[];     /* attach_net.c */
extern const luaL_Reg lbpf_attach_uprobe_methods[];  /* attach_uprobe.c */

/* attach_trace.c: prog:attach() of a loaded fd-backed program, by its
 * section name; NULL with errno set (EOPNOTSUPP: the section does not say
 * where) */
struct bpf_link *lbpf_attach_by_section(const struct lbpf_prog *p);

/* The loaded program at index 1: a libbpf program or a fd-backed one; the
 * attach kinds that only need the program's fd take either. */
struct lbpf_prog *lbpf_attach_loaded_prog(lua_State *L, const char *what);
/* The program at index 1, loaded and with a libbpf handle. */
struct bpf_program *lbpf_attachable(lua_State *L, const char *what);
/* A kernel bpf_link from `prog_fd` to `target_fd`, for fd-backed programs;
 * NULL with errno set. */
struct bpf_link *lbpf_attach_create_link(int prog_fd, int target_fd,
					 enum bpf_attach_type type);
/* Push a link for `link` (program at 1) or `nil, msg, errno`; `kind`
 * names the hook. */
int lbpf_attach_result(lua_State *L, struct bpf_link *link, const char *kind);
/* Wrap the attach* methods of class `cls` (prog.c, after registering it):
 * each runs in one print frame with its program's object busy. */
void lbpf_attach_guard_methods(lua_State *L, const char *cls);
/* ifname or ifindex at `idx` -> ifindex; raises */
int lbpf_check_ifindex(lua_State *L, int idx, const char *what);

#endif
