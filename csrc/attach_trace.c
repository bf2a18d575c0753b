/*
 * attach_trace.c - the tracing family of program attach methods:
 * tracepoints, raw tracepoints, perf events, kprobes and fentry/fexit/LSM
 * (attach_trace), and prog:attach() of fd-backed programs by their section
 * name. prog.c lists `lbpf_attach_trace_methods`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include "attach.h"
#include "handles.h"
#include "link.h"
#include "names.h"
#include "probe.h"

/* prog:attach_tracepoint(category, name) */
static int trace_attach_tracepoint(lua_State *L)
{
	struct bpf_program *prog = lbpf_attachable(L, "attach_tracepoint");
	const char *cat = luaL_checkstring(L, 2);
	const char *name = luaL_checkstring(L, 3);
	int lidx = lbpf_attach_prepare(L);
	char kind[96];

	snprintf(kind, sizeof(kind), "tracepoint %s/%s", cat, name);
	return lbpf_attach_result(L, lidx, bpf_program__attach_tracepoint(prog,
				  cat, name), kind);
}

/* A raw tracepoint link with a BPF cookie (bpf_get_attach_cookie), through
 * bpf_program__attach_raw_tracepoint_opts: libbpf 1.5, kernel 6.10. */
static struct bpf_link *raw_tp_with_cookie(struct bpf_program *prog,
					   const char *name, __u64 cookie)
{
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 5)
	LIBBPF_OPTS(bpf_raw_tracepoint_opts, opts, .cookie = cookie);

	return bpf_program__attach_raw_tracepoint_opts(prog, name, &opts);
#else
	(void)prog; /* not reached: trace_attach_raw_tracepoint raised */
	(void)name;
	(void)cookie;
	errno = EOPNOTSUPP;
	return NULL;
#endif
}

/* prog:attach_raw_tracepoint(name [, {cookie=}]) */
static int trace_attach_raw_tracepoint(lua_State *L)
{
	static const char *const keys[] = {"cookie", NULL};
	struct bpf_program *prog = lbpf_attachable(L, "attach_raw_tracepoint");
	const char *name = luaL_checkstring(L, 2);
	int with_cookie = !lua_isnoneornil(L, 3);
	__u64 cookie = 0;
	int lidx;
	char kind[96];

	if (with_cookie) { /* checked before the link handle is made */
		lbpf_check_options(L, 3, "attach_raw_tracepoint", keys);
		cookie = (__u64)lbpf_opt_integer(L, 3, "cookie", 0);
		if (!__LIBBPF_CURRENT_VERSION_GEQ(1, 5))
			lbpf_needs_libbpf(L, "attach_raw_tracepoint{cookie=}",
					  1, 5);
	}
	lidx = lbpf_attach_prepare(L);
	snprintf(kind, sizeof(kind), "raw_tracepoint %s", name);
	return lbpf_attach_result(L, lidx, with_cookie
				  ? raw_tp_with_cookie(prog, name, cookie)
				  : bpf_program__attach_raw_tracepoint(prog, name),
				  kind);
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
 * errno EOPNOTSUPP). A kernel link fd, or -1 with errno set. */
int lbpf_attach_by_section(const struct lbpf_prog *p)
{
	const char *sec = p->section ? p->section : "";
	int prog_fd = lbpf_prog_fd(p);

	if (strncmp(sec, "tracepoint/", 11) == 0 && strchr(sec + 11, '/')) {
		struct perf_event_attr attr;
		int id = tracepoint_id(sec + 11), pfd, err, lfd;

		if (id < 0)
			return -1;
		memset(&attr, 0, sizeof(attr));
		attr.size = sizeof(attr);
		attr.type = PERF_TYPE_TRACEPOINT;
		attr.config = (__u64)id;
		attr.sample_period = 1;
		attr.wakeup_events = 1;
		pfd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1,
				   PERF_FLAG_FD_CLOEXEC);
		if (pfd < 0)
			return -1;
		/* the kernel link holds the event: our fd is not needed */
		lfd = lbpf_attach_create_link(prog_fd, pfd, BPF_PERF_EVENT);
		err = errno;
		close(pfd);
		errno = err;
		return lfd;
	}
	if (strncmp(sec, "raw_tracepoint/", 15) == 0 && sec[15]) {
		return bpf_raw_tracepoint_open(sec + 15, prog_fd);
	}
	errno = EOPNOTSUPP;
	return -1;
}
/* ---- perf events ------------------------------------------------------- */

