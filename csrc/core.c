/*
 * core.c - luaopen_libbpf_core: the module table, filled by each file's
 * open function in turn. It only calls down; nothing calls back into it.
 */
#include "btf.h"
#include "events.h"
#include "link.h"
#include "map.h"
#include "open.h"
#include "packet.h"
#include "print.h"
#include "probe.h"
#include "prog.h"
#include "vars.h"

static void (*const openers[])(lua_State *L) = {
	lbpf_open_print,
	lbpf_open_sys,
	lbpf_open_object,
	lbpf_open_map,
	lbpf_open_prog,
	lbpf_open_link,
	lbpf_open_btf,
	lbpf_open_vars,
	lbpf_open_events,
	lbpf_open_ringbuf,
	lbpf_open_perfbuf,
	lbpf_open_user_ringbuf,
	lbpf_open_probe,
	lbpf_open_syms,
	lbpf_open_packet,
	lbpf_open_proc,
	lbpf_open_btf_build,
	lbpf_open_os,
	lbpf_open_print_late,   /* wraps functions the others registered */
};

LBPF_EXPORT int luaopen_libbpf_core(lua_State *L)
{
	size_t i;

	lua_newtable(L);
	for (i = 0; i < sizeof(openers) / sizeof(openers[0]); i++)
		openers[i](L);
	return 1;
}
