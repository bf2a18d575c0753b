/*
 * attach_net.c - the network family of program attach methods: XDP, tc,
 * tcx and netfilter links, sockets (SO_ATTACH_BPF), sockmaps, cgroups and
 * network namespaces. prog.c lists `lbpf_attach_net_methods`.
 *
 * tc, XDP-with-a-mode and SO_ATTACH_BPF attachments are not kernel bpf_links
 * in libbpf 1.1: they are `libbpf.link` handles whose `link` is NULL and whose
 * `detach` hook undoes the attachment (see struct lbpf_link in handles.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netfilter.h>

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

/* ---- tcx and netfilter: bpf_links (libbpf 1.3, kernel 6.6 / 6.4) ---------- */

#if __LIBBPF_CURRENT_VERSION_GEQ(1, 3)
/* A link from a program without a libbpf handle, or one whose section names
 * another hook: the kernel only checks the program type. A kernel link fd,
 * or -1 with errno set. */
static int net_create_link(const struct lbpf_prog *p, int target,
			   enum bpf_attach_type type,
			   const struct bpf_link_create_opts *opts)
{
	return bpf_link_create(lbpf_prog_fd(p), target, type, opts);
}

/* attach_tcx's `before`/`after` (`where`: BPF_F_BEFORE or BPF_F_AFTER): a
 * program or a link handle, a program id, or true (first / last). */
static void tcx_relative(lua_State *L, const char *key, __u32 where,
			 struct bpf_tcx_opts *opts)
{
	int t = lua_getfield(L, 2, key);

	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return;
	}
	if (opts->flags)
		luaL_argerror(L, 2, "attach_tcx: give 'before' or 'after', not both");
	opts->flags = where;
	if (t == LUA_TBOOLEAN) {
		luaL_argcheck(L, lua_toboolean(L, -1), 2, lua_pushfstring(L,
			      "attach_tcx: '%s' must be a program, a link, an "
			      "id or true", key));
	} else if (t == LUA_TNUMBER) {
		opts->flags |= BPF_F_ID;
		opts->relative_id = (__u32)luaL_checkinteger(L, -1);
	} else if (luaL_testudata(L, -1, LBPF_LINK)) {
		struct lbpf_link *l = lbpf_check_link(L, -1);

		if (!l->link)
			luaL_error(L, "attach_tcx: '%s' is not a kernel bpf_link "
				   "(%s)", key, l->kind);
		opts->flags |= BPF_F_LINK;
		opts->relative_fd = (__u32)bpf_link__fd(l->link);
	} else if (luaL_testudata(L, -1, LBPF_PROG)) {
		opts->relative_fd = (__u32)lbpf_prog_loaded_fd(L,
				lbpf_check_prog(L, -1), "attach_tcx");
	} else {
		luaL_argerror(L, 2, lua_pushfstring(L, "attach_tcx: '%s' must be "
			      "a program, a link, an id or true, got %s", key,
			      luaL_typename(L, -1)));
	}
	lua_pop(L, 1);
}
#endif

/* prog:attach_tcx{ifname= | ifindex=, hook="ingress"|"egress", before=,
 * after=}: a tc program as a bpf_link (detached when its last fd closes,
 * e.g. when the process exits), placed before/after another one. The hook
 * defaults to the section's ("tcx/egress"), else ingress. */
static int net_attach_tcx(lua_State *L)
{
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 3)
	static const char *const keys[] = {"ifname", "ifindex", "hook",
					   "before", "after", NULL};
	static const char *const hooks[] = {"ingress", "egress", NULL};
	struct lbpf_prog *p = lbpf_attach_loaded_prog(L, "attach_tcx");
	LIBBPF_OPTS(bpf_tcx_opts, opts);
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	enum bpf_attach_type type, own;
	char ifname[IF_NAMESIZE] = "?", kind[64];
	int ifindex, point, lidx;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_tcx", keys);
	if (lua_getfield(L, 2, "ifindex") == LUA_TNIL) {
		lua_pop(L, 1);
		if (lua_getfield(L, 2, "ifname") == LUA_TNIL)
			luaL_argerror(L, 2, "attach_tcx needs 'ifname' or 'ifindex'");
	}
	ifindex = lbpf_check_ifindex(L, -1, "attach_tcx");
	lua_getfield(L, 2, "hook");
	tcx_relative(L, "before", BPF_F_BEFORE, &opts);
	tcx_relative(L, "after", BPF_F_AFTER, &opts);
	/* again after the options: reading them may run code that closes it */
	p = lbpf_attach_loaded_prog(L, "attach_tcx");
	own = p->prog ? bpf_program__expected_attach_type(p->prog) :
	      BPF_TCX_INGRESS;
	point = luaL_checkoption(L, -1, own == BPF_TCX_EGRESS ? "egress" :
				 "ingress", hooks);
	lua_pop(L, 2);
	type = point == 0 ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;
	if_indextoname((unsigned)ifindex, ifname);
	snprintf(kind, sizeof(kind), "tcx %s %s", ifname, hooks[point]);
	lidx = lbpf_attach_prepare(L);
	if (p->prog && own == type)
		return lbpf_attach_result(L, lidx, bpf_program__attach_tcx(p->prog,
					  ifindex, &opts), kind);
	lopts.flags = opts.flags;
	lopts.tcx.relative_fd = opts.relative_fd;
	lopts.tcx.relative_id = opts.relative_id;
	return lbpf_attach_fd_result(L, lidx, net_create_link(p, ifindex, type,
				     &lopts), kind);
