/*
 * util.c - error pushers, option checking, class registration, handle
 * checkers and the routing of libbpf's own log output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- errors ------------------------------------------------------------ */

int lbpf_errno(long ret)
{
	if (ret < 0)
		return (int)-ret;
	return errno ? errno : EINVAL;
}

static int push_error_va(lua_State *L, int err, const char *detail,
			 const char *fmt, va_list ap)
{
	luaL_Buffer b;

	char text[256];

	if (err < 0)
		err = -err;
	/* libbpf's own codes (4000+: bad ELF, relocation, ...) have words in
	 * libbpf_strerror; the number returned stays a POSIX errno. */
	libbpf_strerror(err, text, sizeof(text));
	if (err >= __LIBBPF_ERRNO__START)
		err = EINVAL;
	lua_pushnil(L);
	luaL_buffinit(L, &b);
	lua_pushvfstring(L, fmt, ap);
	luaL_addvalue(&b);
	luaL_addstring(&b, ": ");
	luaL_addstring(&b, text);
	if (detail && *detail) {
		luaL_addchar(&b, '\n');
		luaL_addstring(&b, detail);
	}
	luaL_pushresult(&b);
	lua_pushinteger(L, err);
	return 3;
}

int lbpf_push_error(lua_State *L, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = push_error_va(L, err, NULL, fmt, ap);
	va_end(ap);
	return n;
}

int lbpf_push_error_detail(lua_State *L, int err, const char *detail,
			   const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = push_error_va(L, err, detail, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- option tables ------------------------------------------------------ */

void lbpf_check_options(lua_State *L, int idx, const char *fname,
			const char *const allowed[])
{
	idx = lua_absindex(L, idx);
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int i, known = 0;

		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING) {
			const char *k = lua_tostring(L, -1);

			for (i = 0; allowed[i]; i++)
				if (strcmp(allowed[i], k) == 0)
					known = 1;
		}
		if (!known) {
			lua_pushfstring(L, "%s: unknown option '%s'", fname,
					luaL_tolstring(L, -1, NULL));
			lua_error(L);
		}
	}
}

static int opt_field(lua_State *L, int idx, const char *key)
{
	if (lua_type(L, idx) != LUA_TTABLE)
		return 0;
	if (lua_getfield(L, idx, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	return 1;
}

/* The returned string stays valid while the option table is on the stack. */
const char *lbpf_opt_string(lua_State *L, int idx, const char *key,
			    const char *def)
{
	const char *s;

	idx = lua_absindex(L, idx);
	if (!opt_field(L, idx, key))
		return def;
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "option '%s' must be a string, got %s", key,
			   luaL_typename(L, -1));
	s = lua_tostring(L, -1);
	lua_pop(L, 1);
	return s;
}

lua_Integer lbpf_opt_integer(lua_State *L, int idx, const char *key,
			     lua_Integer def)
{
	lua_Integer v;
	int ok;

	idx = lua_absindex(L, idx);
	if (!opt_field(L, idx, key))
		return def;
	v = lua_tointegerx(L, -1, &ok);
	if (!ok)
		luaL_error(L, "option '%s' must be an integer, got %s", key,
			   luaL_typename(L, -1));
	lua_pop(L, 1);
	return v;
}

int lbpf_opt_boolean(lua_State *L, int idx, const char *key, int def)
{
	int v;

	idx = lua_absindex(L, idx);
	if (!opt_field(L, idx, key))
		return def;
	if (!lua_isboolean(L, -1))
		luaL_error(L, "option '%s' must be a boolean, got %s", key,
			   luaL_typename(L, -1));
	v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* ---- classes --------------------------------------------------------------- */

/* __index: methods first (upvalue 1), then the type's field getter. */
int lbpf_index(lua_State *L)
{
	lua_CFunction getter = lua_tocfunction(L, lua_upvalueindex(2));

	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
		return 1;
	lua_pop(L, 1);
	lua_settop(L, 2);
	if (getter && getter(L) == 1)
		return 1;
	return 0;
}

void lbpf_new_class(lua_State *L, const char *name, const luaL_Reg *meta,
		    const luaL_Reg *methods, lua_CFunction getter)
{
	luaL_newmetatable(L, name);
	luaL_setfuncs(L, meta, 0);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	if (getter)
		lua_pushcfunction(L, getter);
	else
		lua_pushnil(L);
	lua_pushcclosure(L, lbpf_index, 2);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

void lbpf_add_methods(lua_State *L, const char *name, const luaL_Reg *methods)
{
	luaL_getmetatable(L, name);
	lua_getfield(L, -1, "__index");
	lua_getupvalue(L, -1, 1);
	luaL_setfuncs(L, methods, 0);
	lua_pop(L, 3);
}

/* ---- checkers ---------------------------------------------------------------- */

struct lbpf_object *lbpf_check_object(lua_State *L, int idx)
{
	struct lbpf_object *o = luaL_checkudata(L, idx, LBPF_OBJECT);

	if (o->closed)
		luaL_error(L, "libbpf.object: object is closed");
	return o;
}

struct lbpf_map *lbpf_check_map(lua_State *L, int idx)
{
	struct lbpf_map *m = luaL_checkudata(L, idx, LBPF_MAP);

	if (m->closed || (m->owner && m->owner->closed))
		luaL_error(L, "libbpf.map: %s is closed",
			   m->owner ? "object" : "map");
	return m;
}

struct lbpf_prog *lbpf_check_prog(lua_State *L, int idx)
{
	struct lbpf_prog *p = luaL_checkudata(L, idx, LBPF_PROG);

	if (p->owner && p->owner->closed)
		luaL_error(L, "libbpf.program: object is closed");
	return p;
}

struct lbpf_link *lbpf_check_link(lua_State *L, int idx)
{
	struct lbpf_link *l = luaL_checkudata(L, idx, LBPF_LINK);

	if (!l->link && !l->detach)
		luaL_error(L, "libbpf.link: link is destroyed");
	return l;
}

/* libbpf answers -errno for handles without an fd: say -1 everywhere. */
int lbpf_map_fd(const struct lbpf_map *m)
{
	int fd = m->map ? bpf_map__fd(m->map) : m->fd;

	return fd < 0 ? -1 : fd;
}

int lbpf_prog_fd(const struct lbpf_prog *p)
{
	int fd = p->prog ? bpf_program__fd(p->prog) : p->fd;

	return fd < 0 ? -1 : fd;
}

void lbpf_require_loaded(lua_State *L, struct lbpf_object *o, const char *what,
			 int want_loaded)
{
	if (o && !o->loaded && want_loaded)
		luaL_error(L, "%s: object is not loaded yet (call obj:load())",
			   what);
	if (o && o->loaded && !want_loaded)
		luaL_error(L, "%s: object is already loaded", what);
}

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
void lbpf_print_init(lua_State *L)
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
int l_set_print(lua_State *L)
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
