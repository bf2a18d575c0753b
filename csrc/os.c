/*
 * os.c - signals a tool stops on, and a sleep they interrupt: bpf.sleep,
 * bpf.watch_signals, bpf.signaled. libbpf.tool and its tools use them to
 * turn SIGINT and SIGTERM into a clean stop (pollers return, objects close,
 * links detach) instead of dying with tc filters left attached.
 *
 * A watched signal only sets a flag (the handler has no argument, so the
 * flags are process-wide, as in lua.c); without SA_RESTART a blocking
 * poll returns EINTR, and bpf.sleep waits in ppoll with the stop signals
 * unblocked only there (interrupt.c), so one arriving just before the wait
 * is not missed. A second watched signal while the first is still unhandled
 * is delivered with its default action: two Ctrl-Cs always end a tool
 * stuck outside sleeps and polls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "interrupt.h"
#include "open.h"

static const struct {
	const char *name;
	int sig;
} watchable[] = {
	{"SIGINT", SIGINT}, {"SIGTERM", SIGTERM}, {"SIGHUP", SIGHUP},
	{"SIGQUIT", SIGQUIT}, {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2},
};
#define NWATCH (sizeof(watchable) / sizeof(watchable[0]))

static sigset_t watched;                   /* the signals with our handler */
static volatile sig_atomic_t arrived;      /* the first one that came, 0 */

static void os_on_signal(int sig)
{
	if (arrived) {
		/* still unhandled: the second one does what it always did */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	arrived = sig;
	lbpf_interrupt_seq++;   /* a poll delivering records stops */
}

static const char *os_signal_name(int sig)
{
	size_t i;

	for (i = 0; i < NWATCH; i++)
		if (watchable[i].sig == sig)
			return watchable[i].name;
	return "signal";
}

static int os_signal_number(lua_State *L, int idx)
{
	const char *name = luaL_checkstring(L, idx);
	size_t i;

	if (strncmp(name, "SIG", 3) != 0)
		lua_pushfstring(L, "SIG%s", name);
	else
		lua_pushstring(L, name);
	for (i = 0; i < NWATCH; i++)
		if (strcmp(lua_tostring(L, -1), watchable[i].name) == 0) {
			lua_pop(L, 1);
			return watchable[i].sig;
		}
	return luaL_error(L, "watch_signals: cannot watch '%s' (SIGINT, "
			  "SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 or SIGUSR2)", name);
}

/* Give the signals that join `set` our handler, and those that leave it
 * the action they had before they were watched (lua.c's SIGINT handler, the
 * REPL's: a tool's main loop run from the REPL leaves its Ctrl-C working). */
static struct sigaction saved[NWATCH];

static int os_set_handlers(const sigset_t *set)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = os_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: polls and reads see EINTR */
	for (i = 0; i < NWATCH; i++) {
		int sig = watchable[i].sig, now = sigismember(set, sig);

		if (now == sigismember(&watched, sig))
			continue;
		if (sigaction(sig, now ? &sa : &saved[i], now ? &saved[i] : NULL) != 0)
			return -1;
	}
	return 0;
}

/* bpf.watch_signals([{"SIGINT", "SIGTERM", ...}]) -> true | nil, msg, errno
 * Default: SIGINT and SIGTERM. false: back to the actions they had before
 * (the default ones, or lua5.4's or the REPL's Ctrl-C). Either way the
 * arrived flag is cleared. */
static int os_watch_signals(lua_State *L)
{
	sigset_t set;

	sigemptyset(&set);
	if (lua_isnoneornil(L, 1)) {
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
	} else if (lua_isboolean(L, 1) && !lua_toboolean(L, 1)) {
		/* nothing: stop watching */
	} else {
		lua_Integer i, n;

		luaL_checktype(L, 1, LUA_TTABLE);
		n = luaL_len(L, 1);
		for (i = 1; i <= n; i++) {
			lua_geti(L, 1, i);
			sigaddset(&set, os_signal_number(L, -1));
			lua_pop(L, 1);
		}
	}
	if (os_set_handlers(&set) != 0)
		return luaL_fileresult(L, 0, "watch_signals");
	watched = set;
	arrived = 0;
	lua_pushboolean(L, 1);
	return 1;
}

/* bpf.signaled() -> "SIGTERM" | nil: the watched signal that came */
static int os_signaled(lua_State *L)
{
	if (!arrived)
		return 0;
	lua_pushstring(L, os_signal_name(arrived));
	return 1;
}

static double os_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* bpf.sleep(seconds) -> true | false, "SIGTERM" (a watched signal) |
 * false, "interrupted" (another handled signal, e.g. lua.c's SIGINT) */
static int os_sleep(lua_State *L)
{
	lua_Number secs = luaL_checknumber(L, 1);
	sig_atomic_t seq = lbpf_interrupt_seq;
	sigset_t old;
	double deadline;
	int ret = 0;

	luaL_argcheck(L, secs >= 0 && isfinite(secs), 1,
		      "seconds must be a finite number >= 0");
	if (secs > 1e9)
		secs = 1e9;
	deadline = os_now() + secs;
	/* the watched signals end the sleep even when the process started
	 * with them blocked (a parent's mask): unblocked for the sleep, one
	 * already pending is handled here and ends it at once */
	sigprocmask(SIG_UNBLOCK, &watched, &old);
	/* a stop signal just before ppoll blocks still ends it (interrupt.c) */
	while (!arrived) {
		double left = deadline - os_now();
		struct timespec ts;

		if (left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (lbpf_interrupt_ppoll(NULL, 0, &ts, seq) < 0 &&
		    errno == EINTR && !arrived) {
			ret = -1;
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (arrived) {
		lua_pushboolean(L, 0);
		lua_pushstring(L, os_signal_name(arrived));
		return 2;
	}
	if (ret < 0) {
		lua_pushboolean(L, 0);
		lua_pushliteral(L, "interrupted");
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

void lbpf_open_os(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"sleep", os_sleep},
		{"watch_signals", os_watch_signals},
		{"signaled", os_signaled},
		{NULL, NULL}
	};

	luaL_setfuncs(L, funcs, 0);  /* `watched` starts empty (zeroed) */
	/* a wait (this sleep, a poll) that Ctrl-C ends returns its answer in
	 * a plain script too, as in the REPL */
	lbpf_interrupt_install(L);
}
