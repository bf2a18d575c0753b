/*
 * sigint.c - Ctrl-C for interactive use (the `lbpf` REPL).
 *
 * The standalone lua5.4 turns the first SIGINT into an "interrupted!" error
 * and then resets SIGINT to the default action, so a second Ctrl-C kills a
 * REPL. This installs a handler that stays: while armed (user code is
 * running) it raises "interrupted!" at the next Lua instruction, as lua.c
 * does; while disarmed (the REPL is reading a line) it only records the
 * signal. SA_RESTART is off, so a blocking read or poll returns EINTR: a
 * ring buffer poll then returns nil, "interrupted" and, as in a plain
 * script (interrupt.c), the statement goes on (the hook finds that result
 * and does not raise); io.read returns nil, "Interrupted system call".
 *
 * Loaded from the same shared object as libbpf.core, with
 * package.loadlib(path, "luaopen_libbpf_sigint") (lua/libbpf/repl.lua).
 * SIGTERM is handled the same way, and take() says which signal came, so
 * the REPL ends cleanly (closing its object, detaching its links) instead
 * of dying with links or tc filters left behind.
 *
 * The state below is process-wide because a signal handler has no
 * argument to carry it, as in lua.c. The hook goes on the main thread of
 * the state that installed the handler, never on the coroutine that
 * happened to call install() (it may be collected long before a signal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "interrupt.h"

static lua_State *hooked_state;
static volatile sig_atomic_t armed;
static volatile sig_atomic_t pending;   /* the signal number, 0: none */
static volatile sig_atomic_t reported;  /* a wait reported a SIGINT */

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
	lua_sethook(L, NULL, 0, 0);
	/* a wait (rb:poll, bpf.sleep) that returned nil, "interrupted" has
	 * handled the first SIGINT, as in a plain script (interrupt.c); so
	 * has a poll whose callback this runs in: it stops after it */
	if (pending == SIGINT && !reported &&
	    (lbpf_interrupt_polling || lbpf_interrupt_reported(L, ar))) {
		reported = 1;
		lbpf_interrupt_seq++;   /* the poll reports it (interrupt.c) */
		pending = 0;
		return;
	}
	pending = 0;
	luaL_error(L, "interrupted!");
}

static void on_sigint(int sig)
{
	lbpf_interrupt_seq++;   /* a poll delivering records stops */
	if (sig == SIGINT && pending == SIGINT)
		reported = 1;   /* two before the first was handled: stop */
	if (pending != SIGTERM)   /* a SIGTERM is never forgotten */
		pending = sig;
	if (armed && hooked_state)
		lua_sethook(hooked_state, interrupt_hook, LUA_MASKCALL |
			    LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* sigint.install() -> true | nil, msg: keep SIGINT and SIGTERM from now on */
static int sigint_install(lua_State *L)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: reads and polls see EINTR */
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	hooked_state = lua_tothread(L, -1);
	lua_pop(L, 1);
	if (sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGTERM, &sa, NULL) != 0)
		return luaL_fileresult(L, 0, "sigaction");
	lua_pushboolean(L, 1);
	return 1;
}

/* sigint.arm(on): while on, SIGINT raises "interrupted!" in Lua code */
static int sigint_arm(lua_State *L)
{
	int on = lua_toboolean(L, 1);

	armed = on;
	if (on)
		reported = 0;   /* each statement gets one reported SIGINT */
	/* A signal that came just before disarming must not fire later,
	 * inside the REPL's own code; a user's debug hook is left alone. */
	if (!on && hooked_state && lua_gethook(hooked_state) == interrupt_hook)
		lua_sethook(hooked_state, NULL, 0, 0);
	return 0;
}

/* sigint.take() -> "SIGINT" | "SIGTERM" | false: the signal that came
 * since the last take */
static int sigint_take(lua_State *L)
{
	int sig = pending;

	pending = 0;
	if (sig == SIGTERM)
		lua_pushliteral(L, "SIGTERM");
	else if (sig)
		lua_pushliteral(L, "SIGINT");
	else
		lua_pushboolean(L, 0);
	return 1;
}

/* sigint.wait_readable(fd) -> true when fd can be read, false when a
 * SIGINT came first: the REPL's readline mode waits here, so Ctrl-C at the
 * prompt discards the line instead of waiting for Enter. */
static int sigint_wait_readable(lua_State *L)
{
	struct pollfd pfd = {.events = POLLIN};
	lua_Integer fd = luaL_checkinteger(L, 1);
	int r, err;

	luaL_argcheck(L, fd >= 0 && fd <= 0x7fffffff, 1, "not an fd");
	pfd.fd = (int)fd;
	do {
		/* the counter read before `pending`: a Ctrl-C after this
		 * check, even just before ppoll blocks, ends the wait */
		sig_atomic_t seq = lbpf_interrupt_seq;

		r = pending ? 0 : lbpf_interrupt_ppoll(&pfd, 1, NULL, seq);
		err = errno;
	} while (r < 0 && err == EINTR && !pending);
	if (r < 0 && err != EINTR) {
		errno = err;
		return luaL_fileresult(L, 0, "poll");
	}
	lua_pushboolean(L, r > 0);
	return 1;
}

__attribute__((visibility("default"))) int luaopen_libbpf_sigint(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"install", sigint_install},
		{"arm", sigint_arm},
		{"take", sigint_take},
		{"wait_readable", sigint_wait_readable},
		{NULL, NULL}
	};

	luaL_newlib(L, funcs);
	return 1;
}
