/*
 * events.c - what the event streams share: decoding plans (BTF -> codec or
 * view plan), the record view `libbpf.event_view`, and poll bookkeeping
 * (traceback handler, the count, "interrupted", closed objects). The
 * pollers are in ringbuf.c, perfbuf.c and user_ringbuf.c; see events.h.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "btf.h"
#include "btfcheck.h"
#include "btftypes.h"
#include "codec.h"
#include "events.h"
#include "names.h"

/* ---- decoding plan ------------------------------------------------------- */

/* Compile the field table of struct `id` (integers, bools, char arrays at
 * any byte offset; nested aggregates and bitfields are left out) and push
 * it. An entry is offset << 32 | size << 4 | kind: BTF bit offsets are
 * u32, so a byte offset takes 29 bits; a size takes 28 (char arrays of
 * 256 MiB and more are left out). */
void lbpf_ev_push_plan(lua_State *L, const struct btf *btf, __u32 id,
		       const char *who, const char *tname)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *mb;
	int i;

	if (!t || !btf_is_struct(t))
		luaL_error(L, "%s: view=true needs a struct type, '%s' is not",
			   who, tname);
	lua_newtable(L);
	mb = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, mb++) {
		__s32 mid = btf__resolve_type(btf, mb->type);
		const struct btf_type *mt = mid > 0 ? btf__type_by_id(btf, mid) : NULL;
		const char *name = btf__name_by_offset(btf, mb->name_off);
		lua_Integer off = btf_member_bit_offset(t, i) / 8, size, kind;

		if (!mt || !name || !*name || btf_member_bitfield_size(t, i))
			continue;
		if (btf_is_int(mt) || btf_is_enum(mt) || btf_is_ptr(mt)) {
			size = btf_is_ptr(mt) ? 8 : mt->size;
			kind = btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_BOOL)
			       ? F_BOOL
			       : btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED)
			       ? F_INT : F_UINT;
			if (size != 1 && size != 2 && size != 4 && size != 8)
				continue;
		} else if (btf_is_array(mt)) {
			const struct btf_array *a = btf_array(mt);
			__s32 eid = btf__resolve_type(btf, a->type);
			const struct btf_type *et = eid > 0 ? btf__type_by_id(btf, eid) : NULL;

			if (!et || !btf_is_int(et) || et->size != 1)
				continue;
			size = a->nelems;
			kind = F_CHARS;
			if (size > PLAN_MAX_SIZE)
				continue;
		} else {
			continue;
		}
		lua_pushinteger(L, off << 32 | size << 4 | kind);
		lua_setfield(L, -2, name);
	}
}

static struct view *push_view(lua_State *L, const char *type);

/* Fill `d` from the options at `optidx` ({type=, raw=, view=}) for records
 * of map `m`. `uvidx` is the poller's user value table (holds views). */
