/*
 * link.h - the libbpf.link handle (link.c), for the files that make links.
 */
#ifndef LBPF_LINK_H
#define LBPF_LINK_H

#include "handles.h"

/* Push an empty link handle (it reads as destroyed) for the program at
 * `progidx` (0: none), registered with the program's object, or with the
 * program itself when it has no object (bpf.prog_from_id), so that once
 * filled it stays attached until destroyed or its owner goes. Made before
 * attaching: a memory error then cannot leave an attachment without a
 * handle to undo it. */
struct lbpf_link *lbpf_link_new(lua_State *L, int progidx);
/* Fill the handle with what was attached: a libbpf link, or a kernel link
 * fd (`link` NULL; the handle takes `fd`); `kind` names the hook. */
void lbpf_link_set(struct lbpf_link *l, struct bpf_link *link, int fd,
		   const char *kind);
/* Unregister the empty handle at `idx` (the attach failed). */
void lbpf_link_discard(lua_State *L, int idx);
/* destroy a link (detach unless disconnected), run its cleanup */
void lbpf_link_release(struct lbpf_link *l);
void lbpf_open_link(lua_State *L);

#endif
