/*
 * interrupt.h - Ctrl-C during a wait (interrupt.c): a C function that
 * returns `nil, "interrupted"` has handled the SIGINT, in a script and in
 * the REPL alike.
 */
#ifndef LBPF_INTERRUPT_H
#define LBPF_INTERRUPT_H

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

#include <lua.h>

/* Bumped by every handler of a stop signal (this file's SIGINT handler,
 * bpf.watch_signals' in os.c, the REPL's in sigint.c): a ring or perf
 * buffer poll that sees it change while it delivers records stops after
 * the current callback (events.h, lbpf_ev_interrupted). A counter rather
 * than a flag, so that nothing has to reset it. */
extern volatile sig_atomic_t lbpf_interrupt_seq;
/* Polls running (events.c): a SIGINT hook that fires inside one of their
 * callbacks leaves the interrupt to the poll, which reports it once the
 * callback returned, as an interrupted wait does. */
extern int lbpf_interrupt_polling;

/* In a SIGINT hook: whether event `ar` is the return of a C function whose
 * results report the interrupt (nil or false, then "interrupted"). */
int lbpf_interrupt_reported(lua_State *L, lua_Debug *ar);
/* Blocking waits a stop signal cannot slip past. `seq` is
 * lbpf_interrupt_seq when the caller began (a poll's snapshot): if a stop
 * signal came since, they return -1 with errno EINTR at once; one that
 * comes later, even just before the wait blocks, interrupts it (EINTR).
 * Otherwise as epoll_wait and ppoll (ts NULL: no timeout). */
int lbpf_interrupt_epoll_wait(int epfd, struct epoll_event *ev, int n,
			      int ms, sig_atomic_t seq);
int lbpf_interrupt_ppoll(struct pollfd *fds, nfds_t n,
			 const struct timespec *ts, sig_atomic_t seq);
/* Put the wait-aware handler in front of SIGINT's current one (lua.c's),
 * once per process; nothing when SIGINT has no handler. */
void lbpf_interrupt_install(lua_State *L);
#endif
