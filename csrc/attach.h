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
 * section name: a kernel link fd, or -1 with errno set (EOPNOTSUPP: the
 * section does not say where) */
int lbpf_attach_by_section(const struct lbpf_prog *p);

/* The loaded program at index 1: a libbpf program or a fd-backed one; the
 * attach kinds that only need the program's fd take either. */
struct lbpf_prog *lbpf_attach_loaded_prog(lua_State *L, const char *what);
/* The program at index 1, loaded and with a libbpf handle. */
struct bpf_program *lbpf_attachable(lua_State *L, const char *what);
/* A kernel link fd from `prog_fd` to `target_fd`, for fd-backed programs;
 * -1 with errno set. */
int lbpf_attach_create_link(int prog_fd, int target_fd,
			    enum bpf_attach_type type);
/* Push the empty link handle an attach fills (program at 1), before the
 * attach touches the kernel; returns its stack index. */
int lbpf_attach_prepare(lua_State *L);
/* Fill the handle at `lidx` with `link` (or the kernel link `fd`, taken)
 * and push it, or unregister it and push `nil, msg, errno` when the attach
 * failed (NULL / -1, errno set); `kind` names the hook. */
int lbpf_attach_result(lua_State *L, int lidx, struct bpf_link *link,
		       const char *kind);
int lbpf_attach_fd_result(lua_State *L, int lidx, int fd, const char *kind);
/* NULL, or (in buf) why USDT program `p` must not be attached: its object
 * was built with a usdt.bpf.h whose spec layout is not the linked libbpf's.
 * Only for "usdt/..." sections unless `any_section` (attach_usdt). */
const char *lbpf_usdt_mismatch(const struct lbpf_prog *p, int any_section,
			       char *buf, size_t n);
/* Wrap the attach* methods of class `cls` (prog.c, after registering it):
 * each runs in one print frame with its program's object busy. */
void lbpf_attach_guard_methods(lua_State *L, const char *cls);
/* attach_uprobe.c, for obj:attach{uprobe_path = path | {prog = path}}:
 * check the option table at `optidx` against the progs table at
 * `progsidx` (raises); the path that replaces the binary of program `p`'s
 * auto-attach uprobe section, copied into buf (NULL: attach as libbpf
 * would); attach `prog` as its section says but to `path` (NULL with errno
 * set), the link's kind (and a missing file or function) in `kind`. */
void lbpf_check_uprobe_paths(lua_State *L, int optidx, int progsidx);
const char *lbpf_uprobe_path(lua_State *L, int optidx,
			     const struct lbpf_prog *p, char *buf, size_t n);
struct bpf_link *lbpf_attach_uprobe_section(struct bpf_program *prog,
					    const char *path, char *kind,
					    size_t n);
/* ifname or ifindex at `idx` -> ifindex; raises */
int lbpf_check_ifindex(lua_State *L, int idx, const char *what);

#endif
