/*
 * ringbuf_bench.c - the C side of bench/ringbuf.lua: consume the records of
 * a ring buffer map with libbpf directly (ring_buffer__new + a trivial C
 * callback), from the same map fd the Lua side reads, timed with the same
 * clock. Built as bench/ringbuf_bench.so (bench only, not part of the module).
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

/* consume(map_fd) -> elapsed ns, records, sum of seq: everything ready */
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

int luaopen_bench_ringbuf_bench(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"now", l_now}, {"consume", l_consume}, {NULL, NULL}
	};

	luaL_newlib(L, funcs);
	return 1;
}
