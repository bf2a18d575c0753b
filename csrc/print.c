/*
 * print.c - the routing of libbpf's own log output: to a Lua printer
 * (bpf.set_print) or stderr, and the capture of verifier logs while a load
 * runs (object.c reads them back for its error messages).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"

/* ---- libbpf print routing ----------------------------------------------------
 * libbpf's print callback is process-global and carries no user pointer, so
 * the module keeps one small piece of global state: the Lua state making the
 * current libbpf call (set around each call that may print) and the log
 * capture of a running load. The Lua printer itself lives in the registry.
 */

static const char PRINTER_KEY = 'p';
static lua_State *print_L;
static enum libbpf_print_level print_level = LIBBPF_WARN;

static struct {
	int active;
	char *buf;          /* every captured "prog 'x': -- BEGIN ..." block */
	size_t len, cap;
	char failed[128];   /* first program libbpf said failed */
} capture;

static void capture_append(const char *s, size_t n)
{
	if (capture.len + n + 1 > capture.cap) {
		size_t cap = capture.cap ? capture.cap : 4096;
		char *nb;

		while (cap < capture.len + n + 1)
			cap *= 2;
		nb = realloc(capture.buf, cap);
		if (!nb)
			return;
		capture.buf = nb;
		capture.cap = cap;
	}
	memcpy(capture.buf + capture.len, s, n);
	capture.len += n;
	capture.buf[capture.len] = '\0';
}

/* Keep verifier logs and the name of the failing program; return 1 when
 * the message was a verifier log (not printed: the error carries it). */
static int capture_message(const char *msg)
{
	const char *p;

	if (!capture.active)
		return 0;
	if (strncmp(msg, "libbpf: ", 8) == 0)
		msg += 8;
	if (!capture.failed[0] && strncmp(msg, "prog '", 6) == 0 &&
	    (p = strstr(msg, "': BPF program load failed")) != NULL) {
		size_t n = (size_t)(p - msg - 6);

		if (n >= sizeof(capture.failed))
			n = sizeof(capture.failed) - 1;
		memcpy(capture.failed, msg + 6, n);
		capture.failed[n] = '\0';
	}
	if (strstr(msg, "-- BEGIN PROG LOAD LOG --")) {
		capture_append(msg, strlen(msg));
		return 1;
	}
	return 0;
}

static int call_lua_printer(lua_State *L, int level, const char *msg)
{
	int ok;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &PRINTER_KEY);
	if (!lua_isfunction(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	lua_pushstring(L, level == LIBBPF_WARN ? "warn" :
			  level == LIBBPF_INFO ? "info" : "debug");
	lua_pushstring(L, msg);
	ok = lua_pcall(L, 2, 0, 0) == LUA_OK;
	if (!ok) {
		fprintf(stderr, "libbpf printer error: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return 1;
}

static int print_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char small[1024], *msg = small;
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(small)) {
		msg = malloc((size_t)n + 1);
		if (!msg)
			return 0;
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
	}
	if (!capture_message(msg) && level <= print_level) {
		if (!(print_L && call_lua_printer(print_L, level, msg)))
			fputs(msg, stderr);
	}
	if (msg != small)
		free(msg);
	return n;
}

/* Callbacks run on the main thread: it outlives every coroutine. */
static void print_init(lua_State *L)
{
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	print_L = lua_tothread(L, -1);
	lua_pop(L, 1);
	libbpf_set_print(print_cb);
}

void lbpf_capture_begin(lua_State *L)
{
	(void)L;
	capture.active = 1;
	capture.len = 0;
	capture.failed[0] = '\0';
	if (capture.buf)
		capture.buf[0] = '\0';
}

void lbpf_capture_end(void)
{
	capture.active = 0;
}

const char *lbpf_capture_failed_prog(void)
{
	return capture.failed[0] ? capture.failed : NULL;
}

/* Copy out the verifier log libbpf printed for program `prog`. */
char *lbpf_capture_take_log(const char *prog, size_t *len)
{
	char head[160], *start, *end, *out;
	const char *begin = "-- BEGIN PROG LOAD LOG --\n";
	const char *stop = "-- END PROG LOAD LOG --";

	if (!capture.buf)
		return NULL;
	snprintf(head, sizeof(head), "prog '%s': %s", prog, begin);
	/* libbpf prefixes its messages with "libbpf: " */
	start = strstr(capture.buf, head);
	if (!start)
		return NULL;
	start += strlen(head);
	end = strstr(start, stop);
	if (!end)
		end = capture.buf + capture.len;
	*len = (size_t)(end - start);
	out = malloc(*len + 1);
	if (!out)
		return NULL;
	memcpy(out, start, *len);
	out[*len] = '\0';
	return out;
}

/* bpf.set_print(fn | nil [, "warn"|"info"|"debug"]) */
static int print_set_print(lua_State *L)
{
	static const char *const levels[] = {"warn", "info", "debug", NULL};

	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TFUNCTION);
	print_level = (enum libbpf_print_level)luaL_checkoption(L, 2, "warn",
								  levels);
	lua_settop(L, 1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &PRINTER_KEY);
	return 0;
}

void lbpf_open_print(lua_State *L)
{
	print_init(L);
	lua_pushcfunction(L, print_set_print);
	lua_setfield(L, -2, "set_print");
}
