/*
 * attach.c - the attach methods of `libbpf.program` beyond prog.c's basic
 * ones: perf events, XDP, tc, USDT, cgroups, sockets, network namespaces,
 * iterators (with link:read()), fentry/fexit/LSM and kprobes.
 *
 * tc, XDP-with-a-mode and SO_ATTACH_BPF attachments are not kernel bpf_links
 * in libbpf 1.1: they are `libbpf.link` handles whose `link` is NULL and whose
 * `detach` hook undoes the attachment (see struct lbpf_link in util.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/perf_event.h>

#include "util.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "not supported" */
#endif
#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef SO_DETACH_BPF
#define SO_DETACH_BPF 27
#endif

static const char *prog_label(const struct lbpf_prog *p)
{
	return p->prog ? bpf_program__name(p->prog) : p->name;
}

/* The loaded program at index 1: a libbpf program or a fd-backed one (an
 * object in iproute2's convention); the attach kinds that only need the
 * program's fd take either. */
static struct lbpf_prog *loaded_prog(lua_State *L, const char *what)
{
	struct lbpf_prog *p = lbpf_check_prog(L, 1);

	if (lbpf_prog_fd(p) < 0)
		luaL_error(L, "libbpf.program: %s: program '%s' is not loaded "
			   "(call obj:load())", what, prog_label(p));
	return p;
}

/* The program at index 1, loaded and with a libbpf handle. */
static struct bpf_program *attachable(lua_State *L, const char *what)
{
	struct lbpf_prog *p = loaded_prog(L, what);

	if (!p->prog)
		luaL_error(L, "libbpf.program: %s: program '%s' has no libbpf "
			   "handle (it comes from a %s object)", what,
			   prog_label(p), p->owner ? p->owner->format : "kernel");
	return p->prog;
}

/* A kernel bpf_link from `prog_fd` to `target_fd`, for fd-backed programs
 * (no libbpf handle to ask); NULL with errno set. */
static struct bpf_link *create_link(int prog_fd, int target_fd,
				    enum bpf_attach_type type)
{
	int fd = bpf_link_create(prog_fd, target_fd, type, NULL);

	return fd < 0 ? NULL : lbpf_link_from_fd(fd);
}

/* Push a link for `link` or `nil, msg, errno`; `kind` names the hook. */
static int push_link_result(lua_State *L, struct bpf_link *link,
			    const char *kind)
{
	struct lbpf_prog *p = lua_touserdata(L, 1);
	int err = link ? (int)-libbpf_get_error(link) : errno;

	if (!link || err)
		return lbpf_push_error(L, err ? err : EINVAL,
				       "attach '%s' to %s failed",
				       prog_label(p), kind);
	lbpf_push_link(L, 1, link, kind);
	return 1;
}

/* ifname or ifindex at `idx` (value on the stack) -> ifindex; raises */
static int check_ifindex(lua_State *L, int idx, const char *what)
{
	unsigned int ifindex;
	const char *name;

	if (lua_type(L, idx) == LUA_TNUMBER) {
		lua_Integer i = luaL_checkinteger(L, idx);

		luaL_argcheck(L, i > 0, idx, "ifindex must be positive");
		return (int)i;
	}
	name = lua_tostring(L, idx);
	if (!name)
		luaL_error(L, "%s: interface name or index expected, got %s",
			   what, luaL_typename(L, idx));
	ifindex = if_nametoindex(name);
	if (!ifindex)
		luaL_error(L, "%s: no network interface '%s'", what, name);
	return (int)ifindex;
}

/* ---- attach by section name (fd-backed programs) ----------------------- */

/* The tracefs id of tracepoint `cat/name`, or -1 with errno set. */
static int tracepoint_id(const char *tp)
{
	static const char *const roots[] = {"/sys/kernel/tracing/events",
		"/sys/kernel/debug/tracing/events", NULL};
	char path[512], buf[32];
	int i, fd = -1;
	ssize_t n;

	for (i = 0; roots[i] && fd < 0; i++) {
		snprintf(path, sizeof(path), "%s/%s/id", roots[i], tp);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		errno = n < 0 ? errno : EINVAL;
		return -1;
	}
	buf[n] = '\0';
	return atoi(buf);
}

