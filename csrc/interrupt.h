/*
 * interrupt.h - Ctrl-C during a wait (interrupt.c): a C function that
 * returns `nil, "interrupted"` has handled the SIGINT, in a script and in
 * the REPL alike.
 */
#ifndef LBPF_INTERRUPT_H
#define LBPF_INTERRUPT_H

#include <signal.h>

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
/* Put the wait-aware handler in front of SIGINT's current one (lua.c's),
 * once per process; nothing when SIGINT has no handler. */
void lbpf_interrupt_install(lua_State *L);
#endif
