/*
 * probe.c - bpf.probe(name[, kind[, prog_type]]) and bpf.features(): what
 * the running kernel supports. Every answer is probed once and cached in a
 * registry table (probes load small programs: not free).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include "btftypes.h"
#include "names.h"
#include "probe.h"

static const char CACHE_KEY = 'c';

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* NULL when kprobes look available, else why not (static text) */
const char *lbpf_kprobe_unavailable(void)
{
	int pmu = exists("/sys/bus/event_source/devices/kprobe");
	int tracefs = exists("/sys/kernel/tracing/events") ||
		      exists("/sys/kernel/debug/tracing/events");

	if (pmu || exists("/sys/kernel/tracing/kprobe_events") ||
	    exists("/sys/kernel/debug/tracing/kprobe_events"))
		return NULL;
	if (tracefs)
		return "CONFIG_KPROBES is off (no kprobe PMU in "
		       "/sys/bus/event_source/devices and no kprobe_events in "
		       "tracefs)";
	return "no kprobe PMU in /sys/bus/event_source/devices (CONFIG_KPROBES "
	       "is off?) and tracefs is not mounted (make mounts)";
}

/* The reason a program of section `sec` cannot attach on this kernel, or
 * NULL: the kprobe family (kprobe/, kretprobe/, ksyscall/, kretsyscall/,
 * kprobe.multi/, ...) when kprobes are missing. obj:attach() and
 * prog:attach() say it instead of libbpf's bare ENOENT. */
const char *lbpf_section_unavailable(const char *sec)
{
	static const char *const kprobe_family[] = {"kprobe", "kretprobe",
		"ksyscall", "kretsyscall", NULL};
	size_t i, n;

	if (!sec)
		return NULL;
	for (i = 0; kprobe_family[i]; i++) {
		n = strlen(kprobe_family[i]);
		if (!strncmp(sec, kprobe_family[i], n) &&
		    (sec[n] == '/' || sec[n] == '.' || sec[n] == '\0'))
			return lbpf_kprobe_unavailable();
	}
	return NULL;
}

/* Whether this process has capability `cap` in its effective set
 * (CapEff of /proc/self/status; no libcap needed). */
static int has_capability(int cap)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;

	if (!f)
		return 1; /* cannot tell: do not blame privileges */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> cap) & 1;
}

/* " (...)" naming what is missing when the kernel said EPERM to a process
 * without CAP_SYS_ADMIN: CAP_BPF, or with it the capability of the hook
 * kind (which the failed program is, the caller does not say), else "". */
const char *lbpf_privilege_hint(int err)
{
	int perfmon, net_admin;

	if (err != EPERM || has_capability(21 /* CAP_SYS_ADMIN */))
		return "";
	if (has_capability(39 /* CAP_BPF */)) {
		perfmon = has_capability(38 /* CAP_PERFMON */);
		net_admin = has_capability(12 /* CAP_NET_ADMIN */);
		if (!perfmon && !net_admin)
			return " (this process has CAP_BPF but neither CAP_PERFMON, "
			       "which tracing programs need, nor CAP_NET_ADMIN, "
			       "which networking programs need)";
		if (!perfmon)
			return " (this process has CAP_BPF but not CAP_PERFMON, "
			       "which tracing programs need)";
		if (!net_admin)
			return " (this process has CAP_BPF but not CAP_NET_ADMIN, "
			       "which networking programs need)";
		return "";
	}
	return " (this process lacks the privileges BPF needs: run as root, "
	       "or with CAP_BPF plus CAP_PERFMON for tracing and CAP_NET_ADMIN "
	       "for networking programs, or load through a BPF token that a "
	       "privileged process delegated: bpf.open(path, {token_path=}))";
}

/* A probe answers NULL (supported) or the reason it is not, in `why`. */
typedef const char *(*probe_fn)(char *why, size_t n);

static const char *prog_type_missing(enum bpf_prog_type t, char *why,
				     size_t n)
{
	int r = libbpf_probe_bpf_prog_type(t, NULL);

	if (r == 1)
		return NULL;
	snprintf(why, n, "program type %s is not supported%s%s",
		 lbpf_prog_type_name(t), r < 0 ? ": " : "",
		 r < 0 ? strerror(-r) : "");
	return why;
}

