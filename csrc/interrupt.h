/*
 * interrupt.h - Ctrl-C during a wait (interrupt.c): a C function that
 * returns `nil, "interrupted"` has handled the SIGINT, in a script and in
 * the REPL alike.
 */
#ifndef LBPF_INTERRUPT_H
#define LBPF_INTERRUPT_H

#include <lua.h>

/* In a SIGINT hook: whether event `ar` is the return of a C function whose
 * results report the interrupt (nil or false, then "interrupted"). */
int lbpf_interrupt_reported(lua_State *L, lua_Debug *ar);
/* Put the wait-aware handler in front of SIGINT's current one (lua.c's),
 * once per process; nothing when SIGINT has no handler. */
void lbpf_interrupt_install(lua_State *L);
#endif
