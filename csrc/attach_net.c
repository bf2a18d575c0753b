/*
 * attach_net.c - the network family of program attach methods: XDP, tc,
 * sockets (SO_ATTACH_BPF), cgroups and network namespaces. prog.c lists
 * `lbpf_attach_net_methods`.
 *
 * tc, XDP-with-a-mode and SO_ATTACH_BPF attachments are not kernel bpf_links
 * in libbpf 1.1: they are `libbpf.link` handles whose `link` is NULL and whose
 * `detach` hook undoes the attachment (see struct lbpf_link in handles.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>

#include "attach.h"
#include "packet.h"
#include "handles.h"
#include "link.h"
#include "names.h"

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef SO_DETACH_BPF
#define SO_DETACH_BPF 27
#endif

/* ---- links that are not bpf_links -------------------------------------- */

struct netlink_attach {
	int ifindex;
	int prog_fd;          /* dup of the program fd, to detach exactly it */
	__u32 xdp_flags;      /* XDP: the mode flags used to attach */
	int tc_hook_created;  /* tc: we created the clsact qdisc */
	__u32 handle, priority;
	enum bpf_tc_attach_point tc_point;
	int sock_fd;          /* socket: dup of the caller's socket */
};

/* Push a `libbpf.link` that undoes `na` with `detach` on destroy. */
static struct lbpf_link *push_netlink_link(lua_State *L,
					   struct netlink_attach *na,
					   void (*detach)(struct lbpf_link *),
					   const char *kind)
{
	struct lbpf_link *l = lbpf_push_link(L, 1, NULL, kind);

	l->detach = detach;
	l->cleanup_data = na;
	return l;
}

static void xdp_detach(struct lbpf_link *l)
{
	struct netlink_attach *na = l->cleanup_data;
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = na->prog_fd);

	/* XDP_FLAGS_REPLACE: detach our program only, never a newer one */
	bpf_xdp_detach(na->ifindex, na->xdp_flags | XDP_FLAGS_REPLACE, &opts);
	close(na->prog_fd);
	free(na);
	l->cleanup_data = NULL;
}

/* prog:attach_xdp(ifname | ifindex[, {mode="skb"|"drv"|"hw"}]) */
static int net_attach_xdp(lua_State *L)
{
	static const char *const keys[] = {"mode", NULL};
	static const char *const modes[] = {"skb", "drv", "hw", NULL};
	static const __u32 mode_flags[] = {XDP_FLAGS_SKB_MODE,
		XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE};
	struct lbpf_prog *p = lbpf_attach_loaded_prog(L, "attach_xdp");
	int ifindex = lbpf_check_ifindex(L, 2, "attach_xdp");
	struct netlink_attach *na;
	char ifname[IF_NAMESIZE] = "?", kind[64];
	int mode, err;

	lbpf_check_options(L, 3, "attach_xdp", keys);
	if_indextoname((unsigned)ifindex, ifname);
	if (!lbpf_opt_string(L, 3, "mode", NULL)) {
		snprintf(kind, sizeof(kind), "xdp %s", ifname);
		return lbpf_attach_result(L, p->prog ?
					bpf_program__attach_xdp(p->prog, ifindex) :
					lbpf_attach_create_link(lbpf_prog_fd(p), ifindex,
						    BPF_XDP), kind);
	}
	/* a mode needs the netlink interface in libbpf 1.1 */
	lua_getfield(L, 3, "mode");
	mode = luaL_checkoption(L, -1, NULL, modes);
	snprintf(kind, sizeof(kind), "xdp %s %s", ifname, modes[mode]);
	na = calloc(1, sizeof(*na));
	if (!na)
		return luaL_error(L, "attach_xdp: out of memory");
	na->ifindex = ifindex;
	na->xdp_flags = mode_flags[mode] | XDP_FLAGS_UPDATE_IF_NOEXIST;
	na->prog_fd = fcntl(lbpf_prog_fd(p), F_DUPFD_CLOEXEC, 3);
	err = na->prog_fd < 0 ? -errno :
	      bpf_xdp_attach(ifindex, na->prog_fd, na->xdp_flags, NULL);
	if (err) {
		if (na->prog_fd >= 0)
			close(na->prog_fd);
		free(na);
		if (err == -EBUSY || err == -EEXIST)
			return lbpf_push_error(L, -err, "attach '%s' to %s failed: "
					       "another XDP program is attached",
					       lbpf_prog_name(p), kind);
		return lbpf_push_error(L, -err, "attach '%s' to %s failed",
				       lbpf_prog_name(p), kind);
	}
	na->xdp_flags &= ~(__u32)XDP_FLAGS_UPDATE_IF_NOEXIST;
	push_netlink_link(L, na, xdp_detach, kind);
	return 1;
}

