/*
 * link.h - the libbpf.link handle (link.c), for the files that make links.
 */
#ifndef LBPF_LINK_H
#define LBPF_LINK_H

#include "handles.h"

/* wrap a new libbpf link for program at `progidx`; registers it with the
 * program's object so that it stays attached until destroyed */
struct lbpf_link *lbpf_push_link(lua_State *L, int progidx,
				 struct bpf_link *link, const char *kind);
/* destroy a link (detach unless disconnected), run its cleanup */
void lbpf_link_release(struct lbpf_link *l);
/* wrap kernel link fd `fd` (taken) as a libbpf bpf_link (pins it in bpffs
 * for a moment); NULL with errno set */
struct bpf_link *lbpf_link_from_fd(int fd);
void lbpf_open_link(lua_State *L);

#endif