/* Load "r0 = 0; exit" as a tracing/LSM program for BTF function `func` and
 * create its link: the only sure test of fentry/fexit/LSM/iter. */
static const char *tracing_missing(enum bpf_prog_type type,
				   enum bpf_attach_type attach,
				   const char *func, bool link,
				   char *why, size_t n)
{
	static const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach);
	const struct btf *vmlinux = lbpf_kernel_btf();
	int id, fd, lfd, err;

	if (!vmlinux) {
		snprintf(why, n, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");
		return why;
	}
	id = btf__find_by_name_kind(vmlinux, func, BTF_KIND_FUNC);
	if (id < 0) {
		snprintf(why, n, "kernel function %s is not in the kernel BTF", func);
		return why;
	}
	opts.attach_btf_id = (__u32)id;
	fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &opts);
	if (fd < 0) {
		err = errno;
		snprintf(why, n, "the kernel refuses to load a test program "
			 "(%s)", err == 524 ? "not supported" : strerror(err));
		return why;
	}
	if (!link) { /* the link needs a target the probe does not have */
		close(fd);
		return NULL;
	}
	lfd = bpf_link_create(fd, 0, attach, NULL);
	err = errno;
	close(fd);
	if (lfd < 0) {
		snprintf(why, n, "the kernel refuses to attach a test program "
			 "(%s)", err == 524 ? "not supported" : strerror(err));
		return why;
	}
	close(lfd);
	return NULL;
}

static const char *probe_kprobe(char *why, size_t n)
{
	const char *r = lbpf_kprobe_unavailable();

	if (r)
		snprintf(why, n, "%s", r);
	return r ? why : NULL;
}

static const char *probe_uprobe(char *why, size_t n)
{
	if (exists("/sys/bus/event_source/devices/uprobe") ||
	    exists("/sys/kernel/tracing/uprobe_events") ||
	    exists("/sys/kernel/debug/tracing/uprobe_events"))
		return prog_type_missing(BPF_PROG_TYPE_KPROBE, why, n);
	snprintf(why, n, "CONFIG_UPROBES is off (no uprobe PMU, no uprobe_events)");
	return why;
}

static const char *probe_tracepoint(char *why, size_t n)
{
	if (!exists("/sys/kernel/tracing/events") &&
	    !exists("/sys/kernel/debug/tracing/events")) {
		snprintf(why, n, "tracefs is not mounted (make mounts) or "
			 "CONFIG_FTRACE is off");
		return why;
	}
	return prog_type_missing(BPF_PROG_TYPE_TRACEPOINT, why, n);
}

static const char *probe_raw_tracepoint(char *why, size_t n)
{
	return prog_type_missing(BPF_PROG_TYPE_RAW_TRACEPOINT, why, n);
}

static const char *probe_perf_event(char *why, size_t n)
{
	struct perf_event_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.sample_period = 1000000;
	fd = (int)syscall(__NR_perf_event_open, &attr, 0, -1, -1,
			  PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		snprintf(why, n, "perf_event_open failed: %s", strerror(errno));
		return why;
	}
	close(fd);
	return prog_type_missing(BPF_PROG_TYPE_PERF_EVENT, why, n);
}

static const char *probe_fentry(char *why, size_t n)
{
	return tracing_missing(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY,
			       "do_nanosleep", true, why, n);
}

static const char *probe_fexit(char *why, size_t n)
{
	return tracing_missing(BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT,
			       "do_nanosleep", true, why, n);
}

static const char *probe_lsm(char *why, size_t n)
{
	FILE *f = fopen("/sys/kernel/security/lsm", "r");
	char list[512] = "";

	if (f) {
		if (!fgets(list, sizeof(list), f))
			list[0] = '\0';
		fclose(f);
		list[strcspn(list, "\n")] = '\0';
		if (!strstr(list, "bpf")) {
			snprintf(why, n, "the BPF LSM is not enabled (active "
				 "LSMs: %s; boot with lsm=...,bpf)", list);
			return why;
		}
	}
	return tracing_missing(BPF_PROG_TYPE_LSM, BPF_LSM_MAC,
			       "bpf_lsm_file_open", true, why, n);
}