/* What bpf_program__attach() does for libbpf programs, for a loaded
 * fd-backed one: its iproute2-style section "tracepoint/<cat>/<name>" or
 * "raw_tracepoint/<name>" says where; other sections do not (NULL,
 * errno EOPNOTSUPP). NULL with errno set on failure. */
struct bpf_link *lbpf_attach_by_section(const struct lbpf_prog *p)
{
	const char *sec = p->section ? p->section : "";
	int prog_fd = lbpf_prog_fd(p);

	if (strncmp(sec, "tracepoint/", 11) == 0 && strchr(sec + 11, '/')) {
		struct perf_event_attr attr;
		struct bpf_link *link;
		int id = tracepoint_id(sec + 11), pfd, err;

		if (id < 0)
			return NULL;
		memset(&attr, 0, sizeof(attr));
		attr.size = sizeof(attr);
		attr.type = PERF_TYPE_TRACEPOINT;
		attr.config = (__u64)id;
		attr.sample_period = 1;
		attr.wakeup_events = 1;
		pfd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1,
				   PERF_FLAG_FD_CLOEXEC);
		if (pfd < 0)
			return NULL;
		/* the kernel link holds the event: our fd is not needed */
		link = create_link(prog_fd, pfd, BPF_PERF_EVENT);
		err = errno;
		close(pfd);
		errno = err;
		return link;
	}
	if (strncmp(sec, "raw_tracepoint/", 15) == 0 && sec[15]) {
		int fd = bpf_raw_tracepoint_open(sec + 15, prog_fd);

		return fd < 0 ? NULL : lbpf_link_from_fd(fd);
	}
	errno = EOPNOTSUPP;
	return NULL;
}

/* ---- perf events ------------------------------------------------------- */

struct perf_name {
	const char *name;
	__u64 config;
};