static void setup_decoder(lua_State *L, struct decoder *d,
			  const struct lbpf_map *m, int optidx, int uvidx,
			  const char *who)
{
	const char *tname = lbpf_opt_string(L, optidx, "type", NULL);
	int raw = lbpf_opt_boolean(L, optidx, "raw", 0);
	int want_view = lbpf_opt_boolean(L, optidx, "view", 0);
	int btfidx = 0;
	const struct btf *btf = NULL;
	__s32 id = 0;

	/* btf=: a libbpf.btf to find type= in (left on the stack) */
	optidx = lua_absindex(L, optidx);
	if (lua_type(L, optidx) == LUA_TTABLE &&
	    lua_getfield(L, optidx, "btf") != LUA_TNIL) {
		btfidx = lua_gettop(L);
		if (!luaL_testudata(L, btfidx, LBPF_BTF))
			luaL_error(L, "%s: option 'btf' must be a libbpf.btf, got %s",
				   who, luaL_typename(L, btfidx));
	}

	memset(d, 0, sizeof(*d));
	d->viewref = LUA_NOREF;
	/* the options are read last: an __index there may have closed the
	 * map's object (its BTF, and its fd number, which may be reused) */
	if (!map_usable(m))
		luaL_error(L, "%s: the object of its map was closed while "
			   "the options were read", who);
	if (raw && want_view)
		luaL_error(L, "%s: raw=true and view=true exclude each other",
			   who);
	if (raw)
		return;
	if (btfidx) {
		if (!tname)
			luaL_error(L, "%s: btf= needs type=", who);
		btf = lbpf_btf_lend(L, btfidx, uvidx);
		id = lbpf_btf_find(btf, tname);
		if (id <= 0)
			luaL_error(L, "%s: type '%s' is not in the given btf",
				   who, tname);
	} else if (m->owner && m->owner->obj) {
		btf = bpf_object__btf(m->owner->obj);
	}
	if (tname && !btfidx) {
		if (!btf)
			luaL_error(L, "%s: type '%s': map '%s' has no object BTF "
				   "(give btf=, e.g. bpf.cdef(header))",
				   who, tname, map_name(m));
		id = lbpf_btf_find(btf, tname);
		if (id <= 0)
			luaL_error(L, "%s: type '%s' is not in the BTF of map "
				   "'%s' (give btf=, e.g. bpf.cdef(header))", who,
				   tname, map_name(m));
	} else if (!btfidx && btf && m->map) {
		id = (__s32)bpf_map__btf_value_type_id(m->map);
	}
	/* a btf= of the caller's own is not the object's refused one */
	if (!btfidx && id > 0 &&
	    lbpf_btf_kernel_refused(m->owner->obj, m->owner->loaded))
		luaL_error(L, "%s: the kernel refused the BTF of map '%s''s "
			   "object: its records are not decoded with types "
			   "the kernel did not check (raw=true gives the "
			   "bytes)", who, map_name(m));
	if (id <= 0) {
		if (want_view)
			luaL_error(L, "%s: view=true needs a BTF type (type=...)",
				   who);
		return;
	}
	d->type_size = (size_t)btf__resolve_size(btf, id);
	d->btf = btf;
	d->type_id = id;
	snprintf(d->type, sizeof(d->type), "%s", tname ? tname : "value");
	if (want_view) {
		struct view *v;

		/* the codec gate checks the type even though views do not
		 * decode with codecs (issue 13 item 1) */
		if (lbpf_codec_refused(lbpf_codec_get(L, btf, (__u32)id)))
			luaL_error(L, "%s: %s", who, lbpf_codec_refused(
					   lbpf_codec_get(L, btf, (__u32)id)));

		lbpf_ev_push_plan(L, btf, (__u32)id, who, tname ? tname : "value");
		v = push_view(L, tname ? tname : "value");
		lua_pushvalue(L, -1);
		d->viewref = luaL_ref(L, LUA_REGISTRYINDEX);
		/* also in the user value table, so __gc order never matters */
		lua_rawseti(L, uvidx, (lua_Integer)lua_rawlen(L, uvidx) + 1);
		d->view = v;
		d->mode = MODE_VIEW;
		return;
	}
	d->codec = lbpf_codec_get(L, btf, (__u32)id);
	if (lbpf_codec_refused(d->codec))
		luaL_error(L, "%s: %s", who, lbpf_codec_refused(d->codec));
	d->mode = d->codec ? MODE_CODEC : MODE_RAW;
}

void lbpf_ev_setup_decoder(lua_State *L, struct decoder *d,
			   const struct lbpf_map *m, int optidx, int uvidx,
			   const char *who)
{
	int top = lua_gettop(L);

	setup_decoder(L, d, m, lua_absindex(L, optidx), lua_absindex(L, uvidx),
		      who);
	lua_settop(L, top);
}

void lbpf_ev_release_decoder(lua_State *L, struct decoder *d)
{
	luaL_unref(L, LUA_REGISTRYINDEX, d->viewref);
	d->viewref = LUA_NOREF;
	d->view = NULL;
	d->codec = NULL;
	d->btf = NULL;
	d->type_id = 0;
}

/* ---- fields={...}: chosen members as callback arguments -------------------- */