#else
	return lbpf_needs_libbpf(L, "attach_tcx", 1, 3);
#endif
}

/* prog:attach_netfilter{pf="ipv4"|"ipv6", hook=, priority=, defrag=}: a
 * netfilter program at a hook of this network namespace; it answers
 * NF_ACCEPT (1) or NF_DROP (0). */
static int net_attach_netfilter(lua_State *L)
{
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 3)
	static const char *const keys[] = {"pf", "hook", "priority", "defrag",
					   NULL};
	static const char *const pfs[] = {"ipv4", "ipv6", NULL};
	static const __u32 pf_nums[] = {NFPROTO_IPV4, NFPROTO_IPV6};
	/* in the order of enum nf_inet_hooks */
	static const char *const hooks[] = {"pre_routing", "local_in",
		"forward", "local_out", "post_routing", NULL};
	struct lbpf_prog *p = lbpf_attach_loaded_prog(L, "attach_netfilter");
	LIBBPF_OPTS(bpf_netfilter_opts, opts);
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	lua_Integer prio;
	char kind[80];
	int pf, hook, lidx;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_netfilter", keys);
	lua_getfield(L, 2, "pf");
	pf = luaL_checkoption(L, -1, "ipv4", pfs);
	if (lua_getfield(L, 2, "hook") == LUA_TNIL)
		luaL_argerror(L, 2, "attach_netfilter needs 'hook'");
	hook = luaL_checkoption(L, -1, NULL, hooks);
	lua_pop(L, 2);
	prio = lbpf_opt_integer(L, 2, "priority", 0);
	luaL_argcheck(L, prio > INT32_MIN && prio < INT32_MAX, 2,
		      "attach_netfilter: 'priority' out of range");
	opts.pf = pf_nums[pf];
	opts.hooknum = (__u32)hook;
	opts.priority = (__s32)prio;
	opts.flags = lbpf_opt_boolean(L, 2, "defrag", 0) ?
		     BPF_F_NETFILTER_IP_DEFRAG : 0;
	/* again after the options: reading them may run code that closes it */
	p = lbpf_attach_loaded_prog(L, "attach_netfilter");
	snprintf(kind, sizeof(kind), "netfilter %s %s priority %d%s", pfs[pf],
		 hooks[hook], (int)prio, opts.flags ? " defrag" : "");
	lidx = lbpf_attach_prepare(L);
	if (p->prog)
		return lbpf_attach_result(L, lidx, bpf_program__attach_netfilter(
					  p->prog, &opts), kind);
	lopts.netfilter.pf = opts.pf;
	lopts.netfilter.hooknum = opts.hooknum;
	lopts.netfilter.priority = opts.priority;
	lopts.netfilter.flags = opts.flags;
	return lbpf_attach_fd_result(L, lidx, net_create_link(p, 0,
				     BPF_NETFILTER, &lopts), kind);
#else
	return lbpf_needs_libbpf(L, "attach_netfilter", 1, 3);
#endif
}

/* prog:attach_sockmap(map | fd): an sk_skb or sk_msg program on a sockmap
 * or sockhash as a bpf_link (libbpf 1.5, kernel 6.10), at the hook its
 * section names (sk_skb/stream_verdict, sk_skb/stream_parser,
 * sk_skb/verdict, sk_msg). It runs for the sockets added to the map after
 * it is attached. */
static int net_attach_sockmap(lua_State *L)
{
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 5)
	struct bpf_program *prog = lbpf_attachable(L, "attach_sockmap");
	const char *kind;
	int fd, lidx;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		fd = (int)luaL_checkinteger(L, 2);
		lua_pushfstring(L, "sockmap fd %d", fd);
	} else {
		struct lbpf_map *m = lbpf_check_map(L, 2);
		const char *name = m->map ? bpf_map__name(m->map) : m->name;

		fd = lbpf_map_fd(m);
		if (fd < 0)
			luaL_error(L, "attach_sockmap: map '%s' is not created "
				   "(load its object first)", name);
		lua_pushfstring(L, "sockmap %s", name);
	}
	kind = lua_tostring(L, -1);
	lidx = lbpf_attach_prepare(L);
	return lbpf_attach_result(L, lidx, bpf_program__attach_sockmap(prog, fd),
				  kind);
#else
	return lbpf_needs_libbpf(L, "attach_sockmap", 1, 5);
#endif
}

const luaL_Reg lbpf_attach_net_methods[] = {
	{"attach_xdp", net_attach_xdp},
	{"attach_tc", net_attach_tc},
	{"attach_tcx", net_attach_tcx},
	{"attach_netfilter", net_attach_netfilter},
	{"attach_sockmap", net_attach_sockmap},
	{"attach_socket", net_attach_socket},
	{"attach_cgroup", net_attach_cgroup},
	{"attach_netns", net_attach_netns},
	{NULL, NULL}
};
