/*
 * interrupt.c - Ctrl-C during a wait, the same in a plain `lua5.4 script.lua`
 * as in the `lbpf` REPL (issue 19).
 *
 * lua5.4 turns SIGINT into an "interrupted!" error raised by a hook at the
 * next Lua event. A wait in the kernel (rb:poll, pb:poll, bpf.sleep) has
 * already answered the signal by then: without SA_RESTART it returned
 * `nil, "interrupted", EINTR` (or `false, "interrupted"`), and the error
 * would throw that answer away, so the cleanup a script does after its
 * loop (rb:close()) never ran. Here an interrupt counts as handled when the
 * first hook event after it is the return of a C function whose results
 * report it (nil or false, then "interrupted"): the script gets those
 * results and goes on. A Ctrl-C that lands in Lua code (a callback, a
 * loop) still raises "interrupted!", and so does any Ctrl-C after one a
 * wait reported: a loop that ignores poll's result still stops.
 *
 * The REPL's handler (sigint.c) asks lbpf_interrupt_reported from its own
 * hook. In a script, lbpf_interrupt_install (when the module is opened)
 * puts a handler in front of the one SIGINT has (lua.c's): it runs that one
 * first, and when it set a hook (lua.c's lstop) takes the hook over,
 * calling it unless a wait reported the interrupt. Nothing else of the old
 * handler changes (lua.c's resets SIGINT to its default action: two quick
 * Ctrl-Cs kill, as before). The state is process-wide, as a handler has
 * no argument: the first Lua state that opens the module owns it, and
 * gives it back when it closes.
 *
 * A poll delivering a flood of records does not wait in the kernel, so a
 * Ctrl-C would land in a callback and raise there, or (in C between
 * records) wait for the whole ring to drain. So a handler also bumps
 * lbpf_interrupt_seq, which the poll reads after each callback: it stops,
 * leaving the rest in the ring, and returns `nil, "interrupted", EINTR`
 * as an interrupted wait does. The hook, finding a poll running
 * (lbpf_interrupt_polling), leaves that first interrupt to it instead of
 * raising in the callback.
 *
 * A stop signal that lands after a wait checked lbpf_interrupt_seq but
 * before it blocks would not end it: the kernel's wait sleeps its whole
 * timeout. So the waits (rb:poll, pb:poll, bpf.sleep, sock:recv, the
 * REPL's wait for a key) go through lbpf_interrupt_epoll_wait and
 * lbpf_interrupt_ppoll: the stop signals are blocked while the counter is
 * checked, and the wait unblocks them atomically (epoll_pwait, ppoll), so
 * one that came in between is delivered as the wait begins: EINTR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "interrupt.h"

static lua_State *owner;                 /* main thread; NULL: none */
static struct sigaction before;          /* SIGINT's action we put ours in front of */
static lua_Hook taken_hook;              /* the hook that handler set */
static int taken_mask, taken_count;
static volatile sig_atomic_t reported;   /* a wait reported one already */

volatile sig_atomic_t lbpf_interrupt_seq;
int lbpf_interrupt_polling;

int lbpf_interrupt_reported(lua_State *L, lua_Debug *ar)
{
	int ok;

	if (ar->event != LUA_HOOKRET || !lua_getinfo(L, "Sr", ar) ||
	    strcmp(ar->what, "C") != 0 || ar->ntransfer < 2)
		return 0;
	lua_getlocal(L, ar, ar->ftransfer);
	ok = !lua_toboolean(L, -1);
	lua_pop(L, 1);
	lua_getlocal(L, ar, ar->ftransfer + 1);
	ok = ok && lua_type(L, -1) == LUA_TSTRING &&
	     strcmp(lua_tostring(L, -1), "interrupted") == 0;
	lua_pop(L, 1);
	return ok;
}

static void interrupt_on_sigint(int sig, siginfo_t *si, void *uc);