/* the plans of the chosen members, compiled once; the userdata's user value
 * holds the names (for errors); it is anchored in the poller's user value
 * table */
struct fields {
	int n;
	size_t need;        /* bytes a record needs for every chosen member */
	struct {
		lua_Integer plan;
		const char *name;
	} f[];
};

/* raise naming every name of f that has no plan */
static void fields_unknown(lua_State *L, const struct fields *f,
			   const char *who, const char *type)
{
	luaL_Buffer b;
	int i, bad = 0;

	luaL_buffinit(L, &b);
	for (i = 0; i < f->n; i++) {
		if (f->f[i].plan)   /* a plan is never 0: its size is not */
			continue;
		lua_pushfstring(L, "%s'%s'", bad++ ? ", " : "", f->f[i].name);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	luaL_error(L, "%s: fields: %s has no integer, bool or char[] member %s",
		   who, type, lua_tostring(L, -1));
}

void lbpf_ev_setup_fields(lua_State *L, struct source *src, int optidx,
			  int uvidx, int batched, const char *who)
{
	const struct decoder *d = &src->dec;
	const struct btf_type *t = d->type_id > 0
		? btf__type_by_id(d->btf, (__u32)d->type_id) : NULL;
	int top = lua_gettop(L), fidx, nidx, pidx, n, i, bad = 0;
	struct fields *f;

	optidx = lua_absindex(L, optidx);
	uvidx = lua_absindex(L, uvidx);
	if (!lua_istable(L, optidx) ||
	    lua_getfield(L, optidx, "fields") == LUA_TNIL) {
		lua_settop(L, top);
		return;
	}
	fidx = lua_gettop(L);
	n = lua_istable(L, fidx) ? (int)lua_rawlen(L, fidx) : 0;
	if (n < 1 || n > LBPF_EV_FIELDS_MAX)
		luaL_error(L, "%s: fields must be a list of 1..%d member names",
			   who, LBPF_EV_FIELDS_MAX);
	if (batched || lbpf_opt_boolean(L, optidx, "view", 0) ||
	    lbpf_opt_boolean(L, optidx, "raw", 0))
		luaL_error(L, "%s: fields= cannot go with %sview= or raw=", who,
			   strcmp(who, "libbpf.ringbuf") ? "" : "batch=, ");
	if (!t || !btf_is_struct(t))
		luaL_error(L, "%s: fields= needs records of a struct type "
			   "(type=\"struct x\"), not '%s'", who,
			   d->type[0] ? d->type : "untyped");
	lbpf_ev_push_plan(L, d->btf, (__u32)d->type_id, who, d->type);
	pidx = lua_gettop(L);
	f = lua_newuserdatauv(L, sizeof(*f) + (size_t)n * sizeof(f->f[0]), 1);
	f->n = n;
	f->need = 0;
	lua_createtable(L, n, 0);
	nidx = lua_gettop(L);
	for (i = 0; i < n; i++) {
		if (lua_rawgeti(L, fidx, i + 1) != LUA_TSTRING)
			luaL_error(L, "%s: fields[%d] must be a string, got %s",
				   who, i + 1, luaL_typename(L, -1));
		lua_pushvalue(L, -1);
		lua_rawseti(L, nidx, i + 1);  /* anchors the name */
		f->f[i].name = lua_tostring(L, -1);
		if (lua_rawget(L, pidx) != LUA_TNUMBER)
			bad++;
		f->f[i].plan = lua_tointeger(L, -1);
		if (f->f[i].plan && plan_end(f->f[i].plan) > f->need)
			f->need = plan_end(f->f[i].plan);
		lua_pop(L, 1);
	}
	if (bad)
		fields_unknown(L, f, who, d->type);
	lua_setiuservalue(L, -2, 1);  /* the names */
	lua_rawseti(L, uvidx, (lua_Integer)lua_rawlen(L, uvidx) + 1);
	src->fields = f;
	lua_settop(L, top);
}

int lbpf_ev_push_fields_room(lua_State *L, const struct fields *f,
			     const unsigned char *data, size_t size,
			     const char *who)
{
	int i;

	if (size < f->need)   /* raises naming the first member cut off */
		for (i = 0; i < f->n; i++)
			lbpf_ev_push_field(L, f->f[i].plan, data, size, who,
					   f->f[i].name);
	for (i = 0; i < f->n; i++)
		lbpf_ev_push_planned(L, f->f[i].plan, data);
	return f->n;
}

/* Push field `plan` (see lbpf_ev_push_plan) of the record at data, of
 * `size` bytes; `who` and `name` are for the error. */
void lbpf_ev_push_field(lua_State *L, lua_Integer plan,
			const unsigned char *data, size_t size,
			const char *who, const char *name)
{
	if (plan_end(plan) > size)
		luaL_error(L, "%s: record of %d bytes is too short for field "
			   "'%s'", who, (int)size, name);
	lbpf_ev_push_planned(L, plan, data);
}

/* ---- the view ------------------------------------------------------------- */

/*
 * Each view has a metatable of its own (there is one view per source),
 * bound keys first (lbpf_class_bind_keyed): its metamethods are closures
 * over the view (upvalue 1). A field read is then the view from the
 * closure, the key's address looked up in the view's own slot table and a
 * typed load: no registry lookup by type name, no string hashing. __len
 * and __tostring check that argument 1 is that view (an address compare: a
 * forged metatable on another userdata does not pass). The metatable
 * registered as LBPF_VIEW is the class seen by the docs and the fuzzer: its
 * functions have no view and raise on any use.
 */

/* the view whose metamethod is running, at argument 1; raises for another
 * value (or for the class's own metatable) */
static struct view *view_self(lua_State *L)
{
	struct view *v = lua_touserdata(L, lua_upvalueindex(1));

	if (!v || lua_touserdata(L, 1) != v)
		luaL_typeerror(L, 1, LBPF_VIEW);
	return v;
}

static struct view *view_live(lua_State *L)
{
	struct view *v = view_self(L);

	if (!v->data)
		luaL_error(L, "libbpf.event_view: used outside its callback "
			   "(copy the fields you keep)");
	return v;
}

static size_t slot_of(const struct view *v, const char *name)
{
	return (size_t)(((uintptr_t)name >> 4) * 0x9e3779b97f4a7c15ULL >> 40) &
	       v->mask;
}

/* the plan entry for `name`, or 0 */
static lua_Integer view_find(const struct view *v, const char *name)
{
	size_t i;

	for (i = slot_of(v, name); v->slot[i].name; i = (i + 1) & v->mask)
		if (v->slot[i].name == name)
			return v->slot[i].plan;
	return 0;
}

static void view_push(lua_State *L, const struct view *v, lua_Integer plan)
{
	if (plan_end(plan) > v->size)
		luaL_error(L, "libbpf.event_view: record of %d bytes is too "
			   "short for its type", (int)v->size);
	lbpf_ev_push_planned(L, plan, v->data);
}

/*
 * v.name -> the member, or nil. Names up to LUAI_MAXSHORTLEN bytes are
 * interned by Lua: the key of a member read is the very string the plan
 * holds, so its address finds the entry (v->slot) with no string hashing
 * or compare and one API call. Longer names, and keys that are not
 * members, go through the plan table (the view's user value).
 * The view read is the closure's own (upvalue 1), never argument 1, so the
 * hot path does not check argument 1: the function taken out of the
 * metatable and called on another value reads this view all the same.
 */
static int view_index(lua_State *L)
{
	struct view *v = lua_touserdata(L, lua_upvalueindex(1));
	const char *name;
	lua_Integer plan;

	if (!v || !v->data)
		view_live(L);                   /* raises */
	/* a number key turns into a string in our frame: not a member name,
	 * so nil all the same */
	name = lua_tolstring(L, 2, NULL);
	if (name && (plan = view_find(v, name)) != 0) {
		view_push(L, v, plan);
		return 1;
	}
	lua_settop(L, 2);
	lua_getiuservalue(L, lua_upvalueindex(1), 1);
	lua_pushvalue(L, 2);
	if (lua_rawget(L, 3) != LUA_TNUMBER)
		return 1;                       /* nil */
	view_push(L, v, lua_tointeger(L, -1));
	return 1;
}

static int view_len(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)view_live(L)->size);
	return 1;
}

