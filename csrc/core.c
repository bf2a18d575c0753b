/*
 * core.c - luaopen_libbpf_core: the module table, its classes, constants and
 * the type-name tables shared by the other files.
 */
#include <string.h>

#include <bpf/libbpf_version.h>

#include "util.h"

/* libbpf names its enums ("hash", "percpu_array", "sched_cls"); a name is
 * looked up by walking the enum until libbpf has no string for it. */
#define TYPE_SCAN_MAX 256

const char *lbpf_map_type_name(__u32 type)
{
	const char *s = libbpf_bpf_map_type_str((enum bpf_map_type)type);

	return s ? s : "unknown";
}

const char *lbpf_prog_type_name(__u32 type)
{
	const char *s = libbpf_bpf_prog_type_str((enum bpf_prog_type)type);

	return s ? s : "unknown";
}

int lbpf_map_type_from_name(const char *name)
{
	int t;

	for (t = 0; t < TYPE_SCAN_MAX; t++) {
		const char *s = libbpf_bpf_map_type_str((enum bpf_map_type)t);

		if (s && strcmp(s, name) == 0)
			return t;
	}
	return -1;
}

int lbpf_prog_type_from_name(const char *name)
{
	int t;

	for (t = 0; t < TYPE_SCAN_MAX; t++) {
		const char *s = libbpf_bpf_prog_type_str((enum bpf_prog_type)t);

		if (s && strcmp(s, name) == 0)
			return t;
	}
	return -1;
}

static int l_num_possible_cpus(lua_State *L)
{
	int n = libbpf_num_possible_cpus();

	if (n < 0)
		return lbpf_push_error(L, -n, "num_possible_cpus failed");
	lua_pushinteger(L, n);
	return 1;
}

static void set_constants(lua_State *L)
{
	lua_pushfstring(L, "%d.%d", LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	lua_setfield(L, -2, "libbpf_version");
	lua_pushfstring(L, "%d.%d", (int)libbpf_major_version(),
			(int)libbpf_minor_version());
	lua_setfield(L, -2, "libbpf_runtime_version");
}

int luaopen_libbpf_core(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"set_print", l_set_print},
		{"num_possible_cpus", l_num_possible_cpus},
		{NULL, NULL}
	};

	luaL_newlib(L, funcs);
	lbpf_print_init(L);
	set_constants(L);
	lbpf_open_object(L);
	lbpf_open_map(L);
	lbpf_open_prog(L);
	lbpf_open_link(L);
	lbpf_open_btfinfo(L); /* makes libbpf.btf; btf.c adds to it */
	lbpf_open_btf(L);
	lbpf_open_events(L);
	lbpf_open_attach(L);
	lbpf_open_probe(L);
	lbpf_open_sys(L);
	lbpf_open_syms(L);
	return 1;
}
