/*
 * perfbuf_bench.c - the C side of bench/perfbuf.lua: consume the samples of
 * a perf event array map with libbpf directly (perf_buffer__new +
 * perf_buffer__consume, a C callback that counts and reads `seq`), and the
 * same for a ring buffer map, timed with the same clock as the Lua side.
 * Built as bench/perfbuf_bench.so (bench only, not part of the module).
 */
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <bpf/libbpf.h>

#include "clock.h"

#define PERFBENCH "perfbuf_bench.buffer"

struct tally {
	lua_Integer n;
	__u64 seq_sum;   /* read one field, as every Lua row does */
};

struct pbench {
	struct perf_buffer *pb;
	struct tally t;
};

static void count_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct tally *t = ctx;
	__u64 seq;

	(void)cpu, (void)size;
	memcpy(&seq, data, sizeof(seq));
	t->seq_sum += seq;
	t->n++;
}

/* open(perf_map_fd, pages) -> buffer: libbpf's perf buffer on the map */
static int l_open(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	size_t pages = (size_t)luaL_checkinteger(L, 2);
	struct pbench *b = lua_newuserdatauv(L, sizeof(*b), 0);

	memset(b, 0, sizeof(*b));
	luaL_setmetatable(L, PERFBENCH);
	b->pb = perf_buffer__new(fd, pages, count_sample, NULL, &b->t, NULL);
	if (!b->pb)
		return luaL_error(L, "perf_buffer__new failed");
	return 1;
}

/* buffer:consume() -> elapsed ns, samples, sum of seq: everything ready */
static int l_pb_consume(lua_State *L)
{
	struct pbench *b = luaL_checkudata(L, 1, PERFBENCH);
	lua_Integer t0, dt;

	luaL_argcheck(L, b->pb, 1, "closed");
	memset(&b->t, 0, sizeof(b->t));
	t0 = now_ns();
	perf_buffer__consume(b->pb);
	dt = now_ns() - t0;
	lua_pushinteger(L, dt);
	lua_pushinteger(L, b->t.n);
	lua_pushinteger(L, (lua_Integer)b->t.seq_sum);
	return 3;
}

static int l_pb_close(lua_State *L)
{
	struct pbench *b = luaL_checkudata(L, 1, PERFBENCH);

	perf_buffer__free(b->pb);
	b->pb = NULL;
	return 0;
}

int luaopen_bench_perfbuf_bench(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{"consume", l_pb_consume}, {"close", l_pb_close},
		{"__gc", l_pb_close}, {NULL, NULL}
	};
	static const luaL_Reg funcs[] = {
		{"now", l_now}, {"open", l_open}, {NULL, NULL}
	};

	luaL_newmetatable(L, PERFBENCH);
	luaL_setfuncs(L, meta, 0);
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