/* struct_ops maps (m:attach_struct_ops): the program and the map type */
static const char *probe_struct_ops(char *why, size_t n)
{
	int r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_STRUCT_OPS, NULL);

	if (r != 1) {
		snprintf(why, n, "map type struct_ops is not supported%s%s",
			 r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		return why;
	}
	return prog_type_missing(BPF_PROG_TYPE_STRUCT_OPS, why, n);
}

/* BPF tokens (bpf.open{token_path=}): BPF_TOKEN_CREATE (36, Linux 6.9)
 * with no bpffs fd says EBADF where it exists, EINVAL where it does not.
 * The number, not the enum: the system's 1.1 headers predate it. */
static const char *probe_token(char *why, size_t n)
{
	union { struct { __u32 flags; __u32 bpffs_fd; } create; char pad[64]; } attr;
	long r;

	memset(&attr, 0, sizeof(attr));
	attr.create.bpffs_fd = (__u32)-1;
	r = syscall(__NR_bpf, 36, &attr, sizeof(attr));
	if (r >= 0) {
		close((int)r);
		return NULL;
	}
	if (errno == EBADF)
		return NULL;
	snprintf(why, n, "the kernel has no BPF tokens (BPF_TOKEN_CREATE: %s; "
		 "Linux >= 6.9)", strerror(errno));
	return why;
}

static const char *probe_iter(char *why, size_t n)
{
	return tracing_missing(BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER,
			       "bpf_iter_task", true, why, n);
}

/* Iterators over a map's elements are a separate target: some kernels
 * refuse to load them (EPERM) while task iterators work. Loading is what
 * is probed; the link needs a map. */
static const char *probe_iter_map(char *why, size_t n)
{
	return tracing_missing(BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER,
			       "bpf_iter_bpf_map_elem", false, why, n);
}

static const char *probe_xdp(char *why, size_t n)
{
	return prog_type_missing(BPF_PROG_TYPE_XDP, why, n);
}

static const char *probe_tc(char *why, size_t n)
{
	return prog_type_missing(BPF_PROG_TYPE_SCHED_CLS, why, n);
}

static const char *probe_cgroup(char *why, size_t n)
{
	return prog_type_missing(BPF_PROG_TYPE_CGROUP_SKB, why, n);
}

static const char *probe_socket(char *why, size_t n)
{
	return prog_type_missing(BPF_PROG_TYPE_SOCKET_FILTER, why, n);
}

static const char *probe_netns(char *why, size_t n)
{
	return prog_type_missing(BPF_PROG_TYPE_SK_LOOKUP, why, n);
}

/* The attach kinds built on libbpf 1.3's APIs (attach_tcx, ...): false on
 * an older libbpf, whatever the kernel has. */
static const char *libbpf_older_than(int major, int minor, char *why, size_t n)
{
	if (LIBBPF_MAJOR_VERSION > major || (LIBBPF_MAJOR_VERSION == major &&
					     LIBBPF_MINOR_VERSION >= minor))
		return NULL;
	snprintf(why, n, "needs libbpf >= %d.%d (built with %d.%d)", major,
		 minor, LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	return why;
}

/* tcx (kernel 6.6): querying lo's tcx ingress hook works even when nothing
 * is attached; older kernels say EINVAL. Attaches nothing. */
static const char *probe_tcx(char *why, size_t n)
{
	const char *r = libbpf_older_than(1, 3, why, n);

	if (!r) {
		r = prog_type_missing(BPF_PROG_TYPE_SCHED_CLS, why, n);
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 3)
		LIBBPF_OPTS(bpf_prog_query_opts, q);

		if (!r && bpf_prog_query_opts(1, BPF_TCX_INGRESS, &q)) {
			snprintf(why, n, "the kernel has no tcx hooks (6.6+): "
				 "%s", strerror(errno));
			r = why;
		}
#endif
	}
	return r;
}

