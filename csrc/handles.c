/*
 * handles.c - the handle checkers (liolib's tofile()): each raises on a
 * wrong type and on a closed handle, so every method starts with one.
 */
#include <string.h>

#include "handles.h"

struct lbpf_object *lbpf_check_object(lua_State *L, int idx)
{
	struct lbpf_object *o = luaL_checkudata(L, idx, LBPF_OBJECT);

	if (o->closed)
		luaL_error(L, "libbpf.object: object is closed");
	return o;
}

struct lbpf_map *lbpf_check_map(lua_State *L, int idx)
{
	struct lbpf_map *m = lbpf_check_class(L, idx, LBPF_MAP);

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

	if (!lbpf_link_live(l))
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
	if (o && o->load_failed)
		luaL_error(L, "%s: the object's load failed: open it again "
			   "(bpf.open) to retry", what);
	if (o && !o->loaded && want_loaded)
		luaL_error(L, "%s: object is not loaded yet (call obj:load())",
			   what);
	if (o && o->loaded && !want_loaded)
		luaL_error(L, "%s: object is already loaded", what);
}

/* object's user value table field (maps, progs, links...) pushed */
void lbpf_object_field(lua_State *L, int objidx, const char *field)
{
	lua_getiuservalue(L, objidx, 1);
	lua_getfield(L, -1, field);
	lua_remove(L, -2);
}

const char *lbpf_prog_name(const struct lbpf_prog *p)
{
	return p->prog ? bpf_program__name(p->prog) : p->name;
}

/* The program must be loaded for attach/test_run. */
int lbpf_prog_loaded_fd(lua_State *L, const struct lbpf_prog *p,
			const char *what)
{
	int fd = lbpf_prog_fd(p);

	if (fd < 0)
		luaL_error(L, "libbpf.program: %s: program '%s' is not loaded%s",
			   what, lbpf_prog_name(p), p->owner && !p->owner->loaded
			   ? " (call obj:load())" : " (autoload is off)");
	return fd;
}

/* The checks before a pre-load setter, shared by maps and programs: the
 * handle needs a libbpf handle to change, and its object must not be
 * loaded yet. */
void lbpf_check_settable(lua_State *L, const struct lbpf_object *owner,
			 int has_handle, const char *cls, const char *what,
			 const char *name, const char *done)
{
	const char *kind = strcmp(cls, LBPF_MAP) == 0 ? "map" : "program";

	if (!has_handle)
		luaL_error(L, "%s: %s: %s '%s' is not part of a libbpf object",
			   cls, what, kind, name);
	if (owner && owner->loaded)
		luaL_error(L, "%s: %s: %s '%s' is already %s (call it before "
			   "obj:load())", cls, what, kind, name, done);
}

/* ---- busy guard --------------------------------------------------------------
 * A call that runs Lua code (an option's __index, a value's metamethods
 * while it is encoded, the print callback's printer) while it holds
 * pointers into an object marks the object busy; the mark is a
 * to-be-closed userdata, so an error unmarks it too. */

#define BUSY_MT "libbpf.busy_guard"

/* __close, and __gc for a guard left open (a coroutine that raised keeps
 * its to-be-closed values until it is collected): the guard holds the
 * handle that owns the count in its user value, so the count is still
 * there. */
static int busy_close(lua_State *L)
{
	int **cp = luaL_checkudata(L, 1, BUSY_MT);

	if (*cp) {
		if (**cp > 0)
			(**cp)--;
		*cp = NULL;
	}
	return 0;
}

/* Count one more call in `busy` (a field of the handle at keepidx, or of
 * one it keeps alive) until the calling C function returns or raises. */
static void busy_mark(lua_State *L, int *busy, int keepidx)
{
	int **cp;

	keepidx = lua_absindex(L, keepidx);
	cp = lua_newuserdatauv(L, sizeof(*cp), 1);
	*cp = NULL;
	if (luaL_newmetatable(L, BUSY_MT)) {
		lua_pushcfunction(L, busy_close);
		lua_setfield(L, -2, "__close");
		lua_pushcfunction(L, busy_close);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	lua_pushvalue(L, keepidx);    /* keeps the count's memory */
	lua_setiuservalue(L, -2, 1);
	lua_toclose(L, -1);
	*cp = busy;
	(*busy)++;
}

void lbpf_object_busy(lua_State *L, struct lbpf_object *o, int keepidx)
{
	if (o)
		busy_mark(L, &o->busy, keepidx);
}

/* An object's map counts in its object (obj:close() is what frees its
 * memory); a standalone map in itself (m:close() closes its fd and unmaps
 * its views). */
void lbpf_map_busy(lua_State *L, struct lbpf_map *m, int keepidx)
{
	busy_mark(L, m->owner ? &m->owner->busy : &m->busy, keepidx);
}

void lbpf_check_not_busy(lua_State *L, const struct lbpf_object *o)
{
	if (o && o->busy > 0)
		luaL_error(L, "libbpf.object: object is in use (a call that uses "
			   "it is running: close it after that call returns)");
}

void lbpf_check_map_not_busy(lua_State *L, const struct lbpf_map *m)
{
	if (m->busy > 0)
		luaL_error(L, "libbpf.map: map '%s' is in use (a call that uses "
			   "it is running: close it after that call returns)",
			   m->name);
}
