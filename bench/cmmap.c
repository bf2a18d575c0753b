/*
 * cmmap.c - the C side of bench/mmap.lua: loops over the memory of a
 * BPF_F_MMAPABLE array, the same memory and elements m:mmap()'s view
 * reads and writes, timed with the same clock. Built as bench/cmmap.so
 * (bench only, not part of the module).
 */
#include <errno.h>
#include <sys/mman.h>

#include <lua.h>
#include <lauxlib.h>
#include <linux/types.h>

#include "clock.h"

/* map(fd, n) -> address (light userdata) of the n u64 elements of the
 * array, mapped read-write once for the bench's life */
static int l_map(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	size_t n = (size_t)luaL_checkinteger(L, 2);
	void *p = mmap(NULL, n * sizeof(__u64), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return luaL_error(L, "mmap: %d", errno);
	lua_pushlightuserdata(L, p);
	return 1;
}

/* sum(addr, n, first) -> elapsed ns, sum: one load and one add per
 * element, as `sum = sum + v[k]` does (volatile: the compiler may neither
 * vectorize nor drop the loads) */
static int l_sum(lua_State *L)
{
	const volatile __u64 *a = lua_touserdata(L, 1);
	__u32 n = (__u32)luaL_checkinteger(L, 2), k;
	__u32 first = (__u32)luaL_checkinteger(L, 3);
	__u64 sum = 0;
	lua_Integer t0 = now_ns();

	for (k = first; k < first + n; k++)
		sum += a[k];
	lua_pushinteger(L, now_ns() - t0);
	lua_pushinteger(L, (lua_Integer)sum);
	return 2;
}

/* store(addr, n, first) -> elapsed ns: a[k] = k * 3, one store per
 * element, as `v[k] = k * 3` does */
static int l_store(lua_State *L)
{
	volatile __u64 *a = lua_touserdata(L, 1);
	__u32 n = (__u32)luaL_checkinteger(L, 2), k;
	__u32 first = (__u32)luaL_checkinteger(L, 3);
	lua_Integer t0 = now_ns();

	for (k = first; k < first + n; k++)
		a[k] = (__u64)k * 3;
	lua_pushinteger(L, now_ns() - t0);
	return 1;
}

int luaopen_bench_cmmap(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "now", l_now }, { "map", l_map }, { "sum", l_sum },
		{ "store", l_store }, { NULL, NULL }
	};
	luaL_newlib(L, funcs);
	return 1;
}
