/* clock.h - the one clock both C bench modules time with, and its Lua face. */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H
#include <time.h>
#include <lua.h>

static lua_Integer now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (lua_Integer)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* now() -> monotonic ns */
static int l_now(lua_State *L)
{
	lua_pushinteger(L, now_ns());
	return 1;
}
#endif