static int view_tostring(lua_State *L)
{
	struct view *v = view_self(L);

	if (v->data)
		lua_pushfstring(L, "libbpf.event_view(%s, %d bytes)", v->type,
				(int)v->size);
	else
		lua_pushfstring(L, "libbpf.event_view(%s, outside its callback)",
				v->type);
	return 1;
}

/* The class's getter (class_index's, for what is not a method: all): the
 * class's own metatable takes no view at all. */
static int view_template_index(lua_State *L)
{
	return luaL_typeerror(L, 1, LBPF_VIEW);
}

/* Replace the plan on top with a new view reading through it (the plan is
 * also its user value, which keeps the names of v->slot alive); returns
 * the view. */
static struct view *push_view(lua_State *L, const char *type)
{
	int planidx = lua_gettop(L);
	size_t n = 0, slots = 4;
	struct view *v;

	for (lua_pushnil(L); lua_next(L, planidx); lua_pop(L, 1))
		n++;
	while (slots < 2 * n)
		slots *= 2;
	v = lua_newuserdatauv(L, sizeof(*v) + slots * sizeof(v->slot[0]), 1);
	memset(v, 0, sizeof(*v) + slots * sizeof(v->slot[0]));
	v->mask = slots - 1;
	for (lua_pushnil(L); lua_next(L, planidx); lua_pop(L, 1)) {
		const char *name = lua_tostring(L, -2);  /* keys are strings */
		size_t i = slot_of(v, name);

		while (v->slot[i].name)
			i = (i + 1) & v->mask;
		v->slot[i].name = name;
		v->slot[i].plan = lua_tointeger(L, -1);
	}
	snprintf(v->type, sizeof(v->type), "%s", type);
	lua_pushvalue(L, planidx);
	lua_setiuservalue(L, -2, 1);
	lbpf_set_own_metatable(L, LBPF_VIEW);
	lua_replace(L, planidx);
	return v;
}