static void interrupt_put_in_front(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = interrupt_on_sigint;
	sa.sa_flags = SA_SIGINFO;   /* no SA_RESTART: waits see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

/* the hook the old handler set, taken over: a wait's report ends it */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
	lua_Hook h = taken_hook;

	if (!reported && (lbpf_interrupt_polling ||
			  lbpf_interrupt_reported(L, ar))) {
		reported = 1;
		/* left to the poll: a signal that came before its snapshot
		 * or after its last callback must still reach it */
		lbpf_interrupt_seq++;
		lua_sethook(L, NULL, 0, 0);
		/* lua.c's handler made SIGINT deadly; the next one is
		 * handled as the first was */
		interrupt_put_in_front();
		return;
	}
	lua_sethook(L, h, taken_mask, taken_count);
	if (h)
		h(L, ar);
}

static void interrupt_on_sigint(int sig, siginfo_t *si, void *uc)
{
	lua_State *L = owner;
	lua_Hook had = L ? lua_gethook(L) : NULL, now;

	lbpf_interrupt_seq++;
	if (before.sa_flags & SA_SIGINFO)
		before.sa_sigaction(sig, si, uc);
	else if (before.sa_handler != SIG_DFL && before.sa_handler != SIG_IGN)
		before.sa_handler(sig);
	if (!L)
		return;
	now = lua_gethook(L);
	if (now && now != had && now != interrupt_hook) {
		taken_hook = now;
		taken_mask = lua_gethookmask(L);
		taken_count = lua_gethookcount(L);
		lua_sethook(L, interrupt_hook, taken_mask, taken_count);
	}
}

/* __gc of the registry entry: the owning state is closing */
static int interrupt_release(lua_State *L)
{
	struct sigaction cur;

	(void)L;
	if (sigaction(SIGINT, NULL, &cur) == 0 &&
	    (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == interrupt_on_sigint)
		sigaction(SIGINT, &before, NULL);
	owner = NULL;
	return 0;
}

void lbpf_interrupt_install(lua_State *L)
{
	struct sigaction cur;

	if (owner || sigaction(SIGINT, NULL, &cur) != 0)
		return;
	if ((cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == interrupt_on_sigint)
		return;   /* ours, left by a state that closed */
	/* nobody handles SIGINT (or it is ignored): nothing to put in front of */
	if (!(cur.sa_flags & SA_SIGINFO) &&
	    (cur.sa_handler == SIG_DFL || cur.sa_handler == SIG_IGN))
		return;
	before = cur;
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	owner = lua_tothread(L, -1);
	lua_pop(L, 1);
	lua_newuserdatauv(L, 1, 0);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, interrupt_release);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, (void *)&owner);
	interrupt_put_in_front();
}

/* The signals whose handlers bump lbpf_interrupt_seq: this file's SIGINT,
 * sigint.c's SIGINT and SIGTERM, and those bpf.watch_signals can watch
 * (os.c). Blocking one that has another handler, or none, only delays it
 * to the start of the wait, which unblocks it. */
static void interrupt_block(sigset_t *old)
{
	static const int stop[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				   SIGUSR1, SIGUSR2};
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
		sigaddset(&set, stop[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

/* restore the caller's mask, keeping the wait's errno */
static int interrupt_unblock(const sigset_t *old, int ret)
{
	int err = errno;

	sigprocmask(SIG_SETMASK, old, NULL);
	errno = err;
	return ret;
}

int lbpf_interrupt_epoll_wait(int epfd, struct epoll_event *ev, int n,
			      int ms, sig_atomic_t seq)
{
	sigset_t old;

	if (ms == 0)   /* no wait: nothing to slip past, two syscalls saved */
		return epoll_wait(epfd, ev, n, 0);
	interrupt_block(&old);
	if (lbpf_interrupt_seq != seq) {
		errno = EINTR;
		return interrupt_unblock(&old, -1);
	}
	return interrupt_unblock(&old, epoll_pwait(epfd, ev, n, ms, &old));
}

int lbpf_interrupt_ppoll(struct pollfd *fds, nfds_t n,
			 const struct timespec *ts, sig_atomic_t seq)
{
	sigset_t old;

	interrupt_block(&old);
	if (lbpf_interrupt_seq != seq) {
		errno = EINTR;
		return interrupt_unblock(&old, -1);
	}
	return interrupt_unblock(&old, ppoll(fds, n, ts, &old));
}
