/*
 * cbench.c - the C side of bench/run.lua: the same map work as the Lua side,
 * calling libbpf directly on the same map fd, timed with the same clock.
 * Built as bench/cbench.so (bench only, not part of the module).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <lua.h>
#include <lauxlib.h>
#include <bpf/bpf.h>

#include "clock.h"

/* update(fd, n [, first]): keys first..first+n-1, value = key * 3;
 * returns elapsed ns */
static int l_update(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	__u32 n = (__u32)luaL_checkinteger(L, 2), k;
	__u32 first = (__u32)luaL_optinteger(L, 3, 0);
	lua_Integer t0 = now_ns();

	for (k = first; k < first + n; k++) {
		__u64 v = (__u64)k * 3;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return luaL_error(L, "update: %d", errno);
	}
	lua_pushinteger(L, now_ns() - t0);
	return 1;
}

/* lookup(fd, n [, first]): returns elapsed ns, sum of values */
static int l_lookup(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	__u32 n = (__u32)luaL_checkinteger(L, 2), k;
	__u32 first = (__u32)luaL_optinteger(L, 3, 0);
	__u64 sum = 0, v;
	lua_Integer t0 = now_ns();

	for (k = first; k < first + n; k++)
		if (!bpf_map_lookup_elem(fd, &k, &v))
			sum += v;
	lua_pushinteger(L, now_ns() - t0);
	lua_pushinteger(L, (lua_Integer)sum);
	return 2;
}

/* iterate(fd [, chunk]): get_next_key + lookup per element; elapsed ns,
 * count, sum, and with `chunk` a list of the ns of every `chunk` elements
 * (timed as pairs(m) is in bench/run.lua) */
static int l_iterate(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	lua_Integer chunk = luaL_optinteger(L, 2, 0), nt = 0;
	lua_Integer *times = chunk > 0 ? lua_newuserdatauv(L, (1 << 20) *
							   sizeof(lua_Integer), 0) : NULL;
	__u32 k, *prev = NULL;
	__u64 v, sum = 0;
	lua_Integer n = 0, t0 = now_ns(), start = t0, t;

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		if (!bpf_map_lookup_elem(fd, &k, &v)) {
			sum += v;
			n++;
			if (times && n % chunk == 0 && nt < (1 << 20)) {
				t = now_ns();
				times[nt++] = t - t0;
				t0 = t;
			}
		}
		prev = &k;
	}
	lua_pushinteger(L, now_ns() - start);
	lua_pushinteger(L, n);
	lua_pushinteger(L, (lua_Integer)sum);
	if (!times)
		return 3;
	lua_createtable(L, (int)nt, 0);
	for (t = 0; t < nt; t++) {
		lua_pushinteger(L, times[t]);
		lua_rawseti(L, -2, t + 1);
	}
	return 4;
}

/* dump(fd, max): bpf_map_lookup_batch into arrays; elapsed ns, count */
static int l_dump(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	__u32 max = (__u32)luaL_checkinteger(L, 2), batch, total = 0;
	__u32 *keys = malloc(max * sizeof(*keys));
	__u64 *vals = malloc(max * sizeof(*vals));
	__u32 in, out;
	void *inp = NULL;
	int err = 0;
	lua_Integer t0 = now_ns();

	while (keys && vals && total < max) {
		batch = max - total;
		err = bpf_map_lookup_batch(fd, inp, &out, keys + total,
					   vals + total, &batch, NULL);
		total += batch;
		if (err)
			break;
		in = out;
		inp = &in;
	}
	lua_pushinteger(L, now_ns() - t0);
	lua_pushinteger(L, total);
	free(keys);
	free(vals);
	if (err && errno != ENOENT)
		return luaL_error(L, "lookup_batch: %d", errno);
	return 2;
}

/* lookup1(fd, key): one lookup per Lua call, the floor of any binding */
static int l_lookup1(lua_State *L)
{
	__u32 k = (__u32)lua_tointeger(L, 2);
	__u64 v;

	if (bpf_map_lookup_elem((int)lua_tointeger(L, 1), &k, &v))
		return 0;
	lua_pushinteger(L, (lua_Integer)v);
	return 1;
}

/* update1(fd, key, value): one update per Lua call, the floor of any binding */
static int l_update1(lua_State *L)
{
	__u32 k = (__u32)lua_tointeger(L, 2);
	__u64 v = (__u64)lua_tointeger(L, 3);

	if (bpf_map_update_elem((int)lua_tointeger(L, 1), &k, &v, BPF_ANY))
		return 0;
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- the floor of the method and index forms: a userdata holding only
 * the fd, whose methods and metamethods check nothing --------------------- */

static int h_lookup(lua_State *L)
{
	__u32 k = (__u32)lua_tointeger(L, 2);
	__u64 v;

	if (bpf_map_lookup_elem(*(int *)lua_touserdata(L, 1), &k, &v))
		return 0;
	lua_pushinteger(L, (lua_Integer)v);
	return 1;
}

static int h_update(lua_State *L)
{
	__u32 k = (__u32)lua_tointeger(L, 2);
	__u64 v = (__u64)lua_tointeger(L, 3);

	if (bpf_map_update_elem(*(int *)lua_touserdata(L, 1), &k, &v, BPF_ANY))
		return 0;
	lua_pushboolean(L, 1);
	return 1;
}

/* handle(fd, "method"|"index"): "method": h:lookup(k)/h:update(k, v)
 * through an __index table (one table lookup finds the method); "index":
 * h[k]/h[k] = v straight to a C __index/__newindex */
static int l_handle(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	const char *how = luaL_checkstring(L, 2);
	int *p = lua_newuserdatauv(L, sizeof(int), 0);

	*p = fd;
	lua_createtable(L, 0, 2);
	if (how[0] == 'm') {
		lua_createtable(L, 0, 2);
		lua_pushcfunction(L, h_lookup);
		lua_setfield(L, -2, "lookup");
		lua_pushcfunction(L, h_update);
		lua_setfield(L, -2, "update");
		lua_setfield(L, -2, "__index");
	} else {
		lua_pushcfunction(L, h_lookup);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, h_update);
		lua_setfield(L, -2, "__newindex");
	}
	lua_setmetatable(L, -2);
	return 1;
}

int luaopen_bench_cbench(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "now", l_now }, { "update", l_update }, { "lookup", l_lookup },
		{ "iterate", l_iterate }, { "lookup1", l_lookup1 },
		{ "update1", l_update1 }, { "handle", l_handle }, { "dump", l_dump },
		{ NULL, NULL }
	};
	luaL_newlib(L, funcs);
	return 1;
}