static const struct perf_name sw_events[] = {
	{"cpu-clock", PERF_COUNT_SW_CPU_CLOCK},
	{"task-clock", PERF_COUNT_SW_TASK_CLOCK},
	{"page-faults", PERF_COUNT_SW_PAGE_FAULTS},
	{"context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES},
	{"cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS},
	{"minor-faults", PERF_COUNT_SW_PAGE_FAULTS_MIN},
	{"major-faults", PERF_COUNT_SW_PAGE_FAULTS_MAJ},
	{"alignment-faults", PERF_COUNT_SW_ALIGNMENT_FAULTS},
	{"emulation-faults", PERF_COUNT_SW_EMULATION_FAULTS},
	{"dummy", PERF_COUNT_SW_DUMMY},
	{NULL, 0}
};

static const struct perf_name hw_events[] = {
	{"cpu-cycles", PERF_COUNT_HW_CPU_CYCLES},
	{"instructions", PERF_COUNT_HW_INSTRUCTIONS},
	{"cache-references", PERF_COUNT_HW_CACHE_REFERENCES},
	{"cache-misses", PERF_COUNT_HW_CACHE_MISSES},
	{"branch-instructions", PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
	{"branch-misses", PERF_COUNT_HW_BRANCH_MISSES},
	{"bus-cycles", PERF_COUNT_HW_BUS_CYCLES},
	{"stalled-cycles-frontend", PERF_COUNT_HW_STALLED_CYCLES_FRONTEND},
	{"stalled-cycles-backend", PERF_COUNT_HW_STALLED_CYCLES_BACKEND},
	{"ref-cpu-cycles", PERF_COUNT_HW_REF_CPU_CYCLES},
	{NULL, 0}
};

/* Fill `attr` from the option table at 2; raises on misuse. */
static void perf_attr_from_options(lua_State *L, struct perf_event_attr *attr)
{
	static const char *const types[] = {"software", "hardware", NULL};
	const struct perf_name *names;
	lua_Integer freq, period;
	int i;

	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	lua_getfield(L, 2, "type");
	i = luaL_checkoption(L, -1, "software", types);
	lua_pop(L, 1);
	attr->type = i == 0 ? PERF_TYPE_SOFTWARE : PERF_TYPE_HARDWARE;
	names = i == 0 ? sw_events : hw_events;
	lua_getfield(L, 2, "config");
	if (lua_type(L, -1) == LUA_TNUMBER) {
		attr->config = (__u64)luaL_checkinteger(L, -1);
	} else {
		const char *c = luaL_optstring(L, -1, i == 0 ? "cpu-clock" :
					       "cpu-cycles");

		for (i = 0; names[i].name && strcmp(names[i].name, c); i++)
			;
		if (!names[i].name)
			luaL_error(L, "attach_perf_event: unknown %s event '%s'",
				   attr->type == PERF_TYPE_SOFTWARE ? "software" :
				   "hardware", c);
		attr->config = names[i].config;
	}
	lua_pop(L, 1);
	freq = lbpf_opt_integer(L, 2, "sample_freq", 0);
	period = lbpf_opt_integer(L, 2, "sample_period", 0);
	if ((freq > 0) == (period > 0))
		luaL_error(L, "attach_perf_event: give one of sample_freq or "
			   "sample_period (a positive integer)");
	if (freq > 0) {
		attr->freq = 1;
		attr->sample_freq = (__u64)freq;
	} else {
		attr->sample_period = (__u64)period;
	}
}

/* Open the event on `cpu` and attach; the link owns the perf fd (libbpf
 * closes it when the link is destroyed). Returns NULL with errno set. */
static struct bpf_link *perf_attach_one(struct lbpf_prog *p,
					struct perf_event_attr *attr,
					int pid, int cpu)
{
	struct bpf_link *link;
	int pfd = (int)syscall(__NR_perf_event_open, attr, pid, cpu, -1,
			       PERF_FLAG_FD_CLOEXEC);
	int err;

	if (pfd < 0)
		return NULL;
	if (!p->prog) {
		/* the kernel link holds the event: our fd is not needed */
		link = create_link(lbpf_prog_fd(p), pfd, BPF_PERF_EVENT);
		err = errno;
		close(pfd);
		errno = err;
		return link;
	}
	link = bpf_program__attach_perf_event(p->prog, pfd);
	err = libbpf_get_error(link);
	if (!link || err) {
		close(pfd);
		errno = err ? (int)-err : errno;
		return NULL;
	}
	return link;
}

/* prog:attach_perf_event(fd): attach to a perf event the caller opened;
 * the link owns a duplicate, the caller keeps `fd`. */
static int attach_perf_fd(lua_State *L, struct lbpf_prog *p)
{
	int fd = (int)luaL_checkinteger(L, 2);
	int dup = p->prog ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
	struct bpf_link *link;
	int err;

	if (dup < 0)
		return lbpf_push_error(L, errno, "attach_perf_event: bad fd %d", fd);
	link = p->prog ? bpf_program__attach_perf_event(p->prog, dup) :
	       create_link(lbpf_prog_fd(p), fd, BPF_PERF_EVENT);
	err = link ? (int)-libbpf_get_error(link) : errno;
	if (!link || err) {
		if (p->prog)
			close(dup);
		return lbpf_push_error(L, err, "attach '%s' to perf event fd %d "
				       "failed", prog_label(p), fd);
	}
	lua_pushfstring(L, "perf_event fd %d", fd);
	lbpf_push_link(L, 1, link, lua_tostring(L, -1));
	return 1;
}

/* prog:attach_perf_event{type=, config=, sample_freq= | sample_period=,
 * cpu=, pid=} -> link (cpu given) | {link per online CPU} */
static int l_attach_perf_event(lua_State *L)
{
	static const char *const keys[] = {"type", "config", "sample_freq",
					   "sample_period", "cpu", "pid", NULL};
	struct lbpf_prog *prog = loaded_prog(L, "attach_perf_event");
	struct perf_event_attr attr;
	int pid, cpu, ncpus, n = 0;
	char kind[64];

	if (lua_type(L, 2) == LUA_TNUMBER)
		return attach_perf_fd(L, prog);
	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_perf_event", keys);
	perf_attr_from_options(L, &attr);
	pid = (int)lbpf_opt_integer(L, 2, "pid", -1);
	cpu = (int)lbpf_opt_integer(L, 2, "cpu", -1);
	lua_getfield(L, 2, "config");
	snprintf(kind, sizeof(kind), "perf_event %s",
		 lua_isstring(L, -1) ? lua_tostring(L, -1) :
		 attr.type == PERF_TYPE_SOFTWARE ? "cpu-clock" : "cpu-cycles");
	lua_pop(L, 1);
	if (cpu >= 0) {
		struct bpf_link *link = perf_attach_one(prog, &attr, pid, cpu);

		if (!link)
			goto fail;
		lbpf_push_link(L, 1, link, kind);
		return 1;
	}
	ncpus = libbpf_num_possible_cpus();
	lua_createtable(L, ncpus > 0 ? ncpus : 0, 0);
	for (cpu = 0; cpu < ncpus; cpu++) {
		struct bpf_link *link = perf_attach_one(prog, &attr, pid, cpu);

		if (!link && errno == ENODEV) /* possible but offline */
			continue;
		if (!link) {
			int err = errno;

			/* undo the CPUs done so far */
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				lua_getfield(L, -1, "destroy");
				lua_insert(L, -2);
				lua_call(L, 1, 0);
			}
			errno = err;
			goto fail;
		}
		lbpf_push_link(L, 1, link, kind);
		lua_rawseti(L, -2, ++n);
	}
	return 1;
fail:
	if (errno == ENOENT || errno == EOPNOTSUPP)
		return lbpf_push_error(L, errno, "attach '%s' to %s failed: "
				       "this kernel or machine has no such "
				       "perf event", prog_label(prog),
				       kind);
	return lbpf_push_error(L, errno, "attach '%s' to %s failed",
			       prog_label(prog), kind);
}

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
static int l_attach_xdp(lua_State *L)
{
	static const char *const keys[] = {"mode", NULL};
	static const char *const modes[] = {"skb", "drv", "hw", NULL};
	static const __u32 mode_flags[] = {XDP_FLAGS_SKB_MODE,
		XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE};
	struct lbpf_prog *p = loaded_prog(L, "attach_xdp");
	int ifindex = check_ifindex(L, 2, "attach_xdp");
	struct netlink_attach *na;
	char ifname[IF_NAMESIZE] = "?", kind[64];
	int mode, err;

	lbpf_check_options(L, 3, "attach_xdp", keys);
	if_indextoname((unsigned)ifindex, ifname);
	if (!lbpf_opt_string(L, 3, "mode", NULL)) {
		snprintf(kind, sizeof(kind), "xdp %s", ifname);
		return push_link_result(L, p->prog ?
					bpf_program__attach_xdp(p->prog, ifindex) :
					create_link(lbpf_prog_fd(p), ifindex,
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
					       prog_label(p), kind);
		return lbpf_push_error(L, -err, "attach '%s' to %s failed",
				       prog_label(p), kind);
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
static int l_attach_tc(lua_State *L)
{
	static const char *const keys[] = {"ifname", "ifindex", "hook",
					   "priority", "handle", NULL};
	static const char *const hooks[] = {"ingress", "egress", NULL};
	struct lbpf_prog *p = loaded_prog(L, "attach_tc");
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
	hook.ifindex = check_ifindex(L, -1, "attach_tc");
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
				       prog_label(p), kind);
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
				       prog_label(p), kind);
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
static int l_attach_socket(lua_State *L)
{
	struct lbpf_prog *p = loaded_prog(L, "attach_socket");
	int fd = (int)luaL_checkinteger(L, 2);
	int prog_fd = lbpf_prog_fd(p);
	struct netlink_attach *na;
	char kind[64];

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)))
		return lbpf_push_error(L, errno, "attach '%s' to socket fd %d "
				       "failed", prog_label(p), fd);
	na = calloc(1, sizeof(*na));
	if (na)
		na->sock_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (!na || na->sock_fd < 0) {
		int err = na ? errno : ENOMEM, dummy = 0;

		setsockopt(fd, SOL_SOCKET, SO_DETACH_BPF, &dummy, sizeof(dummy));
		free(na);
		return lbpf_push_error(L, err, "attach '%s' to socket fd %d "
				       "failed", prog_label(p), fd);
	}
	snprintf(kind, sizeof(kind), "socket fd %d", fd);
	push_netlink_link(L, na, socket_detach, kind);
	return 1;
}

/* ---- USDT, cgroup, netns --------------------------------------------------- */

/* prog:attach_usdt{path=, provider=, name=, pid=, cookie=} */
static int l_attach_usdt(lua_State *L)
{
	static const char *const keys[] = {"path", "provider", "name", "pid",
					   "cookie", NULL};
	struct bpf_program *prog = attachable(L, "attach_usdt");
	LIBBPF_OPTS(bpf_usdt_opts, opts);
	const char *path, *provider, *name;
	pid_t pid;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_usdt", keys);
	path = lbpf_opt_string(L, 2, "path", NULL);
	provider = lbpf_opt_string(L, 2, "provider", NULL);
	name = lbpf_opt_string(L, 2, "name", NULL);
	if (!path || !provider || !name)
		luaL_argerror(L, 2, "attach_usdt needs 'path', 'provider' and "
			      "'name'");
	pid = (pid_t)lbpf_opt_integer(L, 2, "pid", -1);
	opts.usdt_cookie = (__u64)lbpf_opt_integer(L, 2, "cookie", 0);
	lua_pushfstring(L, "usdt %s:%s:%s", path, provider, name);
	return push_link_result(L, bpf_program__attach_usdt(prog, pid, path,
				provider, name, &opts), lua_tostring(L, -1));
}

/* Attach with an fd opened from a path (closed after: the kernel link holds
 * its own reference) or given by the caller. */
static int attach_by_fd(lua_State *L, const char *what, const char *kindfmt,
			struct bpf_link *(*fn)(const struct bpf_program *, int),
			enum bpf_attach_type type)
{
	struct lbpf_prog *p = loaded_prog(L, what);
	struct bpf_link *link;
	int fd, err;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		fd = (int)luaL_checkinteger(L, 2);
		lua_pushfstring(L, kindfmt, lua_pushfstring(L, "fd %d", fd));
		return push_link_result(L, p->prog ? fn(p->prog, fd) :
					create_link(lbpf_prog_fd(p), fd, type),
					lua_tostring(L, -1));
	}
	lua_pushfstring(L, kindfmt, luaL_checkstring(L, 2));
	fd = open(lua_tostring(L, 2), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lbpf_push_error(L, errno, "attach '%s' to %s failed",
				       prog_label(p), lua_tostring(L, -1));
	link = p->prog ? fn(p->prog, fd) : create_link(lbpf_prog_fd(p), fd, type);
	err = errno;
	close(fd);
	errno = err;
	return push_link_result(L, link, lua_tostring(L, -1));
}

/* The cgroup hook of a fd-backed program: libbpf programs know theirs from
 * the section name; an iproute2-style "cgroup/skb" does not say ingress or
 * egress, so {attach_type = "ingress" | "egress"} (arg 3) says it. */
static enum bpf_attach_type cgroup_attach_type(lua_State *L)
{
	static const char *const keys[] = {"attach_type", NULL};
	static const char *const names[] = {"ingress", "egress", "sock_create",
					    "sock_ops", NULL};
	static const enum bpf_attach_type types[] = {BPF_CGROUP_INET_INGRESS,
		BPF_CGROUP_INET_EGRESS, BPF_CGROUP_INET_SOCK_CREATE,
		BPF_CGROUP_SOCK_OPS};
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
	return types[luaL_checkoption(L, -1, NULL, names)];
}

/* prog:attach_cgroup(path | fd[, {attach_type=}]) */
static int l_attach_cgroup(lua_State *L)
{
	enum bpf_attach_type type = cgroup_attach_type(L);

	lua_settop(L, 2);
	return attach_by_fd(L, "attach_cgroup", "cgroup %s",
			    bpf_program__attach_cgroup, type);
}

/* prog:attach_netns([path | fd]): default the caller's network namespace */
static int l_attach_netns(lua_State *L)
{
	if (lua_isnoneornil(L, 2)) {
		lua_settop(L, 1);
		lua_pushliteral(L, "/proc/self/ns/net");
	}
	return attach_by_fd(L, "attach_netns", "netns %s",
			    bpf_program__attach_netns, BPF_FLOW_DISSECTOR);
}

/* ---- iterators ----------------------------------------------------------------- */

/* prog:attach_iter([{map=, pid=, tid=}]) */
static int l_attach_iter(lua_State *L)
{
	static const char *const keys[] = {"map", "pid", "tid", NULL};
	struct bpf_program *prog = attachable(L, "attach_iter");
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info;
	lua_Integer pid, tid;

	lbpf_check_options(L, 2, "attach_iter", keys);
	memset(&info, 0, sizeof(info));
	if (lua_istable(L, 2) && lua_getfield(L, 2, "map") != LUA_TNIL) {
		if (lua_type(L, -1) == LUA_TNUMBER)
			info.map.map_fd = (__u32)lua_tointeger(L, -1);
		else
			info.map.map_fd = (__u32)lbpf_map_fd(lbpf_check_map(L, -1));
		lua_pop(L, 1);
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	pid = lbpf_opt_integer(L, 2, "pid", 0);
	tid = lbpf_opt_integer(L, 2, "tid", 0);
	if (pid || tid) {
		/* `map` and `task` share the union */
		if (opts.link_info)
			luaL_argerror(L, 2, "attach_iter: give 'map' or "
				      "'pid'/'tid', not both");
		info.task.pid = (__u32)pid;
		info.task.tid = (__u32)tid;
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	lua_pushfstring(L, "iter %s", bpf_program__section_name(prog));
	return push_link_result(L, bpf_program__attach_iter(prog, &opts),
				lua_tostring(L, -1));
}

/* link:read() -> the whole output of one pass of an iterator link */
static int l_link_read(lua_State *L)
{
	struct lbpf_link *l = lbpf_check_link(L, 1);
	luaL_Buffer b;
	int fd;

	if (!l->link)
		return luaL_error(L, "libbpf.link: read: %s is not an iterator",
				  l->kind);
	fd = bpf_iter_create(bpf_link__fd(l->link));
	if (fd < 0)
		return lbpf_push_error(L, errno, "read of %s failed (is it an "
				       "iterator link?)", l->kind);
	luaL_buffinit(L, &b);
	for (;;) {
		char *p = luaL_prepbuffer(&b);
		ssize_t n = read(fd, p, LUAL_BUFFERSIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			close(fd);
			return lbpf_push_error(L, err, "read of %s failed", l->kind);
		}
		if (n == 0)
			break;
		luaL_addsize(&b, (size_t)n);
	}
	close(fd);
	luaL_pushresult(&b);
	return 1;
}

/* ---- fentry/fexit/LSM, kprobes ----------------------------------------------- */

/* prog:attach_trace(): fentry/fexit/fmod_ret/tp_btf via
 * bpf_program__attach_trace, LSM via bpf_program__attach_lsm */
static int l_attach_trace(lua_State *L)
{
	struct bpf_program *prog = attachable(L, "attach_trace");
	enum bpf_prog_type type = bpf_program__type(prog);
	int lsm = type == BPF_PROG_TYPE_LSM;
	struct bpf_link *link;
	int err;

	if (!lsm && type != BPF_PROG_TYPE_TRACING && type != BPF_PROG_TYPE_EXT)
		luaL_error(L, "libbpf.program: attach_trace: '%s' is a %s "
			   "program (attach_trace is for fentry/fexit/fmod_ret/"
			   "tp_btf/lsm)", bpf_program__name(prog),
			   lbpf_prog_type_name(type));
	link = lsm ? bpf_program__attach_lsm(prog) :
		     bpf_program__attach_trace(prog);
	err = link ? (int)-libbpf_get_error(link) : errno;
	if (link && !err) {
		lua_pushfstring(L, "%s %s", lsm ? "lsm" : "trace",
				bpf_program__section_name(prog));
		lbpf_push_link(L, 1, link, lua_tostring(L, -1));
		return 1;
	}
	/* the hint probes the kernel: says "fentry ... not available" only
	 * when that is the reason */
	return lbpf_push_error(L, err, "attach '%s' (%s) failed%s",
			       bpf_program__name(prog),
			       bpf_program__section_name(prog),
			       lbpf_load_hint(prog));
}

static int path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* NULL when kprobes look available, else why not (static text) */
const char *lbpf_kprobe_unavailable(void)
{
	int pmu = path_exists("/sys/bus/event_source/devices/kprobe");
	int tracefs = path_exists("/sys/kernel/tracing/events") ||
		      path_exists("/sys/kernel/debug/tracing/events");

	if (pmu || path_exists("/sys/kernel/tracing/kprobe_events") ||
	    path_exists("/sys/kernel/debug/tracing/kprobe_events"))
		return NULL;
	if (tracefs)
		return "CONFIG_KPROBES is off (no kprobe PMU in "
		       "/sys/bus/event_source/devices and no kprobe_events in "
		       "tracefs)";
	return "no kprobe PMU in /sys/bus/event_source/devices (CONFIG_KPROBES "
	       "is off?) and tracefs is not mounted (make mounts)";
}

/* prog:attach_kprobe{func=, offset=, retprobe=, cookie=} */
static int l_attach_kprobe(lua_State *L)
{
	static const char *const keys[] = {"func", "offset", "retprobe",
					   "cookie", NULL};
	struct bpf_program *prog = attachable(L, "attach_kprobe");
	LIBBPF_OPTS(bpf_kprobe_opts, opts);
	const char *func, *why;
	struct bpf_link *link;
	int err;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_kprobe", keys);
	func = lbpf_opt_string(L, 2, "func", NULL);
	if (!func)
		luaL_argerror(L, 2, "attach_kprobe needs 'func'");
	opts.offset = (size_t)lbpf_opt_integer(L, 2, "offset", 0);
	opts.retprobe = lbpf_opt_boolean(L, 2, "retprobe", 0);
	opts.bpf_cookie = (__u64)lbpf_opt_integer(L, 2, "cookie", 0);
	why = lbpf_kprobe_unavailable();
	if (why)
		return lbpf_push_error(L, EOPNOTSUPP, "attach '%s' to %s %s "
				       "failed: kprobes are not available: %s",
				       bpf_program__name(prog), opts.retprobe ?
				       "kretprobe" : "kprobe", func, why);
	link = bpf_program__attach_kprobe_opts(prog, func, &opts);
	err = link ? (int)-libbpf_get_error(link) : errno;
	if (link && !err) {
		lua_pushfstring(L, "%s %s", opts.retprobe ? "kretprobe" :
				"kprobe", func);
		lbpf_push_link(L, 1, link, lua_tostring(L, -1));
		return 1;
	}
	return lbpf_push_error(L, err, "attach '%s' to kprobe %s failed%s",
			       bpf_program__name(prog), func, err == ENOENT ?
			       " (no such kernel function, or it cannot be "
			       "probed)" : "");
}

void lbpf_open_attach(lua_State *L)
{
	static const luaL_Reg prog_methods[] = {
		{"attach_perf_event", l_attach_perf_event},
		{"attach_xdp", l_attach_xdp},
		{"attach_tc", l_attach_tc},
		{"attach_socket", l_attach_socket},
		{"attach_usdt", l_attach_usdt},
		{"attach_cgroup", l_attach_cgroup},
		{"attach_netns", l_attach_netns},
		{"attach_iter", l_attach_iter},
		{"attach_trace", l_attach_trace},
		{"attach_kprobe", l_attach_kprobe},
		{NULL, NULL}
	};
	static const luaL_Reg link_methods[] = {
		{"read", l_link_read},
		{NULL, NULL}
	};

	lbpf_add_methods(L, LBPF_PROG, prog_methods);
	lbpf_add_methods(L, LBPF_LINK, link_methods);
}
