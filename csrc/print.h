/*
 * print.h - libbpf's log output routed to Lua (print.c), and the capture
 * of verifier logs during a load.
 */
#ifndef LBPF_PRINT_H
#define LBPF_PRINT_H

#include "lbpf.h"

/* routes libbpf's output, sets bpf.set_print in the table at -1 */
void lbpf_open_print(lua_State *L);
/* last opener: wraps the module functions that load BTF in print frames */
void lbpf_open_print_late(lua_State *L);
/* Around every libbpf call that may print: enter pushes a print frame (a
 * to-be-closed value, kept per thread) that collects libbpf's messages and
 * returns its index; leave, called after libbpf returned, runs the Lua
 * printer on them on the calling coroutine, removes the frame (popped when
 * on top, else its slot is left nil) and raises the printer's error, if
 * any. Between the two only libbpf may run: no Lua code, no raise. */
int lbpf_print_enter(lua_State *L);
void lbpf_print_leave(lua_State *L, int frame);
/* For a C closure wrapping a function (its upvalue 1): call that with this
 * call's first `nargs` arguments inside one print frame, returning its
 * results (return lbpf_print_call(L, n) from the closure). */
int lbpf_print_call(lua_State *L, int nargs);
/* While a load runs (inside a print frame), verifier logs that libbpf
 * prints are captured instead of printed; returns the log of program
 * `name` or NULL. */
void lbpf_capture_begin(lua_State *L);
void lbpf_capture_end(void);
char *lbpf_capture_take_log(const char *prog, size_t *len);
const char *lbpf_capture_failed_prog(void);

#endif