static void tc_detach(struct lbpf_link *l)
{
	struct netlink_attach *na = l->cleanup_data;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = na->ifindex,
		    .attach_point = na->tc_point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = na->handle,
		    .priority = na->priority);

	bpf_tc_detach(&hook, &opts);
	if (na->tc_hook_created) {
		/* BPF_TC_INGRESS|BPF_TC_EGRESS deletes the clsact qdisc */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	free(na);
	l->cleanup_data = NULL;
}

/* prog:attach_tc{ifname= | ifindex=, hook="ingress"|"egress", priority=,
 * handle=}: adds the clsact qdisc when missing and removes it on destroy
 * only if it added it */
static int net_attach_tc(lua_State *L)
{
	static const char *const keys[] = {"ifname", "ifindex", "hook",
					   "priority", "handle", NULL};
	static const char *const hooks[] = {"ingress", "egress", NULL};
	struct lbpf_prog *p = lbpf_attach_loaded_prog(L, "attach_tc");
	LIBBPF_OPTS(bpf_tc_hook, hook);
	LIBBPF_OPTS(bpf_tc_opts, opts);
	struct netlink_attach *na;
	char ifname[IF_NAMESIZE] = "?", kind[64];
	int point, err;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_tc", keys);
	if (lua_getfield(L, 2, "ifindex") == LUA_TNIL) {
		lua_pop(L, 1);
		if (lua_getfield(L, 2, "ifname") == LUA_TNIL)
			luaL_argerror(L, 2, "attach_tc needs 'ifname' or 'ifindex'");
	}
	hook.ifindex = lbpf_check_ifindex(L, -1, "attach_tc");
	lua_pop(L, 1);
	lua_getfield(L, 2, "hook");
	point = luaL_checkoption(L, -1, "ingress", hooks);
	lua_pop(L, 1);
	hook.attach_point = point == 0 ? BPF_TC_INGRESS : BPF_TC_EGRESS;
	if_indextoname((unsigned)hook.ifindex, ifname);
	snprintf(kind, sizeof(kind), "tc %s %s", ifname, hooks[point]);
	na = calloc(1, sizeof(*na));
	if (!na)
		return luaL_error(L, "attach_tc: out of memory");
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		free(na);
		return lbpf_push_error(L, -err, "attach '%s' to %s failed: cannot "
				       "add the clsact qdisc",
				       lbpf_prog_name(p), kind);
	}
	na->tc_hook_created = err == 0;
	opts.prog_fd = lbpf_prog_fd(p);
	opts.priority = (__u32)lbpf_opt_integer(L, 2, "priority", 0);
	opts.handle = (__u32)lbpf_opt_integer(L, 2, "handle", 0);
	err = bpf_tc_attach(&hook, &opts);
	na->ifindex = hook.ifindex;
	na->tc_point = hook.attach_point;
	if (err) {
		if (na->tc_hook_created) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
		free(na);
		return lbpf_push_error(L, -err, "attach '%s' to %s failed",
				       lbpf_prog_name(p), kind);
	}
	na->handle = opts.handle;
	na->priority = opts.priority;
	push_netlink_link(L, na, tc_detach, kind);
	return 1;
}

static void socket_detach(struct lbpf_link *l)
{
	struct netlink_attach *na = l->cleanup_data;
	int dummy = 0;

	setsockopt(na->sock_fd, SOL_SOCKET, SO_DETACH_BPF, &dummy,
		   sizeof(dummy));
	close(na->sock_fd);
	free(na);
	l->cleanup_data = NULL;
}

/* prog:attach_socket(fd): SO_ATTACH_BPF; destroy does SO_DETACH_BPF. The
 * handle keeps a duplicate of the socket so the fd number cannot be reused
 * under it. */
static int net_attach_socket(lua_State *L)
{
	struct lbpf_prog *p = lbpf_attach_loaded_prog(L, "attach_socket");
	int fd = lbpf_socket_fd(L, 2); /* a bpf.packet_socket() or a number */
	int prog_fd = lbpf_prog_fd(p);
	struct netlink_attach *na;
	char kind[64];

	if (fd < 0)
		fd = (int)luaL_checkinteger(L, 2);
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)))
		return lbpf_push_error(L, errno, "attach '%s' to socket fd %d "
				       "failed", lbpf_prog_name(p), fd);
	na = calloc(1, sizeof(*na));
	if (na)
		na->sock_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (!na || na->sock_fd < 0) {
		int err = na ? errno : ENOMEM, dummy = 0;

		setsockopt(fd, SOL_SOCKET, SO_DETACH_BPF, &dummy, sizeof(dummy));
		free(na);
		return lbpf_push_error(L, err, "attach '%s' to socket fd %d "
				       "failed", lbpf_prog_name(p), fd);
	}
	snprintf(kind, sizeof(kind), "socket fd %d", fd);
	push_netlink_link(L, na, socket_detach, kind);
	return 1;
}

