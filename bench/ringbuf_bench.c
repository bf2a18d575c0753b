/*
 * ringbuf_bench.c - the C side of bench/ringbuf.lua: consume the records of
 * a ring buffer map with libbpf directly (ring_buffer__new + a trivial C
 * callback), from the same map fd the Lua side reads, timed with the same
 * clock. Built as bench/ringbuf_bench.so (bench only, not part of the module).
 * It also times the floor of any per-record Lua callback: C calling the
 * callback N times with lua_call, the way a ring buffer delivers records.
 */
#include <string.h>
#include <time.h>

#include <lua.h>
#include <lauxlib.h>
#include <bpf/libbpf.h>

struct tally {
	lua_Integer n;
	__u64 seq_sum;   /* read one field, as the "reads ev.seq" Lua case does */
};

#include "clock.h"

static int count_record(void *ctx, void *data, size_t size)
{
	struct tally *t = ctx;
	__u64 seq;

	(void)size;
	memcpy(&seq, data, sizeof(seq));
	t->seq_sum += seq;
	t->n++;
	return 0;
}

/* consume(map_fd) -> elapsed ns, records, sum of seq: everything ready,
 * the callback counting records and reading seq of each */
static int l_consume(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	struct tally t = {0, 0};
	struct ring_buffer *rb = ring_buffer__new(fd, count_record, &t, NULL);
	lua_Integer t0, dt;

	if (!rb)
		return luaL_error(L, "ring_buffer__new failed");
	t0 = now_ns();
	ring_buffer__consume(rb);
	dt = now_ns() - t0;
	ring_buffer__free(rb);
	lua_pushinteger(L, dt);
	lua_pushinteger(L, t.n);
	lua_pushinteger(L, (lua_Integer)t.seq_sum);
	return 3;
}

/* call_n(cb, n [, arg]) -> elapsed ns: cb(i) for i = 0 .. n-1 (or cb(arg)
 * when arg is given) by lua_call with one result popped, as a ring buffer
 * delivers a record: no ring, no decoding, only the C -> Lua call */
static int l_call_n(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 2), i, t0;
	int witharg = !lua_isnoneornil(L, 3);

	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_settop(L, 3);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		lua_pushvalue(L, 1);
		if (witharg)
			lua_pushvalue(L, 3);
		else
			lua_pushinteger(L, i);
		lua_call(L, 1, 1);
		lua_pop(L, 1);
	}
	lua_pushinteger(L, now_ns() - t0);
	return 1;
}

/* fill_n(t, n) -> elapsed ns: t[i] = i - 1 for i = 1 .. n, one
 * lua_pushinteger and one lua_rawseti each, as a column is filled (the
 * API's floor for any C-filled column, with no ring and no record read) */
static int l_fill_n(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 2), i, t0;

	luaL_checktype(L, 1, LUA_TTABLE);
	t0 = now_ns();
	for (i = 1; i <= n; i++) {
		lua_pushinteger(L, i - 1);
		lua_rawseti(L, 1, i);
	}
	lua_pushinteger(L, now_ns() - t0);
	return 1;
}

/* pack_n(n) -> elapsed ns, the array {0, ..., n - 1}: n lua_pushinteger
 * then one call of `return {...}` (arg 1 here), the VM filling the array
 * from its stack, as b:column does (the floor of that column, no ring) */
static int l_pack_n(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 2), i, t0;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	luaL_checkstack(L, (int)n + 2, "pack_n");
	t0 = now_ns();
	lua_pushvalue(L, 1);
	for (i = 0; i < n; i++)
		lua_pushinteger(L, i);
	lua_call(L, (int)n, 1);
	lua_pushinteger(L, now_ns() - t0);
	lua_insert(L, -2);
	return 2;
}

/* __index of the stand-in view: a C metamethod that only pushes 0 */
static int stub_index(lua_State *L)
{
	lua_pushinteger(L, 0);
	return 1;
}

/* stub_view() -> a userdata whose __index is a C function returning 0: the
 * floor of any userdata view's field read */
static int l_stub_view(lua_State *L)
{
	lua_newuserdatauv(L, 1, 0);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, stub_index);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	return 1;
}

int luaopen_bench_ringbuf_bench(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"now", l_now}, {"consume", l_consume}, {"call_n", l_call_n},
		{"stub_view", l_stub_view}, {"fill_n", l_fill_n},
		{"pack_n", l_pack_n}, {NULL, NULL}
	};

	luaL_newlib(L, funcs);
	return 1;
}
