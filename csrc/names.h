/*
 * names.h - every name <-> number mapping of the module (names.c): map,
 * program and attach types (libbpf's own strings where it has them), and
 * the flag sets taken as a number or a list of names.
 */
#ifndef LBPF_NAMES_H
#define LBPF_NAMES_H

#include "lbpf.h"

/* type names: libbpf's strings without the BPF_*_TYPE_ prefix; "unknown"
 * for numbers libbpf has no name for; -1 for unknown names */
const char *lbpf_map_type_name(__u32 type);
const char *lbpf_prog_type_name(__u32 type);
const char *lbpf_attach_type_name(__u32 type);
int lbpf_map_type_from_name(const char *name);
int lbpf_prog_type_from_name(const char *name);
int lbpf_attach_type_from_name(const char *name);

/* the flag sets lbpf_check_flags knows */
enum lbpf_flag_set {
	LBPF_MAP_FLAGS,       /* BPF_F_NO_PREALLOC, ... (map_create, set_map_flags) */
	LBPF_UPDATE_FLAGS,    /* BPF_ANY, BPF_NOEXIST, ... (m:update, m:push) */
	LBPF_TEST_RUN_FLAGS,  /* BPF_F_TEST_RUN_ON_CPU, ... (prog:test_run) */
};

/* The flags at argument `idx`: an integer, one name ("no_prealloc") or a
 * list of names ({"no_prealloc", "rdonly_prog"}), or'ed together; an
 * unknown name raises "<who>: unknown flag '<name>'" (in a list) or "bad
 * argument #idx ... (invalid option '<name>')" (alone, as
 * luaL_checkoption). */
__u64 lbpf_check_flags(lua_State *L, int idx, enum lbpf_flag_set set,
		       const char *who);
/* Same for field `key` of the option table at `idx`; absent: `def`; an
 * unknown name raises "<who>: unknown flag '<name>'". */
__u64 lbpf_opt_flags(lua_State *L, int idx, const char *key,
		     enum lbpf_flag_set set, const char *who, __u64 def);

/* perf event `name` ("cpu-clock", "cpu-cycles", ...) of the software or
 * hardware set -> its config; -1 when unknown */
int lbpf_perf_event_config(int hardware, const char *name, __u64 *config);
/* the cgroup hooks attach_cgroup{attach_type=} names (NULL-terminated, for
 * luaL_checkoption) and their attach types, index for index */
extern const char *const lbpf_cgroup_attach_names[];
extern const enum bpf_attach_type lbpf_cgroup_attach_types[];

#endif
