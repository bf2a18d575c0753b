/*
 * events.c - ring buffers, perf buffers and user ring buffers.
 * Placeholder: registered by core.c, filled in by the events work.
 */
#include "util.h"

void lbpf_open_events(lua_State *L)
{
	(void)L;
}
