/*
 * proc.c - what a tool asks about its own process: its pid, and the device
 * and inode of one of its namespaces (the pair bpf_get_ns_current_pid_tgid
 * takes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lbpf.h"
#include "open.h"

/* bpf.getpid() */
static int proc_getpid(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)getpid());
	return 1;
}

/* bpf.monotonic() -> seconds (a float) on CLOCK_MONOTONIC: for deadlines
 * and sub-second durations that a wall clock change cannot move */
static int proc_monotonic(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

/* bpf.ns_info(kind) -> dev, ino | nil, msg, errno: stat of
 * /proc/self/ns/<kind> (pid, net, mnt, user, cgroup, ipc, uts, time). */
static int proc_ns_info(lua_State *L)
{
	static const char *const kinds[] = {"pid", "net", "mnt", "user",
		"cgroup", "ipc", "uts", "time", NULL};
	const char *kind = kinds[luaL_checkoption(L, 1, NULL, kinds)];
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	if (stat(path, &st))
		return lbpf_push_error(L, errno, "ns_info: stat %s", path);
	lua_pushinteger(L, (lua_Integer)st.st_dev);
	lua_pushinteger(L, (lua_Integer)st.st_ino);
	return 2;
}

void lbpf_open_proc(lua_State *L)
{
	static const luaL_Reg functions[] = {
		{"getpid", proc_getpid},
		{"ns_info", proc_ns_info},
		{"monotonic", proc_monotonic},
		{NULL, NULL}
	};

	luaL_setfuncs(L, functions, 0);
}
