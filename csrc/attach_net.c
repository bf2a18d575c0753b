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

/* Fill the prepared link handle at `lidx` so that it undoes `na` with
 * `detach` on destroy, and push it. */
static int push_netlink_link(lua_State *L, int lidx, struct netlink_attach *na,
			     void (*detach)(struct lbpf_link *),
			     const char *kind)
{
	struct lbpf_link *l = lua_touserdata(L, lidx);

	lbpf_link_set(l, NULL, -1, kind);
	l->detach = detach;
	l->cleanup_data = na;
	lua_pushvalue(L, lidx);
	return 1;
}

/* The attach failed (errno `err`): unregister the prepared handle and push
 * `nil, msg, errno`. */
static int netlink_failed(lua_State *L, int lidx, int err, const char *fmt,
			  const char *name, const char *kind)
{
	lbpf_link_discard(L, lidx);
	return lbpf_push_error(L, err, fmt, name, kind);
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
	int mode, err, lidx;

	lbpf_check_options(L, 3, "attach_xdp", keys);
	if_indextoname((unsigned)ifindex, ifname);
	if (!lbpf_opt_string(L, 3, "mode", NULL)) {
		snprintf(kind, sizeof(kind), "xdp %s", ifname);
		lidx = lbpf_attach_prepare(L);
		if (p->prog)
			return lbpf_attach_result(L, lidx, bpf_program__attach_xdp(
						  p->prog, ifindex), kind);
		return lbpf_attach_fd_result(L, lidx, lbpf_attach_create_link(
					     lbpf_prog_fd(p), ifindex, BPF_XDP), kind);
	}
	/* a mode needs the netlink interface in libbpf 1.1 */
	lua_getfield(L, 3, "mode");
	mode = luaL_checkoption(L, -1, NULL, modes);
	snprintf(kind, sizeof(kind), "xdp %s %s", ifname, modes[mode]);
	lidx = lbpf_attach_prepare(L);
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
			return netlink_failed(L, lidx, -err, "attach '%s' to %s "
					      "failed: another XDP program is "
					      "attached", lbpf_prog_name(p), kind);
		return netlink_failed(L, lidx, -err, "attach '%s' to %s failed",
				      lbpf_prog_name(p), kind);
	}
	na->xdp_flags &= ~(__u32)XDP_FLAGS_UPDATE_IF_NOEXIST;
	return push_netlink_link(L, lidx, na, xdp_detach, kind);
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

/* A tc option that must be an integer in 0..max (checked before the call
 * touches the kernel: a raise after adding the qdisc would leave it). */
static __u32 tc_option(lua_State *L, const char *key, lua_Integer max)
{
	lua_Integer v = 0;

	if (lua_getfield(L, 2, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (!lua_isinteger(L, -1) || (v = lua_tointeger(L, -1)) < 0 || v > max)
		luaL_argerror(L, 2, lua_pushfstring(L, "attach_tc: '%s' must be an "
			      "integer in 0..%I", key, max));
	lua_pop(L, 1);
	return (__u32)v;
}

/* Remove the clsact qdisc if this call added it (the attach failed). */
static void tc_undo_hook(struct bpf_tc_hook *hook, int created)
{
	if (created) {
		hook->attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(hook);
	}
}

/* prog:attach_tc{ifname= | ifindex=, hook="ingress"|"egress", priority=,
 * handle=}: adds the clsact qdisc when missing and removes it on destroy
 * only if it added it. Every option is checked before the qdisc is added,
 * and a failed attach removes a qdisc it added. */
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
	int point, err, lidx;

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
	opts.prog_fd = lbpf_prog_fd(p);
	opts.priority = tc_option(L, "priority", 0xffff);
	opts.handle = tc_option(L, "handle", 0xffffffff);
	if_indextoname((unsigned)hook.ifindex, ifname);
	snprintf(kind, sizeof(kind), "tc %s %s", ifname, hooks[point]);
	lidx = lbpf_attach_prepare(L);
	na = calloc(1, sizeof(*na));
	if (!na)
		return luaL_error(L, "attach_tc: out of memory");
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		free(na);
		return netlink_failed(L, lidx, -err, "attach '%s' to %s failed: "
				      "cannot add the clsact qdisc",
				      lbpf_prog_name(p), kind);
	}
	na->tc_hook_created = err == 0;
	err = bpf_tc_attach(&hook, &opts);
	na->ifindex = hook.ifindex;
	na->tc_point = hook.attach_point;
	if (err) {
		tc_undo_hook(&hook, na->tc_hook_created);
		free(na);
		return netlink_failed(L, lidx, -err, "attach '%s' to %s failed",
				      lbpf_prog_name(p), kind);
	}
	na->handle = opts.handle;
	na->priority = opts.priority;
	return push_netlink_link(L, lidx, na, tc_detach, kind);
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
	int lidx;

	if (fd < 0)
		fd = (int)luaL_checkinteger(L, 2);
	lidx = lbpf_attach_prepare(L);
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd))) {
		int err = errno;

		lbpf_link_discard(L, lidx);
		return lbpf_push_error(L, err, "attach '%s' to socket fd %d "
				       "failed", lbpf_prog_name(p), fd);
	}
	na = calloc(1, sizeof(*na));
	if (na)
		na->sock_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (!na || na->sock_fd < 0) {
		int err = na ? errno : ENOMEM, dummy = 0;

		setsockopt(fd, SOL_SOCKET, SO_DETACH_BPF, &dummy, sizeof(dummy));
		free(na);
		lbpf_link_discard(L, lidx);
		return lbpf_push_error(L, err, "attach '%s' to socket fd %d "
				       "failed", lbpf_prog_name(p), fd);
	}
	snprintf(kind, sizeof(kind), "socket fd %d", fd);
	return push_netlink_link(L, lidx, na, socket_detach, kind);
}

/* Attach with an fd opened from a path (closed after: the kernel link holds
 * its own reference) or given by the caller. */
static int attach_by_fd(lua_State *L, const char *what, const char *kindfmt,
			struct bpf_link *(*fn)(const struct bpf_program *, int),
			enum bpf_attach_type type)
{
	struct lbpf_prog *p = lbpf_attach_loaded_prog(L, what);
	struct bpf_link *link = NULL;
	char kind[96];
	int fd, err, lfd = -1, lidx;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		fd = (int)luaL_checkinteger(L, 2);
		snprintf(kind, sizeof(kind), kindfmt, lua_pushfstring(L, "fd %d", fd));
		lidx = lbpf_attach_prepare(L);
		if (p->prog)
			return lbpf_attach_result(L, lidx, fn(p->prog, fd), kind);
		return lbpf_attach_fd_result(L, lidx, lbpf_attach_create_link(
					     lbpf_prog_fd(p), fd, type), kind);
	}
	snprintf(kind, sizeof(kind), kindfmt, luaL_checkstring(L, 2));
	lidx = lbpf_attach_prepare(L);
	fd = open(lua_tostring(L, 2), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		lbpf_link_discard(L, lidx);
		return lbpf_push_error(L, err, "attach '%s' to %s failed",
				       lbpf_prog_name(p), kind);
	}
	if (p->prog)
		link = fn(p->prog, fd);
	else
		lfd = lbpf_attach_create_link(lbpf_prog_fd(p), fd, type);
	err = errno;
	close(fd);
	errno = err;
	if (p->prog)
		return lbpf_attach_result(L, lidx, link, kind);
	return lbpf_attach_fd_result(L, lidx, lfd, kind);
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
