/*
 * print.h - libbpf's log output routed to Lua (print.c), and the capture
 * of verifier logs during a load.
 */
#ifndef LBPF_PRINT_H
#define LBPF_PRINT_H

#include "lbpf.h"

/* routes libbpf's output, sets bpf.set_print in the table at -1 */
void lbpf_open_print(lua_State *L);
/* While a load runs, verifier logs that libbpf prints are captured here
 * instead of printed; returns the log of program `name` or NULL. */
void lbpf_capture_begin(lua_State *L);
void lbpf_capture_end(void);
char *lbpf_capture_take_log(const char *prog, size_t *len);
const char *lbpf_capture_failed_prog(void);

#endif