/* ---- delivering records (shared by ring and perf buffers) -------------------- */




/* message handler: string errors get a traceback; other values pass */
static int events_traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (msg)
		luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Push the record for the callback; 0 if it cannot be decoded (an error
 * message is pushed instead). */
int lbpf_ev_push_record(lua_State *L, struct decoder *d, const void *data,
			size_t size, const char *tname)
{
	if (d->mode != MODE_RAW && size < d->type_size) {
		lua_pushfstring(L, "%s: record of %d bytes is shorter than its "
				"type (%d bytes)", tname, (int)size,
				(int)d->type_size);
		return 0;
	}
	switch (d->mode) {
	case MODE_CODEC:
		lbpf_codec_decode(L, d->codec, data, size);
		break;
	case MODE_VIEW:
		d->view->data = data;
		d->view->size = size;
		lua_rawgeti(L, LUA_REGISTRYINDEX, d->viewref);
		break;
	default:
		lua_pushlstring(L, data, size);
		break;
	}
	return 1;
}

void lbpf_ev_begin_poll(lua_State *L, struct stream *s)
{
	if (s->in_poll)
		luaL_error(L, "%s: poll/consume called from one of its own "
			   "callbacks", s->tname);
	lua_pushcfunction(L, events_traceback);
	s->msgh = lua_gettop(L);
	s->L = L;
	s->in_poll = 1;
	s->failed = s->stopped = s->interrupted = 0;
	s->count = 0;
	s->seq = lbpf_interrupt_seq;
	lbpf_interrupt_polling++;
}

/* After libbpf returned `ret`: raise a callback's error, or push the count,
 * or nil, "interrupted", EINTR, or the failure. `release` frees the libbpf
 * side when the poller was closed meanwhile. */
