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
 * libbpf's print callback is process-global and carries no user pointer.
 * Nothing in it touches Lua: every libbpf call that may print runs inside
 * a print frame (lbpf_print_enter/leave), kept per thread, which collects
 * the messages in C; lbpf_print_leave runs the Lua printer on them after
 * libbpf returned, under protection, on the calling thread (coroutine).
 * A frame is a to-be-closed userdata on the caller's stack, so an error
 * between enter and leave unlinks it too. Outside any frame (finalizers,
 * calls not bracketed) messages go to stderr unless this thread's state
 * silenced them.
 *
 * The printer lives in the state's registry: absent = stderr (libbpf's
 * default), false = silenced (bpf.set_print(nil)), a function = the Lua
 * printer; the level beside it.
 */

static const char PRINTER_KEY = 'p';
static const char LEVEL_KEY = 'l';
#define FRAME_MT "libbpf.print_frame"

enum { PRINT_STDERR, PRINT_SILENT, PRINT_LUA };

struct strbuf {
	char *buf;
	size_t len, cap;
};

struct frame {
	struct frame *prev;
	int live;              /* linked as this thread's current frame */
	int mode, level;       /* the state's printer, read at enter */
	struct strbuf msgs;    /* for the Lua printer: level byte, text, NUL */
	int capture;           /* a load: keep verifier logs */
	struct strbuf logs;    /* every captured "prog 'x': -- BEGIN ..." block */
	char failed[128];      /* first program libbpf said failed */
};

/* Thread-local in the initial-exec model: a few bytes of glibc's static
 * TLS reserve, no lazily allocated dynamic TLS block (LeakSanitizer's
 * tracer crashes scanning one of a module it did not instrument: the
 * plain core.so under `make asan`'s preloaded runtime). */
#define LBPF_TLS __thread __attribute__((tls_model("initial-exec")))
static LBPF_TLS struct frame *current;
/* outside frames: what this thread's last bpf.set_print said */
static LBPF_TLS int loose_mode = PRINT_STDERR;
static LBPF_TLS int loose_level = LIBBPF_WARN;

static int strbuf_append(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *nb;

		while (cap < b->len + n + 1)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return -1;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

/* Keep verifier logs and the name of the failing program; return 1 when
 * the message was a verifier log (not printed: the error carries it). */
static int capture_message(struct frame *f, const char *msg)
{
	const char *p;

	if (!f || !f->capture)
		return 0;
	if (strncmp(msg, "libbpf: ", 8) == 0)
		msg += 8;
	if (!f->failed[0] && strncmp(msg, "prog '", 6) == 0 &&
	    (p = strstr(msg, "': BPF program load failed")) != NULL) {
		size_t n = (size_t)(p - msg - 6);

		if (n >= sizeof(f->failed))
			n = sizeof(f->failed) - 1;
		memcpy(f->failed, msg + 6, n);
		f->failed[n] = '\0';
	}
	if (strstr(msg, "-- BEGIN PROG LOAD LOG --")) {
		strbuf_append(&f->logs, msg, strlen(msg));
		return 1;
	}
	return 0;
}

/* Queue a message for the Lua printer (dropped when memory runs out). */
static void queue_message(struct frame *f, int level, const char *msg)
{
	char lv = (char)('0' + level);
	size_t n = strlen(msg) + 1;
	size_t len = f->msgs.len;

	if (strbuf_append(&f->msgs, &lv, 1) || strbuf_append(&f->msgs, msg, n))
		f->msgs.len = len;
}

static int print_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char small[1024], *msg = small;
	struct frame *f = current;
	va_list cp;
	int n, mode;

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
	mode = f ? f->mode : loose_mode;
	if (!capture_message(f, msg) && (int)level <= (f ? f->level : loose_level)) {
		if (mode == PRINT_LUA && f)
			queue_message(f, (int)level, msg);
		else if (mode != PRINT_SILENT)
			fputs(msg, stderr);
	}
	if (msg != small)
		free(msg);
	return n;
}

static void frame_unlink(struct frame *f)
{
	struct frame **pp;

	if (!f->live)
		return;
	/* frames close in stack order; walk anyway, never leave a dangling
	 * pointer behind */
	for (pp = &current; *pp; pp = &(*pp)->prev) {
		if (*pp == f) {
			*pp = f->prev;
			break;
		}
	}
	f->live = 0;
}

/* __close and __gc of a frame: an error between enter and leave, or the
 * end of leave */
static int frame_close(lua_State *L)
{
	struct frame *f = luaL_checkudata(L, 1, FRAME_MT);

	frame_unlink(f);
	free(f->msgs.buf);
	free(f->logs.buf);
	memset(&f->msgs, 0, sizeof(f->msgs));
	memset(&f->logs, 0, sizeof(f->logs));
	return 0;
}

/* The state's printer setting: PRINT_* (and the level in *level). */
static int printer_mode(lua_State *L, int *level)
{
	int t = lua_rawgetp(L, LUA_REGISTRYINDEX, &PRINTER_KEY);
	int mode = t == LUA_TFUNCTION ? PRINT_LUA :
		   t == LUA_TNIL ? PRINT_STDERR : PRINT_SILENT;

	lua_pop(L, 1);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &LEVEL_KEY);
	*level = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : LIBBPF_WARN;
	lua_pop(L, 1);
	return mode;
}

