/*
 * names.c - the one table file for names <-> numbers (luv's constants.c):
 * map/program/attach types come from libbpf's strings, flag names from the
 * tables below. Calls nothing else in the module.
 */
#include <string.h>

#include <linux/perf_event.h>

#include "names.h"

/* libbpf names its enums ("hash", "percpu_array", "sched_cls"); a name is
 * looked up by walking the enum until libbpf has no string for it. */
#define TYPE_SCAN_MAX 256

typedef const char *(*type_str_fn)(int type);

static const char *map_type_str(int t)
{
	return libbpf_bpf_map_type_str((enum bpf_map_type)t);
}

static const char *prog_type_str(int t)
{
	return libbpf_bpf_prog_type_str((enum bpf_prog_type)t);
}

static const char *attach_type_str(int t)
{
	return libbpf_bpf_attach_type_str((enum bpf_attach_type)t);
}

static const char *type_name(type_str_fn str, __u32 type)
{
	const char *s = str((int)type);

	return s ? s : "unknown";
}

static int type_from_name(type_str_fn str, const char *name)
{
	int t;

	for (t = 0; t < TYPE_SCAN_MAX; t++) {
		const char *s = str(t);

		if (s && strcmp(s, name) == 0)
			return t;
	}
	return -1;
}

const char *lbpf_map_type_name(__u32 type)
{
	return type_name(map_type_str, type);
}

const char *lbpf_prog_type_name(__u32 type)
{
	return type_name(prog_type_str, type);
}

const char *lbpf_attach_type_name(__u32 type)
{
	return type_name(attach_type_str, type);
}

int lbpf_map_type_from_name(const char *name)
{
	return type_from_name(map_type_str, name);
}

int lbpf_prog_type_from_name(const char *name)
{
	return type_from_name(prog_type_str, name);
}

int lbpf_attach_type_from_name(const char *name)
{
	return type_from_name(attach_type_str, name);
}

/* ---- flags ---------------------------------------------------------------- */

struct flag_name {
	const char *name;
	__u64 value;
};

static const struct flag_name map_flags[] = {
	{"no_prealloc", BPF_F_NO_PREALLOC},
	{"no_common_lru", BPF_F_NO_COMMON_LRU},
	{"numa_node", BPF_F_NUMA_NODE},
	{"rdonly", BPF_F_RDONLY},
	{"wronly", BPF_F_WRONLY},
	{"stack_build_id", BPF_F_STACK_BUILD_ID},
	{"zero_seed", BPF_F_ZERO_SEED},
	{"rdonly_prog", BPF_F_RDONLY_PROG},
	{"wronly_prog", BPF_F_WRONLY_PROG},
	{"clone", BPF_F_CLONE},
	{"mmapable", BPF_F_MMAPABLE},
	{"preserve_elems", BPF_F_PRESERVE_ELEMS},
	{"inner_map", BPF_F_INNER_MAP},
	{NULL, 0}
};

static const struct flag_name update_flags[] = {
	{"any", BPF_ANY},
	{"noexist", BPF_NOEXIST},
	{"exist", BPF_EXIST},
	{"lock", BPF_F_LOCK},
	{NULL, 0}
};

static const struct flag_name test_run_flags[] = {
	{"run_on_cpu", BPF_F_TEST_RUN_ON_CPU},
	{"xdp_live_frames", BPF_F_TEST_XDP_LIVE_FRAMES},
	{NULL, 0}
};

static const struct flag_name *const flag_sets[] = {
	[LBPF_MAP_FLAGS] = map_flags,
	[LBPF_UPDATE_FLAGS] = update_flags,
	[LBPF_TEST_RUN_FLAGS] = test_run_flags,
};

/* the value of flag name at `idx` (a string), or raise; a name given as an
 * argument of its own (`arg`) raises as luaL_checkoption does */
static __u64 flag_value(lua_State *L, int idx, const struct flag_name *names,
			const char *who, int arg)
{
	const char *s = lua_tostring(L, idx);
	int i;

	if (lua_type(L, idx) != LUA_TSTRING)
		luaL_error(L, "%s: flag names are strings, got %s", who,
			   luaL_typename(L, idx));
	for (i = 0; names[i].name; i++)
		if (strcmp(names[i].name, s) == 0)
			return names[i].value;
	if (arg)
		return (__u64)luaL_argerror(L, idx, lua_pushfstring(L,
					    "invalid option '%s'", s));
	return (__u64)luaL_error(L, "%s: unknown flag '%s'", who, s);
}

static __u64 check_flags(lua_State *L, int idx, enum lbpf_flag_set set,
			 const char *who, int arg)
{
	const struct flag_name *names = flag_sets[set];
	__u64 flags = 0;
	lua_Integer i, n;

	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TNUMBER:
		return (__u64)luaL_checkinteger(L, idx);
	case LUA_TSTRING:
		return flag_value(L, idx, names, who, arg);
	case LUA_TTABLE:
		n = (lua_Integer)lua_rawlen(L, idx);
		for (i = 1; i <= n; i++) {
			lua_rawgeti(L, idx, i);
			flags |= flag_value(L, -1, names, who, 0);
			lua_pop(L, 1);
		}
		return flags;
	default:
		return (__u64)luaL_error(L, "%s: flags must be an integer, a "
					 "name or a list of names, got %s", who,
					 luaL_typename(L, idx));
	}
}

__u64 lbpf_check_flags(lua_State *L, int idx, enum lbpf_flag_set set,
		       const char *who)
{
	return check_flags(L, idx, set, who, 1);
}

__u64 lbpf_opt_flags(lua_State *L, int idx, const char *key,
		     enum lbpf_flag_set set, const char *who, __u64 def)
{
	__u64 flags;

	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TTABLE)
		return def;
	if (lua_getfield(L, idx, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return def;
	}
	flags = check_flags(L, -1, set, who, 0);
	lua_pop(L, 1);
	return flags;
}

/* ---- perf events and cgroup hooks ----------------------------------------- */

static const struct flag_name perf_sw_events[] = {
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

static const struct flag_name perf_hw_events[] = {
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

int lbpf_perf_event_config(int hardware, const char *name, __u64 *config)
{
	const struct flag_name *names = hardware ? perf_hw_events : perf_sw_events;
	int i;

	for (i = 0; names[i].name; i++) {
		if (strcmp(names[i].name, name) == 0) {
			*config = names[i].value;
			return 0;
		}
	}
	return -1;
}

const char *const lbpf_cgroup_attach_names[] = {
	"ingress", "egress", "sock_create", "sock_ops", NULL
};
const enum bpf_attach_type lbpf_cgroup_attach_types[] = {
	BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET_EGRESS,
	BPF_CGROUP_INET_SOCK_CREATE, BPF_CGROUP_SOCK_OPS
};