static const char *probe_netfilter(char *why, size_t n)
{
	const char *r = libbpf_older_than(1, 3, why, n);

#if __LIBBPF_CURRENT_VERSION_GEQ(1, 3)
	r = r ? r : prog_type_missing(BPF_PROG_TYPE_NETFILTER, why, n);
#endif
	return r;
}

/* libbpf's own probe: an uprobe_multi link on "/" fails with EBADF only
 * where the kernel has uprobe_multi links (6.6), EINVAL before. */
static const char *probe_uprobe_multi(char *why, size_t n)
{
	const char *r = libbpf_older_than(1, 3, why, n);

	if (!r)
		r = probe_uprobe(why, n);
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 3)
	if (!r) {
		static const struct bpf_insn insns[] = {
			{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0},
			{.code = BPF_JMP | BPF_EXIT},
		};
		LIBBPF_OPTS(bpf_prog_load_opts, lo,
			    .expected_attach_type = BPF_TRACE_UPROBE_MULTI);
		LIBBPF_OPTS(bpf_link_create_opts, co);
		unsigned long offset = 0;
		int fd, lfd, err;

		fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &lo);
		if (fd < 0) {
			snprintf(why, n, "the kernel refuses uprobe_multi "
				 "programs: %s", strerror(errno));
			return why;
		}
		co.uprobe_multi.path = "/";
		co.uprobe_multi.offsets = &offset;
		co.uprobe_multi.cnt = 1;
		lfd = bpf_link_create(fd, -1, BPF_TRACE_UPROBE_MULTI, &co);
		err = errno;
		if (lfd >= 0)
			close(lfd);
		close(fd);
		if (lfd >= 0 || err != EBADF) {
			snprintf(why, n, "the kernel has no uprobe_multi links "
				 "(6.6+): %s", strerror(err));
			r = why;
		}
	}
#endif
	return r;
}

/* sockmap links (kernel 6.10): a stream verdict program linked to an
 * empty sockmap, then let go. */
static const char *probe_sockmap(char *why, size_t n)
{
	const char *r = libbpf_older_than(1, 5, why, n);
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 5)
	static const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, lo,
		    .expected_attach_type = BPF_SK_SKB_STREAM_VERDICT);
	int map, fd = -1, lfd = -1, err = 0;

	if (r)
		return r;
	map = bpf_map_create(BPF_MAP_TYPE_SOCKMAP, NULL, 4, 4, 1, NULL);
	if (map >= 0)
		fd = bpf_prog_load(BPF_PROG_TYPE_SK_SKB, NULL, "GPL", insns, 2, &lo);
	if (fd >= 0)
		lfd = bpf_link_create(fd, map, BPF_SK_SKB_STREAM_VERDICT, NULL);
	err = errno;
	if (lfd < 0) {
		snprintf(why, n, "the kernel has no sockmap links (6.10+): %s",
			 strerror(err));
		r = why;
	}
	if (lfd >= 0)
		close(lfd);
	if (fd >= 0)
		close(fd);
	if (map >= 0)
		close(map);
#endif
	return r;
}

static const struct {
	const char *name;
	probe_fn fn;
} attach_kinds[] = {
	{"kprobe", probe_kprobe},
	{"ksyscall", probe_kprobe},
	{"uprobe", probe_uprobe},
	{"usdt", probe_uprobe},
	{"tracepoint", probe_tracepoint},
	{"raw_tracepoint", probe_raw_tracepoint},
	{"perf_event", probe_perf_event},
	{"fentry", probe_fentry},
	{"fexit", probe_fexit},
	{"lsm", probe_lsm},
	{"struct_ops", probe_struct_ops},
	{"token", probe_token},
	{"iter", probe_iter},
	{"iter_map", probe_iter_map},
	{"xdp", probe_xdp},
	{"tc", probe_tc},
	{"cgroup", probe_cgroup},
	{"socket", probe_socket},
	{"netns", probe_netns},
	{"tcx", probe_tcx},
	{"netfilter", probe_netfilter},
	{"uprobe_multi", probe_uprobe_multi},
	{"sockmap", probe_sockmap},
	{NULL, NULL}
};