int lbpf_print_enter(lua_State *L)
{
	struct frame *f = lua_newuserdatauv(L, sizeof(*f), 0);

	memset(f, 0, sizeof(*f));
	if (luaL_newmetatable(L, FRAME_MT)) {
		lua_pushcfunction(L, frame_close);
		lua_setfield(L, -2, "__close");
		lua_pushcfunction(L, frame_close);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	lua_toclose(L, -1);
	f->mode = printer_mode(L, &f->level);
	f->prev = current;
	f->live = 1;
	current = f;
	return lua_gettop(L);
}

/* Close the frame slot: popped when on top, else left nil. Always
 * lua_closeslot: Lua 5.4.4's lua_settop (and lua_pop) closing a
 * to-be-closed slot may keep a stale stack pointer when the __close call
 * grows the stack (fixed in 5.4.5). */
static void frame_drop(lua_State *L, int idx)
{
	lua_closeslot(L, idx);
	if (idx == lua_gettop(L))
		lua_pop(L, 1);
}

void lbpf_print_leave(lua_State *L, int idx)
{
	struct frame *f = luaL_checkudata(L, idx, FRAME_MT);
	size_t off = 0;

	frame_unlink(f);
	if (f->msgs.len && f->mode == PRINT_LUA) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &PRINTER_KEY);
		while (off < f->msgs.len) {
			int level = f->msgs.buf[off] - '0';
			const char *msg = f->msgs.buf + off + 1;

			off += strlen(msg) + 2;
			if (!lua_isfunction(L, -1))
				break; /* the printer changed the printer */
			lua_pushvalue(L, -1);
			lua_pushstring(L, level == LIBBPF_WARN ? "warn" :
				       level == LIBBPF_INFO ? "info" : "debug");
			lua_pushstring(L, msg);
			if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
				/* raised now that libbpf has returned */
				if (lua_type(L, -1) == LUA_TSTRING)
					lua_pushfstring(L, "libbpf printer: %s",
							lua_tostring(L, -1));
				else
					lua_pushvalue(L, -1);
				lua_closeslot(L, idx);
				lua_error(L);
			}
		}
		lua_pop(L, 1);
	}
	frame_drop(L, idx);
}

void lbpf_capture_begin(lua_State *L)
{
	(void)L;
	if (current)
		current->capture = 1;
}

void lbpf_capture_end(void)
{
	if (current)
		current->capture = 0;
}

const char *lbpf_capture_failed_prog(void)
{
	return current && current->failed[0] ? current->failed : NULL;
}

/* Copy out the verifier log libbpf printed for program `prog`. */
char *lbpf_capture_take_log(const char *prog, size_t *len)
{
	char head[160], *start, *end, *out;
	const char *begin = "-- BEGIN PROG LOAD LOG --\n";
	const char *stop = "-- END PROG LOAD LOG --";
	struct strbuf *b = current ? &current->logs : NULL;

	if (!b || !b->buf)
		return NULL;
	snprintf(head, sizeof(head), "prog '%s': %s", prog, begin);
	/* libbpf prefixes its messages with "libbpf: " */
	start = strstr(b->buf, head);
	if (!start)
		return NULL;
	start += strlen(head);
	end = strstr(start, stop);
	if (!end)
		end = b->buf + b->len;
	*len = (size_t)(end - start);
	out = malloc(*len + 1);
	if (!out)
		return NULL;
	memcpy(out, start, *len);
	out[*len] = '\0';
	return out;
}

/* bpf.set_print(fn | nil [, "warn"|"info"|"debug"]): nil silences */
static int print_set_print(lua_State *L)
{
	static const char *const levels[] = {"warn", "info", "debug", NULL};
	int level;

	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TFUNCTION);
	level = luaL_checkoption(L, 2, "warn", levels);
	lua_settop(L, 1);
	if (lua_isnil(L, 1))
		lua_pushboolean(L, 0);
	else
		lua_pushvalue(L, 1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &PRINTER_KEY);
	lua_pushinteger(L, level);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &LEVEL_KEY);
	loose_mode = lua_isnil(L, 1) ? PRINT_SILENT : PRINT_STDERR;
	loose_level = level;
	return 0;
}

int lbpf_print_call(lua_State *L, int nargs)
{
	int frame = lbpf_print_enter(L), n, i;

	lua_pushvalue(L, lua_upvalueindex(1));
	for (i = 1; i <= nargs; i++)
		lua_pushvalue(L, i);
	lua_call(L, nargs, LUA_MULTRET);
	n = lua_gettop(L) - frame;
	lbpf_print_leave(L, frame);
	return n;
}

/* A module function run inside one print frame (upvalue 1: the function),
 * for functions whose files keep no print calls of their own. */
static int print_guarded(lua_State *L)
{
	return lbpf_print_call(L, lua_gettop(L));
}

/* After the other files: the module functions that load BTF (btf.c) print
 * through frames too. */
void lbpf_open_print_late(lua_State *L)
{
	static const char *const wrapped[] = {
		"btf_parse", "btf_vmlinux", "btf_kernel", NULL
	};
	int i;

	for (i = 0; wrapped[i]; i++) {
		if (lua_getfield(L, -1, wrapped[i]) != LUA_TFUNCTION) {
			lua_pop(L, 1);
			continue;
		}
		lua_pushcclosure(L, print_guarded, 1);
		lua_setfield(L, -2, wrapped[i]);
	}
}

void lbpf_open_print(lua_State *L)
{
	libbpf_set_print(print_cb);
	lua_pushcfunction(L, print_set_print);
	lua_setfield(L, -2, "set_print");
}