int lbpf_ev_end_poll(lua_State *L, struct stream *s, int ret, void *p,
		     void (*release)(lua_State *, void *))
{
	s->in_poll = 0;
	s->L = NULL;
	lbpf_interrupt_polling--;
	if (s->close_pending || s->object_closed)
		release(L, p);
	if (s->failed)
		return lua_error(L);
	if (s->object_closed)
		return luaL_error(L, "%s: %s is closed (the object of its "
				  "map was closed)", s->tname,
				  s->what);
	/* a stop signal during the delivery: reported as during the wait,
	 * even after a callback's stop request, so that the interrupt is
	 * never lost (interrupt.c counts on this result); and one that came
	 * after the last callback, or with none */
	lbpf_ev_note_interrupt(s);
	if (s->interrupted)
		ret = -EINTR;
	if (ret < 0 && ((!s->stopped && !s->close_pending) || s->interrupted)) {
		if (ret == -EINTR) {
			lua_pushnil(L);
			lua_pushliteral(L, "interrupted");
			lua_pushinteger(L, EINTR);
			return 3;
		}
		return lbpf_push_error(L, ret, "%s: poll failed", s->tname);
	}
	lua_pushinteger(L, s->count);
	return 1;
}

/* A closed map's object makes the poller unusable: free it and raise. */
void lbpf_ev_check_sources(lua_State *L, struct source *src, int n,
			   struct stream *s, void *p,
			   void (*release)(lua_State *, void *))
{
	int i;

	for (i = 0; i < n; i++) {
		if (!map_usable(src[i].map)) {
			release(L, p);
			/* the map's name died with its object */
			luaL_error(L, "%s: %s is closed (the object of its "
				   "map was closed)", s->tname,
				   s->what);
		}
	}
}

void lbpf_ev_release_source(lua_State *L, struct source *src)
{
	luaL_unref(L, LUA_REGISTRYINDEX, src->cbref);
	luaL_unref(L, LUA_REGISTRYINDEX, src->batchref);
	src->cbref = src->batchref = LUA_NOREF;
	src->batch = NULL;
	lbpf_ev_release_decoder(L, &src->dec);
}

/* The poll timeout at idx in ms: none or nil or negative = wait until
 * records come (-1), beyond an int raises. */
int lbpf_ev_check_timeout(lua_State *L, int idx)
{
	lua_Integer ms = luaL_optinteger(L, idx, -1);

	luaL_argcheck(L, ms >= INT_MIN && ms <= INT_MAX, idx,
		      "timeout out of range");
	return ms < 0 ? -1 : (int)ms;
}

/* Check that `idx` is a loaded map of `type`; returns its fd. */
int lbpf_ev_check_map(lua_State *L, int idx, __u32 type,
		      const char *who)
{
	struct lbpf_map *m = lbpf_check_map(L, idx);
	int fd = lbpf_map_fd(m);

	if (map_type(m) != type)
		luaL_error(L, "%s: map '%s' is a %s map, not a %s map", who,
			   map_name(m), lbpf_map_type_name(map_type(m)),
			   lbpf_map_type_name(type));
	if (fd < 0)
		luaL_error(L, "%s: map '%s' is not loaded (call obj:load())",
			   who, map_name(m));
	return fd;
}

void lbpf_ev_check_callable(lua_State *L, int idx, const char *what)
{
	if (lua_type(L, idx) != LUA_TFUNCTION &&
	    !luaL_getmetafield(L, idx, "__call"))
		luaL_typeerror(L, idx, what);
	else if (lua_type(L, idx) != LUA_TFUNCTION)
		lua_pop(L, 1);
}

/* ---- registration ---------------------------------------------------------- */

void lbpf_open_events(lua_State *L)
{
	/* the class: every view has a metatable of its own, these functions
	 * as closures over it; the class's have no view and raise */
	static const luaL_Reg meta[] = {
		{"__index", view_index},
		{"__len", view_len},
		{"__tostring", view_tostring},
		{NULL, NULL}
	};
	static const luaL_Reg none[] = {{NULL, NULL}};

	lbpf_new_class(L, LBPF_VIEW, meta + 1, none, view_template_index);
	lbpf_class_bind_keyed(L, LBPF_VIEW, meta);
}