/* helper "bpf_ringbuf_output" or "ringbuf_output" -> BPF_FUNC_* id, from
 * the kernel's own `enum bpf_func_id` in its BTF; -1 if unknown */
static int helper_id(const char *name)
{
	const struct btf *btf = lbpf_kernel_btf();
	char want[128];
	int id, i, found = -1;
	const struct btf_type *t;
	const struct btf_enum *e;

	if (!btf)
		return -1;
	if (strncmp(name, "bpf_", 4) == 0)
		name += 4;
	snprintf(want, sizeof(want), "BPF_FUNC_%s", name);
	id = btf__find_by_name_kind(btf, "bpf_func_id", BTF_KIND_ENUM);
	if (id > 0) {
		t = btf__type_by_id(btf, (__u32)id);
		e = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++, e++)
			if (strcmp(btf__name_by_offset(btf, e->name_off), want) == 0)
				found = e->val;
	}
	return found;
}

/* Run the probe for (kind, name) and push true | false, reason. */
static int run_probe(lua_State *L, const char *kind, const char *name,
		     const char *ptype)
{
	char why[384];
	const char *r = NULL;
	int i, t, ret;

	if (strcmp(kind, "attach") == 0) {
		for (i = 0; attach_kinds[i].name; i++)
			if (strcmp(attach_kinds[i].name, name) == 0)
				break;
		if (!attach_kinds[i].name)
			return luaL_error(L, "bpf.probe: unknown attach kind '%s'",
					  name);
		r = attach_kinds[i].fn(why, sizeof(why));
	} else if (strcmp(kind, "prog") == 0) {
		t = lbpf_prog_type_from_name(name);
		if (t < 0)
			return luaL_error(L, "bpf.probe: unknown program type '%s'",
					  name);
		r = prog_type_missing((enum bpf_prog_type)t, why, sizeof(why));
	} else if (strcmp(kind, "map") == 0) {
		t = lbpf_map_type_from_name(name);
		if (t < 0)
			return luaL_error(L, "bpf.probe: unknown map type '%s'", name);
		ret = libbpf_probe_bpf_map_type((enum bpf_map_type)t, NULL);
		if (ret != 1) {
			snprintf(why, sizeof(why), "map type %s is not supported%s%s",
				 name, ret < 0 ? ": " : "",
				 ret < 0 ? strerror(-ret) : "");
			r = why;
		}
	} else if (strcmp(kind, "helper") == 0) {
		int h = helper_id(name);

		t = lbpf_prog_type_from_name(ptype);
		if (t < 0)
			return luaL_error(L, "bpf.probe: unknown program type '%s'",
					  ptype);
		if (h < 0) {
			snprintf(why, sizeof(why), "helper %s is unknown to this "
				 "kernel", name);
			r = why;
		} else if ((ret = libbpf_probe_bpf_helper((enum bpf_prog_type)t,
							 (enum bpf_func_id)h,
							 NULL)) != 1) {
			snprintf(why, sizeof(why), "helper %s is not available to "
				 "%s programs%s%s", name, ptype, ret < 0 ? ": " : "",
				 ret < 0 ? strerror(-ret) : "");
			r = why;
		}
	} else {
		return luaL_error(L, "bpf.probe: unknown kind '%s' (attach, prog, "
				  "map or helper)", kind);
	}
	lua_pushboolean(L, r == NULL);
	if (r)
		lua_pushstring(L, r);
	return r ? 2 : 1;
}

/* bpf.probe(name[, kind="attach"[, prog_type="kprobe"]]) -> true |
 * false, reason. kind: "attach" (kprobe, uprobe, fentry, tracepoint,
 * perf_event, ...), "prog", "map" or "helper" (for `prog_type` programs). */