/* Fill `attr` from the option table at 2; raises on misuse. */
static void perf_attr_from_options(lua_State *L, struct perf_event_attr *attr)
{
	static const char *const types[] = {"software", "hardware", NULL};
	lua_Integer freq, period;
	int i;

	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	lua_getfield(L, 2, "type");
	i = luaL_checkoption(L, -1, "software", types);
	lua_pop(L, 1);
	attr->type = i == 0 ? PERF_TYPE_SOFTWARE : PERF_TYPE_HARDWARE;
	lua_getfield(L, 2, "config");
	if (lua_type(L, -1) == LUA_TNUMBER) {
		attr->config = (__u64)luaL_checkinteger(L, -1);
	} else {
		const char *c = luaL_optstring(L, -1, i == 0 ? "cpu-clock" :
					       "cpu-cycles");

		if (lbpf_perf_event_config(attr->type == PERF_TYPE_HARDWARE, c,
					   &attr->config) < 0)
			luaL_error(L, "attach_perf_event: unknown %s event '%s'",
				   attr->type == PERF_TYPE_SOFTWARE ? "software" :
				   "hardware", c);
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

/* Open the event on `cpu` and attach, filling the link handle `l`; the
 * link owns the perf fd (libbpf closes it when the link is destroyed).
 * 0, or -1 with errno set. */
static int perf_attach_one(struct lbpf_link *l, struct lbpf_prog *p,
			   struct perf_event_attr *attr, int pid, int cpu,
			   const char *kind)
{
	struct bpf_link *link;
	int pfd = (int)syscall(__NR_perf_event_open, attr, pid, cpu, -1,
			       PERF_FLAG_FD_CLOEXEC);
	int err, fd;

	if (pfd < 0)
		return -1;
	if (!p->prog) {
		/* the kernel link holds the event: our fd is not needed */
		fd = lbpf_attach_create_link(lbpf_prog_fd(p), pfd, BPF_PERF_EVENT);
		err = errno;
		close(pfd);
		errno = err;
		if (fd < 0)
			return -1;
		lbpf_link_set(l, NULL, fd, kind);
		return 0;
	}
	link = bpf_program__attach_perf_event(p->prog, pfd);
	err = libbpf_get_error(link);
	if (!link || err) {
		err = err ? (int)-err : errno;
		close(pfd);
		errno = err;
		return -1;
	}
	lbpf_link_set(l, link, -1, kind);
	return 0;
}

/* prog:attach_perf_event(fd): attach to a perf event the caller opened;
 * the link owns a duplicate, the caller keeps `fd`. */
static int attach_perf_fd(lua_State *L, struct lbpf_prog *p)
{
	int fd = (int)luaL_checkinteger(L, 2);
	int lidx = lbpf_attach_prepare(L);
	int dup = p->prog ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
	struct bpf_link *link = NULL;
	char kind[64];
	int err, lfd = -1;

	if (dup < 0) {
		err = errno;
		lbpf_link_discard(L, lidx);
		return lbpf_push_error(L, err, "attach_perf_event: bad fd %d", fd);
	}
	if (p->prog)
		link = bpf_program__attach_perf_event(p->prog, dup);
	else
		lfd = lbpf_attach_create_link(lbpf_prog_fd(p), fd, BPF_PERF_EVENT);
	err = link ? (int)-libbpf_get_error(link) : errno;
	if ((p->prog && (!link || err)) || (!p->prog && lfd < 0)) {
		if (p->prog)
			close(dup);
		lbpf_link_discard(L, lidx);
		return lbpf_push_error(L, err, "attach '%s' to perf event fd %d "
				       "failed", lbpf_prog_name(p), fd);
	}
	snprintf(kind, sizeof(kind), "perf_event fd %d", fd);
	lbpf_link_set(lua_touserdata(L, lidx), link, lfd, kind);
	lua_pushvalue(L, lidx);
	return 1;
}

/* prog:attach_perf_event{type=, config=, sample_freq= | sample_period=,
 * cpu=, pid=} -> link (cpu given) | {link per online CPU} */
static int trace_attach_perf_event(lua_State *L)
{
	static const char *const keys[] = {"type", "config", "sample_freq",
					   "sample_period", "cpu", "pid", NULL};
	struct lbpf_prog *prog = lbpf_attach_loaded_prog(L, "attach_perf_event");
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
		int lidx = lbpf_attach_prepare(L);

		if (perf_attach_one(lua_touserdata(L, lidx), prog, &attr, pid, cpu,
				    kind) < 0) {
			int err = errno;

			lbpf_link_discard(L, lidx);
			errno = err;
			goto fail;
		}
		return 1;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) /* "attached" to no CPU at all is no answer */
		return lbpf_push_error(L, ncpus < 0 ? -ncpus : ENODEV, "attach "
				       "'%s' to %s failed: cannot count the "
				       "possible CPUs", lbpf_prog_name(prog), kind);
	lua_createtable(L, ncpus, 0);
	for (cpu = 0; cpu < ncpus; cpu++) {
		int lidx = lbpf_attach_prepare(L);

		if (perf_attach_one(lua_touserdata(L, lidx), prog, &attr, pid, cpu,
				    kind) == 0) {
			lua_rawseti(L, -2, ++n);
			continue;
		}
		lbpf_link_discard(L, lidx);
		lua_pop(L, 1);
		if (errno == ENODEV) /* possible but offline */
			continue;
		{
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
	}
	return 1;
fail:
	if (errno == ENOENT || errno == EOPNOTSUPP)
		return lbpf_push_error(L, errno, "attach '%s' to %s failed: "
				       "this kernel or machine has no such "
				       "perf event", lbpf_prog_name(prog),
				       kind);
	return lbpf_push_error(L, errno, "attach '%s' to %s failed",
			       lbpf_prog_name(prog), kind);
}
/* ---- fentry/fexit/LSM, kprobes ----------------------------------------------- */

/* prog:attach_trace(): fentry/fexit/fmod_ret/tp_btf via
 * bpf_program__attach_trace, LSM via bpf_program__attach_lsm */
static int trace_attach_trace(lua_State *L)
{
	struct bpf_program *prog = lbpf_attachable(L, "attach_trace");
	enum bpf_prog_type type = bpf_program__type(prog);
	int lsm = type == BPF_PROG_TYPE_LSM;
	struct bpf_link *link;
	char kind[96];
	int err, lidx;

	if (!lsm && type != BPF_PROG_TYPE_TRACING && type != BPF_PROG_TYPE_EXT)
		luaL_error(L, "libbpf.program: attach_trace: '%s' is a %s "
			   "program (attach_trace is for fentry/fexit/fmod_ret/"
			   "tp_btf/lsm)", bpf_program__name(prog),
			   lbpf_prog_type_name(type));
	lidx = lbpf_attach_prepare(L);
	link = lsm ? bpf_program__attach_lsm(prog) :
		     bpf_program__attach_trace(prog);
	err = link ? (int)-libbpf_get_error(link) : errno;
	if (link && !err) {
		snprintf(kind, sizeof(kind), "%s %s", lsm ? "lsm" : "trace",
			 bpf_program__section_name(prog));
		lbpf_link_set(lua_touserdata(L, lidx), link, -1, kind);
		lua_pushvalue(L, lidx);
		return 1;
	}
	lbpf_link_discard(L, lidx);
	/* the hint probes the kernel: says "fentry ... not available" only
	 * when that is the reason */
	return lbpf_push_error(L, err, "attach '%s' (%s) failed%s",
			       bpf_program__name(prog),
			       bpf_program__section_name(prog),
			       lbpf_load_hint(prog));
}

/* prog:attach_kprobe{func=, offset=, retprobe=, cookie=} */
static int trace_attach_kprobe(lua_State *L)
{
	static const char *const keys[] = {"func", "offset", "retprobe",
					   "cookie", NULL};
	struct bpf_program *prog = lbpf_attachable(L, "attach_kprobe");
	LIBBPF_OPTS(bpf_kprobe_opts, opts);
	const char *func, *why;
	struct bpf_link *link;
	char kind[96];
	int err, lidx;

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
	lidx = lbpf_attach_prepare(L);
	link = bpf_program__attach_kprobe_opts(prog, func, &opts);
	err = link ? (int)-libbpf_get_error(link) : errno;
	if (link && !err) {
		snprintf(kind, sizeof(kind), "%s %s", opts.retprobe ? "kretprobe" :
			 "kprobe", func);
		lbpf_link_set(lua_touserdata(L, lidx), link, -1, kind);
		lua_pushvalue(L, lidx);
		return 1;
	}
	lbpf_link_discard(L, lidx);
	return lbpf_push_error(L, err, "attach '%s' to kprobe %s failed%s",
			       bpf_program__name(prog), func, err == ENOENT ?
			       " (no such kernel function, or it cannot be "
			       "probed)" : "");
}

const luaL_Reg lbpf_attach_trace_methods[] = {
	{"attach_tracepoint", trace_attach_tracepoint},
	{"attach_raw_tracepoint", trace_attach_raw_tracepoint},
	{"attach_perf_event", trace_attach_perf_event},
	{"attach_trace", trace_attach_trace},
	{"attach_kprobe", trace_attach_kprobe},
	{NULL, NULL}
};