/* Attach with an fd opened from a path (closed after: the kernel link holds
 * its own reference) or given by the caller. */
static int attach_by_fd(lua_State *L, const char *what, const char *kindfmt,
			struct bpf_link *(*fn)(const struct bpf_program *, int),
			enum bpf_attach_type type)
{
	struct lbpf_prog *p = lbpf_attach_loaded_prog(L, what);
	struct bpf_link *link;
	int fd, err;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		fd = (int)luaL_checkinteger(L, 2);
		lua_pushfstring(L, kindfmt, lua_pushfstring(L, "fd %d", fd));
		return lbpf_attach_result(L, p->prog ? fn(p->prog, fd) :
					lbpf_attach_create_link(lbpf_prog_fd(p), fd, type),
					lua_tostring(L, -1));
	}
	lua_pushfstring(L, kindfmt, luaL_checkstring(L, 2));
	fd = open(lua_tostring(L, 2), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lbpf_push_error(L, errno, "attach '%s' to %s failed",
				       lbpf_prog_name(p), lua_tostring(L, -1));
	link = p->prog ? fn(p->prog, fd) : lbpf_attach_create_link(lbpf_prog_fd(p), fd, type);
	err = errno;
	close(fd);
	errno = err;
	return lbpf_attach_result(L, link, lua_tostring(L, -1));
}

/* The cgroup hook of a fd-backed program: libbpf programs know theirs from
 * the section name; an iproute2-style "cgroup/skb" does not say ingress or
 * egress, so {attach_type = "ingress" | "egress"} (arg 3) says it. */
static enum bpf_attach_type cgroup_attach_type(lua_State *L)
{
	static const char *const keys[] = {"attach_type", NULL};
	struct lbpf_prog *p = lbpf_check_prog(L, 1);
	const char *def = NULL;

	lbpf_check_options(L, 3, "attach_cgroup", keys);
	if (p->prog) {
		if (lbpf_opt_string(L, 3, "attach_type", NULL))
			luaL_argerror(L, 3, "attach_cgroup: 'attach_type' is for "
				      "programs without a libbpf handle (the "
				      "section name says it)");
		return 0; /* unused: libbpf decides */
	}
	if (p->type == BPF_PROG_TYPE_CGROUP_SOCK)
		def = "sock_create";
	else if (p->type == BPF_PROG_TYPE_SOCK_OPS)
		def = "sock_ops";
	if (!def && !lbpf_opt_string(L, 3, "attach_type", NULL))
		luaL_argerror(L, 3, lua_pushfstring(L, "attach_cgroup: program "
			      "'%s' (section '%s') needs {attach_type = "
			      "\"ingress\" | \"egress\"}", p->name, p->section));
	lua_pushstring(L, lbpf_opt_string(L, 3, "attach_type", def));
	return lbpf_cgroup_attach_types[luaL_checkoption(L, -1, NULL,
							 lbpf_cgroup_attach_names)];
}

/* prog:attach_cgroup(path | fd[, {attach_type=}]) */
static int net_attach_cgroup(lua_State *L)
{
	enum bpf_attach_type type = cgroup_attach_type(L);

	lua_settop(L, 2);
	return attach_by_fd(L, "attach_cgroup", "cgroup %s",
			    bpf_program__attach_cgroup, type);
}

/* prog:attach_netns([path | fd]): default the caller's network namespace */
static int net_attach_netns(lua_State *L)
{
	if (lua_isnoneornil(L, 2)) {
		lua_settop(L, 1);
		lua_pushliteral(L, "/proc/self/ns/net");
	}
	return attach_by_fd(L, "attach_netns", "netns %s",
			    bpf_program__attach_netns, BPF_FLOW_DISSECTOR);
}

const luaL_Reg lbpf_attach_net_methods[] = {
	{"attach_xdp", net_attach_xdp},
	{"attach_tc", net_attach_tc},
	{"attach_socket", net_attach_socket},
	{"attach_cgroup", net_attach_cgroup},
	{"attach_netns", net_attach_netns},
	{NULL, NULL}
};