static int probe_probe(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *kind = luaL_optstring(L, 2, "attach");
	const char *ptype = luaL_optstring(L, 3, "kprobe");
	int n;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &CACHE_KEY);
	if (strcmp(kind, "helper") == 0)
		lua_pushfstring(L, "%s:%s@%s", kind, name, ptype);
	else
		lua_pushfstring(L, "%s:%s", kind, name);
	if (lua_rawget(L, -2) == LUA_TTABLE) {
		lua_rawgeti(L, -1, 1);
		if (lua_rawgeti(L, -2, 2) == LUA_TNIL) {
			lua_pop(L, 1);
			return 1;
		}
		return 2;
	}
	lua_pop(L, 1);
	n = run_probe(L, kind, name, ptype);
	lua_createtable(L, 2, 0);
	lua_pushvalue(L, -1 - n);
	lua_rawseti(L, -2, 1);
	if (n == 2) {
		lua_pushvalue(L, -2);
		lua_rawseti(L, -2, 2);
	}
	if (strcmp(kind, "helper") == 0)
		lua_pushfstring(L, "%s:%s@%s", kind, name, ptype);
	else
		lua_pushfstring(L, "%s:%s", kind, name);
	lua_insert(L, -2);
	lua_rawset(L, -3 - n);
	return n;
}

/* Fill table at -1 with name = supported for each name in `kind`. */
static void features_of(lua_State *L, const char *kind,
			const char *(*name_of)(int), int count)
{
	int i;

	for (i = 0; i < count; i++) {
		const char *name = name_of(i);

		if (!name)
			continue;
		lua_pushcfunction(L, probe_probe);
		lua_pushstring(L, name);
		lua_pushstring(L, kind);
		lua_call(L, 2, 1);
		lua_setfield(L, -2, name);
	}
}

static const char *prog_name_at(int i)
{
	return i == 0 ? NULL : libbpf_bpf_prog_type_str((enum bpf_prog_type)i);
}

static const char *map_name_at(int i)
{
	return i == 0 ? NULL : libbpf_bpf_map_type_str((enum bpf_map_type)i);
}

static const char *attach_name_at(int i)
{
	return attach_kinds[i].name;
}

/* bpf.features() -> {attach={kprobe=false, ...}, progs={xdp=true, ...},
 * maps={ringbuf=true, ...}}; helpers: bpf.probe(name, "helper", type) */
static int probe_features(lua_State *L)
{
	int nattach = (int)(sizeof(attach_kinds) / sizeof(attach_kinds[0])) - 1;

	lua_createtable(L, 0, 3);
	lua_newtable(L);
	features_of(L, "attach", attach_name_at, nattach);
	lua_setfield(L, -2, "attach");
	lua_newtable(L);
	features_of(L, "prog", prog_name_at, 64);
	lua_setfield(L, -2, "progs");
	lua_newtable(L);
	features_of(L, "map", map_name_at, 64);
	lua_setfield(L, -2, "maps");
	return 1;
}

void lbpf_open_probe(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"probe", probe_probe},
		{"features", probe_features},
		{NULL, NULL}
	};

	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &CACHE_KEY);
	luaL_setfuncs(L, funcs, 0);
}

/* Words for a failed load of a program whose hook this kernel lacks (""
 * otherwise): a refused fentry load says only EPERM or ENOTSUPP. */
const char *lbpf_load_hint(const struct bpf_program *prog)
{
	static char hint[512];
	char why[384];
	const char *what, *r;

	if (!prog)
		return "";
	switch (bpf_program__expected_attach_type(prog)) {
	case BPF_TRACE_FENTRY:
	case BPF_MODIFY_RETURN:
		what = "fentry/fexit/LSM programs (fentry)";
		r = probe_fentry(why, sizeof(why));
		break;
	case BPF_TRACE_FEXIT:
		what = "fentry/fexit/LSM programs (fexit)";
		r = probe_fexit(why, sizeof(why));
		break;
	case BPF_LSM_MAC:
		what = "fentry/fexit/LSM programs (LSM)";
		r = probe_lsm(why, sizeof(why));
		break;
	default:
		return "";
	}
	if (!r)
		return "";
	snprintf(hint, sizeof(hint), " (%s are not available on this kernel: "
		 "%s)", what, r);
	return hint;
}
