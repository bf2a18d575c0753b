/*
 * events.c - event streams: `libbpf.ringbuf` (ring_buffer__*),
 * `libbpf.perfbuf` (perf_buffer__*) and `libbpf.user_ringbuf`
 * (user_ring_buffer__*).
 *
 * Lifetimes: a poller's user value 1 is a table holding the map userdata it
 * reads (so their object outlives the poller's libbpf handle). Before every
 * use, and before every record, the poller checks that those maps' objects
 * are still open; when one was closed the libbpf buffer is freed and the
 * poller raises "... is closed". Callbacks are registry references (luv
 * style), released on close/__gc.
 *
 * Ring buffers are read by our own walk of the mapped ring (drain_ring):
 * one lua_pcall with a traceback handler covers a whole poll, callbacks run
 * under lua_call, and poll() raises a callback's error again. Perf buffer
 * callbacks run inside libbpf's poll loop, each under lua_pcall; an error
 * is left on the Lua stack, the rest of libbpf's batch is skipped (perf
 * buffers cannot be stopped) and poll() raises it once libbpf has returned,
 * so no longjmp ever crosses libbpf's frames.
 *
 * Records reach Lua in one of three shapes, chosen once at construction
 * (`struct decoder`): raw bytes (raw=true, or no BTF codec), a fresh value
 * decoded by the BTF codec of btf.c, or a reusable view (view=true): one
 * userdata per source whose fields are read on access through a plan
 * compiled from BTF when the poller was made; it is valid only during the
 * callback. With batch=..., a ring buffer's callback gets many records at
 * once (`struct batch`), read on access or one field at a time (column()).
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

#define LBPF_RINGBUF "libbpf.ringbuf"
#define LBPF_PERFBUF "libbpf.perfbuf"
#define LBPF_USER_RINGBUF "libbpf.user_ringbuf"
#define LBPF_URB_SAMPLE "libbpf.user_ringbuf_sample"
#define LBPF_VIEW "libbpf.event_view"
#define LBPF_BATCH "libbpf.ringbuf_batch"

#define MAX_SOURCES 32

/* ---- decoding plan ------------------------------------------------------- */

enum record_mode { MODE_RAW, MODE_CODEC, MODE_VIEW };

struct decoder {
	int mode;
	const struct lbpf_codec *codec;  /* MODE_CODEC */
	size_t type_size;                /* bytes of the named type, 0 = any */
	int viewref;                     /* MODE_VIEW: registry ref of the view */
	struct view *view;
	const struct btf *btf;           /* the record type, when known */
	__s32 type_id;
	char type[64];
};

/* a view: the current record of one source, read through a field plan */
struct view {
	const unsigned char *data;       /* NULL outside the callback */
	size_t size;
	char type[64];
};

/* plan entries: offset << 16 | size << 4 | kind */
enum field_kind { F_UINT, F_INT, F_BOOL, F_CHARS };

static const char *map_name(const struct lbpf_map *m)
{
	return m->map ? bpf_map__name(m->map) : m->name;
}

static __u32 map_type(const struct lbpf_map *m)
{
	return m->map ? (__u32)bpf_map__type(m->map) : m->type;
}

static int map_usable(const struct lbpf_map *m)
{
	return !m->closed && !(m->owner && m->owner->closed);
}

/* "struct event" -> (STRUCT, "event"); a bare name is any kind */
static __s32 find_type(const struct btf *btf, const char *name)
{
	static const struct { const char *prefix; int kind; } kinds[] = {
		{"struct ", BTF_KIND_STRUCT}, {"union ", BTF_KIND_UNION},
		{"enum ", BTF_KIND_ENUM},
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (strncmp(name, kinds[i].prefix, n) == 0)
			return btf__find_by_name_kind(btf, name + n,
						      kinds[i].kind);
	}
	return btf__find_by_name(btf, name);
}

/* Compile the field table of struct `id` (integers, bools, char arrays at
 * any byte offset; nested aggregates and bitfields are left out) and push
 * it. */
static void push_view_plan(lua_State *L, const struct btf *btf, __u32 id,
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
		} else {
			continue;
		}
		lua_pushinteger(L, off << 16 | size << 4 | kind);
		lua_setfield(L, -2, name);
	}
}

/* Fill `d` from the options at `optidx` ({type=, raw=, view=}) for records
 * of map `m`. `uvidx` is the poller's user value table (holds views). */
static void setup_decoder(lua_State *L, struct decoder *d,
			  const struct lbpf_map *m, int optidx, int uvidx,
			  const char *who)
{
	const char *tname = lbpf_opt_string(L, optidx, "type", NULL);
	int raw = lbpf_opt_boolean(L, optidx, "raw", 0);
	int want_view = lbpf_opt_boolean(L, optidx, "view", 0);
	const struct btf *btf = NULL;
	__s32 id = 0;

	memset(d, 0, sizeof(*d));
	d->viewref = LUA_NOREF;
	if (raw && want_view)
		luaL_error(L, "%s: raw=true and view=true exclude each other",
			   who);
	if (raw)
		return;
	if (m->owner && m->owner->obj)
		btf = bpf_object__btf(m->owner->obj);
	if (tname) {
		if (!btf)
			luaL_error(L, "%s: type '%s': map '%s' has no object BTF",
				   who, tname, map_name(m));
		id = find_type(btf, tname);
		if (id <= 0)
			luaL_error(L, "%s: type '%s' is not in the BTF of map "
				   "'%s'", who, tname, map_name(m));
	} else if (btf && m->map) {
		id = (__s32)bpf_map__btf_value_type_id(m->map);
	}
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

		push_view_plan(L, btf, (__u32)id, who, tname ? tname : "value");
		v = lua_newuserdatauv(L, sizeof(*v), 1);
		memset(v, 0, sizeof(*v));
		snprintf(v->type, sizeof(v->type), "%s", tname ? tname : "value");
		luaL_setmetatable(L, LBPF_VIEW);
		lua_insert(L, -2);
		lua_setiuservalue(L, -2, 1);
		lua_pushvalue(L, -1);
		d->viewref = luaL_ref(L, LUA_REGISTRYINDEX);
		/* also in the user value table, so __gc order never matters */
		lua_rawseti(L, uvidx, (lua_Integer)lua_rawlen(L, uvidx) + 1);
		d->view = v;
		d->mode = MODE_VIEW;
		return;
	}
	d->codec = lbpf_codec_get(L, btf, (__u32)id);
	d->mode = d->codec ? MODE_CODEC : MODE_RAW;
}

static void release_decoder(lua_State *L, struct decoder *d)
{
	luaL_unref(L, LUA_REGISTRYINDEX, d->viewref);
	d->viewref = LUA_NOREF;
	d->view = NULL;
	d->codec = NULL;
	d->btf = NULL;
	d->type_id = 0;
}

/* ---- the view ------------------------------------------------------------- */

static struct view *check_view(lua_State *L)
{
	struct view *v = luaL_checkudata(L, 1, LBPF_VIEW);

	if (!v->data)
		luaL_error(L, "libbpf.event_view: used outside its callback "
			   "(copy the fields you keep)");
	return v;
}

static lua_Integer load_uint(const unsigned char *p, lua_Integer size)
{
	switch (size) {
	case 1: return *p;
	case 2: { __u16 x; memcpy(&x, p, 2); return x; }
	case 4: { __u32 x; memcpy(&x, p, 4); return x; }
	default: { __u64 x; memcpy(&x, p, 8); return (lua_Integer)x; }
	}
}

/* Push field `plan` (see push_view_plan) of the record at data, of
 * `size` bytes; `who` and `name` are for the error. */
static void push_field(lua_State *L, lua_Integer plan,
		       const unsigned char *data, size_t size,
		       const char *who, const char *name)
{
	lua_Integer off = plan >> 16, fsize = (plan >> 4) & 0xfff, x;

	if ((size_t)(off + fsize) > size)
		luaL_error(L, "%s: record of %d bytes is too short for field "
			   "'%s'", who, (int)size, name);
	switch (plan & 0xf) {
	case F_CHARS:
		lua_pushlstring(L, (const char *)data + off,
				strnlen((const char *)data + off, (size_t)fsize));
		break;
	case F_BOOL:
		lua_pushboolean(L, load_uint(data + off, fsize) != 0);
		break;
	case F_INT:
		x = load_uint(data + off, fsize);
		if (fsize < 8)
			x = (lua_Integer)((__u64)x << (64 - fsize * 8)) >> (64 - fsize * 8);
		lua_pushinteger(L, x);
		break;
	default:
		lua_pushinteger(L, load_uint(data + off, fsize));
		break;
	}
}

static int view_index(lua_State *L)
{
	struct view *v = check_view(L);

	lua_getiuservalue(L, 1, 1);
	lua_pushvalue(L, 2);
	if (lua_rawget(L, -2) != LUA_TNUMBER)
		return 0;
	push_field(L, lua_tointeger(L, -1), v->data, v->size,
		   "libbpf.event_view", lua_tostring(L, 2));
	return 1;
}

static int view_len(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)check_view(L)->size);
	return 1;
}

static int view_tostring(lua_State *L)
{
	struct view *v = luaL_checkudata(L, 1, LBPF_VIEW);

	if (v->data)
		lua_pushfstring(L, "libbpf.event_view(%s, %d bytes)", v->type,
				(int)v->size);
	else
		lua_pushfstring(L, "libbpf.event_view(%s, outside its callback)",
				v->type);
	return 1;
}

/* ---- delivering records (shared by ring and perf buffers) -------------------- */

struct stream {
	lua_State *L;         /* the thread running poll, during poll */
	int msgh;             /* stack index of the traceback handler */
	int in_poll;
	int failed;           /* a callback raised: its error is on L's top */
	int stopped;          /* a callback returned a non-zero integer */
	int object_closed;    /* a map's object was closed under us */
	int close_pending;    /* close() called from a callback */
	int closed;
	lua_Integer count;    /* records delivered by this poll */
	const char *tname;    /* "libbpf.ringbuf" */
	const char *what;     /* "ring buffer" */
};

/* a ring buffer's ring, mapped by ring_map (ring buffers only) */
struct ring {
	unsigned long *consumer_pos;
	const unsigned long *producer_pos;
	const unsigned char *data;
	unsigned long mask;       /* data size - 1 */
	size_t page;
	unsigned long pending;    /* position past the record being delivered */
};

struct source {
	struct stream *s;
	struct lbpf_map *map; /* kept alive by the poller's user value */
	int cbref;
	struct decoder dec;
	struct ring ring;
	struct batch *batch;  /* batch=...: records per callback (ring buffers) */
	int batchref;
};

/* message handler: string errors get a traceback; other values pass */
static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (msg)
		luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Push the record for the callback; 0 if it cannot be decoded (an error
 * message is pushed instead). */
static int push_record(lua_State *L, struct decoder *d, const void *data,
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

/* Call `ref` with (cpu,) record; returns non-zero when libbpf should stop. */
static int deliver(struct stream *s, struct source *src, int cpu,
		   const void *data, size_t size)
{
	lua_State *L = s->L;
	int nargs = 1, status, isnum;
	lua_Integer ret;

	if (s->failed || s->stopped || s->close_pending || s->object_closed)
		return 1;
	if (!map_usable(src->map)) {
		s->object_closed = 1;
		return 1;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, src->cbref);
	if (cpu >= 0) {
		lua_pushinteger(L, cpu);
		nargs = 2;
	}
	if (!push_record(L, &src->dec, data, size, s->tname)) {
		lua_remove(L, -1 - nargs);
		s->failed = 1;
		return 1;
	}
	status = lua_pcall(L, nargs, 1, s->msgh);
	if (src->dec.view)
		src->dec.view->data = NULL;
	s->count++;
	if (status != LUA_OK) {
		s->failed = 1;
		return 1;
	}
	ret = lua_tointegerx(L, -1, &isnum);
	lua_pop(L, 1);
	if (isnum && ret != 0)
		s->stopped = 1;
	return s->stopped;
}

static void begin_poll(lua_State *L, struct stream *s)
{
	if (s->in_poll)
		luaL_error(L, "%s: poll/consume called from one of its own "
			   "callbacks", s->tname);
	lua_pushcfunction(L, traceback);
	s->msgh = lua_gettop(L);
	s->L = L;
	s->in_poll = 1;
	s->failed = s->stopped = 0;
	s->count = 0;
}

/* After libbpf returned `ret`: raise a callback's error, or push the count,
 * or nil, "interrupted", EINTR, or the failure. `release` frees the libbpf
 * side when the poller was closed meanwhile. */
static int end_poll(lua_State *L, struct stream *s, int ret, void *p,
		    void (*release)(lua_State *, void *))
{
	s->in_poll = 0;
	s->L = NULL;
	if (s->close_pending || s->object_closed)
		release(L, p);
	if (s->failed)
		return lua_error(L);
	if (s->object_closed)
		return luaL_error(L, "%s: %s is closed (the object of its "
				  "map was closed)", s->tname,
				  s->what);
	if (ret < 0 && !s->stopped && !s->close_pending) {
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
static void check_sources(lua_State *L, struct source *src, int n,
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

static void release_source(lua_State *L, struct source *src)
{
	luaL_unref(L, LUA_REGISTRYINDEX, src->cbref);
	luaL_unref(L, LUA_REGISTRYINDEX, src->batchref);
	src->cbref = src->batchref = LUA_NOREF;
	src->batch = NULL;
	release_decoder(L, &src->dec);
}

/* Check that `idx` is a loaded map of `type`; returns its fd. */
static int check_stream_map(lua_State *L, int idx, __u32 type,
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

static void check_callable(lua_State *L, int idx, const char *what)
{
	if (lua_type(L, idx) != LUA_TFUNCTION &&
	    !luaL_getmetafield(L, idx, "__call"))
		luaL_typeerror(L, idx, what);
	else if (lua_type(L, idx) != LUA_TFUNCTION)
		lua_pop(L, 1);
}

/* ---- libbpf.ringbuf --------------------------------------------------------- */

/*
 * Records are read from the ring directly rather than through
 * ring_buffer__poll: libbpf 1.1 calls back once per record, so each record
 * would pay a lua_pcall (a setjmp and a fresh protected frame), and an error
 * could not leave libbpf's loop any other way. Here one lua_pcall covers a
 * whole poll and callbacks run under lua_call, so an error unwinds only our
 * own frames. libbpf's ring_buffer still owns the epoll set (epoll_fd()).
 *
 * The ring is mapped as libbpf maps it (kernel ABI, linux/bpf.h): page 0
 * holds the consumer position (ours to write), page 1 the producer position,
 * then the data area mapped twice so that a record never wraps. Every record
 * starts with an 8-byte header whose first word is its length plus the BUSY
 * (not yet committed) and DISCARD bits. The consumer position is published
 * only after the record's callback has returned, since the producer may
 * reuse the space as soon as it is published; when a callback raises, poll
 * publishes the position past the record (or batch) that raised.
 */

struct lbpf_ringbuf {
	struct stream s;
	struct ring_buffer *rb;   /* epoll set only */
	struct source *cur;       /* source whose callback is running */
	int nsrc;
	struct source src[MAX_SOURCES];
};

/* a batch (batch=true/N): the records handed to one callback */
struct batch {
	struct source *src;       /* NULL outside the callback */
	int n, cap;
	struct {
		const unsigned char *data;
		__u32 size;
	} rec[];
};

#define BATCH_DEFAULT 4096
#define BATCH_MAX 65536

static const char *const ringbuf_options[] = {
	"type", "raw", "view", "batch", NULL
};

static void ring_unmap(struct ring *rg)
{
	if (rg->consumer_pos)
		munmap(rg->consumer_pos, rg->page);
	if (rg->producer_pos)
		munmap((void *)rg->producer_pos, rg->page + 2 * (rg->mask + 1));
	memset(rg, 0, sizeof(*rg));
}

/* Map the ring of ring buffer map `fd`; 0 or a negative errno. */
static int ring_map(struct ring *rg, int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	memset(&info, 0, sizeof(info));
	memset(rg, 0, sizeof(*rg));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (!info.max_entries || (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	rg->page = page;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	rg->consumer_pos = p;
	p = mmap(NULL, page + 2 * (size_t)info.max_entries, PROT_READ,
		 MAP_SHARED, fd, (off_t)page);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(rg->consumer_pos, page);
		rg->consumer_pos = NULL;
		return err;
	}
	rg->producer_pos = p;
	rg->data = (const unsigned char *)p + page;
	rg->mask = info.max_entries - 1;
	return 0;
}

static void ringbuf_release(lua_State *L, void *p)
{
	struct lbpf_ringbuf *r = p;
	int i;

	if (r->s.in_poll) {        /* close() inside a callback: after poll */
		r->s.close_pending = 1;
		return;
	}
	if (r->rb)
		ring_buffer__free(r->rb);
	r->rb = NULL;
	for (i = 0; i < r->nsrc; i++) {
		ring_unmap(&r->src[i].ring);
		release_source(L, &r->src[i]);
	}
	r->nsrc = 0;
	r->s.closed = 1;
}

static struct lbpf_ringbuf *check_ringbuf(lua_State *L, int idx)
{
	struct lbpf_ringbuf *r = luaL_checkudata(L, idx, LBPF_RINGBUF);

	if (r->s.closed || r->s.close_pending || !r->rb)
		luaL_error(L, "libbpf.ringbuf: ring buffer is closed");
	check_sources(L, r->src, r->nsrc, &r->s, r, ringbuf_release);
	return r;
}

/* libbpf's sample callback: never called, records are read by drain_ring */
static int ringbuf_unused_sample(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

/* Push a batch userdata of `cap` records for records decoded by `d`; its
 * user value is the field plan of d's struct type (for column()), if any. */
static struct batch *push_batch(lua_State *L, int cap, const struct decoder *d)
{
	struct batch *b = lua_newuserdatauv(L, sizeof(*b) +
					    (size_t)cap * sizeof(b->rec[0]), 1);
	const struct btf_type *t = d->type_id > 0
		? btf__type_by_id(d->btf, (__u32)d->type_id) : NULL;

	b->src = NULL;
	b->n = 0;
	b->cap = cap;
	luaL_setmetatable(L, LBPF_BATCH);
	if (t && btf_is_struct(t)) {
		push_view_plan(L, d->btf, (__u32)d->type_id, LBPF_RINGBUF,
			       d->type);
		lua_setiuservalue(L, -2, 1);
	}
	return b;
}

/* Add map at mapidx with callback at cbidx and options at optidx to the
 * ring buffer at ridx; returns 0 or pushes nil, msg, errno and returns 3. */
static int ringbuf_add_source(lua_State *L, struct lbpf_ringbuf *r, int ridx,
			      int mapidx, int cbidx, int optidx)
{
	int fd = check_stream_map(L, mapidx, BPF_MAP_TYPE_RINGBUF,
				  LBPF_RINGBUF);
	struct source *src;
	lua_Integer cap = 0;
	int err, uvidx;

	check_callable(L, cbidx, "function");
	lbpf_check_options(L, optidx, "ringbuf", ringbuf_options);
	if (lua_istable(L, optidx)) {
		lua_getfield(L, optidx, "batch");
		if (lua_isboolean(L, -1))
			cap = lua_toboolean(L, -1) ? BATCH_DEFAULT : 0;
		else if (!lua_isnil(L, -1) &&
			 ((cap = lbpf_opt_integer(L, optidx, "batch", 0)) < 1))
			cap = -1;
		lua_pop(L, 1);
		if (cap < 0 || cap > BATCH_MAX)
			luaL_error(L, "libbpf.ringbuf: batch must be true, "
				   "false or 1..%d records", BATCH_MAX);
	}
	if (r->nsrc == MAX_SOURCES)
		luaL_error(L, "libbpf.ringbuf: more than %d maps in one ring "
			   "buffer", MAX_SOURCES);
	lua_getiuservalue(L, ridx, 1);
	uvidx = lua_gettop(L);
	src = &r->src[r->nsrc];
	memset(src, 0, sizeof(*src));
	src->cbref = src->batchref = LUA_NOREF;
	src->s = &r->s;
	src->map = lua_touserdata(L, mapidx);
	setup_decoder(L, &src->dec, src->map, optidx, uvidx, LBPF_RINGBUF);
	if (cap) {
		src->batch = push_batch(L, (int)cap, &src->dec);
		lua_pushvalue(L, -1);
		src->batchref = luaL_ref(L, LUA_REGISTRYINDEX);
		/* in the user value table too, so __gc order never matters */
		lua_rawseti(L, uvidx, (lua_Integer)lua_rawlen(L, uvidx) + 1);
	}
	err = ring_map(&src->ring, fd);
	if (!err) {
		errno = 0;
		if (!r->rb) {
			r->rb = ring_buffer__new(fd, ringbuf_unused_sample,
						 NULL, NULL);
			err = r->rb ? 0 : lbpf_errno(0);
		} else {
			err = ring_buffer__add(r->rb, fd, ringbuf_unused_sample,
					       NULL);
		}
		if (err)
			ring_unmap(&src->ring);
	}
	if (err) {
		release_source(L, src);
		return lbpf_push_error(L, err, "libbpf.ringbuf: ring buffer "
				       "on map '%s' failed", map_name(src->map));
	}
	lua_pushvalue(L, cbidx);
	src->cbref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushvalue(L, mapidx);  /* keeps the map, hence its object */
	lua_rawseti(L, uvidx, (lua_Integer)lua_rawlen(L, uvidx) + 1);
	lua_settop(L, uvidx - 1);
	r->nsrc++;
	return 0;
}

/* bpf.ringbuf(map, cb [, {type=, raw=, view=, batch=}]) */
static int l_ringbuf(lua_State *L)
{
	struct lbpf_ringbuf *r;
	int n;

	lua_settop(L, 3);
	lbpf_check_map(L, 1);
	r = lua_newuserdatauv(L, sizeof(*r), 1);
	memset(r, 0, sizeof(*r));
	r->s.tname = LBPF_RINGBUF;
	r->s.what = "ring buffer";
	luaL_setmetatable(L, LBPF_RINGBUF);
	lua_newtable(L);
	lua_setiuservalue(L, -2, 1);
	n = ringbuf_add_source(L, r, lua_gettop(L), 1, 2, 3);
	if (n) {
		r->s.closed = 1;
		return n;
	}
	return 1;
}

/* rb:add(map, cb [, opts]) -> rb */
static int rb_add(lua_State *L)
{
	struct lbpf_ringbuf *r = check_ringbuf(L, 1);
	int n;

	lua_settop(L, 4);
	n = ringbuf_add_source(L, r, 1, 2, 3, 4);

	if (n)
		return n;
	lua_settop(L, 1);
	return 1;
}

/* bytes a record of header word `len` takes in the ring, header included */
static unsigned long record_span(__u32 len)
{
	len &= ~(__u32)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
	return ((unsigned long)len + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
}

/* After a callback returned (its result on top): note a stop request and a
 * closed object, pop the result. */
static void after_callback(lua_State *L, struct stream *s, struct source *src)
{
	int isnum;
	lua_Integer ret = lua_tointegerx(L, -1, &isnum);

	lua_pop(L, 1);
	if (isnum && ret != 0)
		s->stopped = 1;
	if (!map_usable(src->map))
		s->object_closed = 1;
}

/* Call the callback at cbidx with one record. */
static void call_one(lua_State *L, struct lbpf_ringbuf *r, struct source *src,
		     int cbidx, const unsigned char *data, __u32 size)
{
	r->cur = src;  /* a record that cannot be decoded is consumed too */
	lua_pushvalue(L, cbidx);
	if (!push_record(L, &src->dec, data, size, r->s.tname))
		lua_error(L);
	lua_call(L, 1, 1);
	r->cur = NULL;
	if (src->dec.view)
		src->dec.view->data = NULL;
	r->s.count++;
	after_callback(L, &r->s, src);
}

/* Call the callback at cbidx with the batch of src (not empty). */
static void call_batch(lua_State *L, struct lbpf_ringbuf *r,
		       struct source *src, int cbidx)
{
	struct batch *b = src->batch;

	lua_pushvalue(L, cbidx);
	lua_pushvalue(L, cbidx + 1);
	b->src = src;
	r->cur = src;
	lua_call(L, 1, 1);
	r->cur = NULL;
	b->src = NULL;
	if (src->dec.view)
		src->dec.view->data = NULL;
	r->s.count += b->n;
	b->n = 0;
	after_callback(L, &r->s, src);
}

static int must_stop(const struct stream *s)
{
	return s->stopped || s->close_pending || s->object_closed;
}

/* Deliver every committed record of one source (libbpf's
 * ringbuf_process_ring, with batches). */
static void drain_ring(lua_State *L, struct lbpf_ringbuf *r,
		       struct source *src)
{
	struct ring *rg = &src->ring;
	struct batch *b = src->batch;
	unsigned long cons, prod;
	int cbidx, more;

	lua_rawgeti(L, LUA_REGISTRYINDEX, src->cbref);
	cbidx = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, src->batchref);  /* cbidx + 1 */
	cons = __atomic_load_n(rg->consumer_pos, __ATOMIC_ACQUIRE);
	do {
		more = 0;
		prod = __atomic_load_n(rg->producer_pos, __ATOMIC_ACQUIRE);
		while (cons < prod) {
			const unsigned char *hdr = rg->data + (cons & rg->mask);
			__u32 len = __atomic_load_n((const __u32 *)hdr,
						    __ATOMIC_ACQUIRE);

			if (len & BPF_RINGBUF_BUSY_BIT)
				goto done;
			more = 1;
			cons += record_span(len);
			rg->pending = cons;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				if (b) {
					b->rec[b->n].data = hdr + BPF_RINGBUF_HDR_SZ;
					b->rec[b->n].size = len;
					if (++b->n < b->cap)
						continue;
					call_batch(L, r, src, cbidx);
				} else {
					call_one(L, r, src, cbidx,
						 hdr + BPF_RINGBUF_HDR_SZ, len);
				}
			} else if (b && b->n) {
				continue;     /* published with the batch */
			}
			__atomic_store_n(rg->consumer_pos, cons,
					 __ATOMIC_RELEASE);
			if (must_stop(&r->s))
				goto done;
		}
	} while (more);
done:
	if (b && b->n && !must_stop(&r->s)) {
		call_batch(L, r, src, cbidx);
		__atomic_store_n(rg->consumer_pos, rg->pending,
				 __ATOMIC_RELEASE);
	}
	lua_settop(L, cbidx - 1);
}

/* lua_pcall'ed by run_drain: (ring buffer) -> drains every source */
static int drain_all(lua_State *L)
{
	struct lbpf_ringbuf *r = lua_touserdata(L, 1);
	int i;

	for (i = 0; i < r->nsrc && !must_stop(&r->s); i++)
		drain_ring(L, r, &r->src[i]);
	return 0;
}

/* Drain under one protected call; a callback's error is left on top with
 * s->failed set, and the record or batch that raised counts as consumed. */
static void run_drain(lua_State *L, struct lbpf_ringbuf *r)
{
	struct source *src;
	int i;

	lua_pushcfunction(L, drain_all);
	lua_pushlightuserdata(L, r);
	if (lua_pcall(L, 1, 0, r->s.msgh) == LUA_OK)
		return;
	r->s.failed = 1;
	src = r->cur;
	r->cur = NULL;
	if (src)
		__atomic_store_n(src->ring.consumer_pos, src->ring.pending,
				 __ATOMIC_RELEASE);
	for (i = 0; i < r->nsrc; i++) {
		if (r->src[i].dec.view)
			r->src[i].dec.view->data = NULL;
		if (r->src[i].batch) {
			r->src[i].batch->n = 0;
			r->src[i].batch->src = NULL;
		}
	}
}

/* rb:poll([timeout_ms]) -> count | nil, "interrupted", EINTR */
static int rb_poll(lua_State *L)
{
	struct lbpf_ringbuf *r = check_ringbuf(L, 1);
	int ms = (int)luaL_optinteger(L, 2, -1);
	struct epoll_event ev[MAX_SOURCES];
	int ret;

	begin_poll(L, &r->s);
	ret = epoll_wait(ring_buffer__epoll_fd(r->rb), ev, MAX_SOURCES, ms);
	if (ret < 0)
		ret = -errno;
	else
		run_drain(L, r);
	return end_poll(L, &r->s, ret, r, ringbuf_release);
}

/* rb:consume() -> count: whatever is ready, without waiting */
static int rb_consume(lua_State *L)
{
	struct lbpf_ringbuf *r = check_ringbuf(L, 1);

	begin_poll(L, &r->s);
	run_drain(L, r);
	return end_poll(L, &r->s, 0, r, ringbuf_release);
}

static int rb_epoll_fd(lua_State *L)
{
	lua_pushinteger(L, ring_buffer__epoll_fd(check_ringbuf(L, 1)->rb));
	return 1;
}

static int rb_close(lua_State *L)
{
	ringbuf_release(L, luaL_checkudata(L, 1, LBPF_RINGBUF));
	return 0;
}

static int rb_tostring(lua_State *L)
{
	struct lbpf_ringbuf *r = luaL_checkudata(L, 1, LBPF_RINGBUF);
	luaL_Buffer b;
	int i;

	if (r->s.closed || !r->rb) {
		lua_pushliteral(L, "libbpf.ringbuf (closed)");
		return 1;
	}
	luaL_buffinit(L, &b);
	luaL_addstring(&b, "libbpf.ringbuf(");
	for (i = 0; i < r->nsrc; i++) {
		if (i)
			luaL_addstring(&b, ", ");
		luaL_addstring(&b, map_name(r->src[i].map));
	}
	lua_pushfstring(L, ", epoll_fd=%d)", ring_buffer__epoll_fd(r->rb));
	luaL_addvalue(&b);
	luaL_pushresult(&b);
	return 1;
}

/* ---- the batch --------------------------------------------------------------- */

static struct batch *check_batch(lua_State *L)
{
	struct batch *b = luaL_checkudata(L, 1, LBPF_BATCH);

	if (!b->src)
		luaL_error(L, "libbpf.ringbuf_batch: used outside its callback");
	return b;
}

/* b[i]: record i in the source's shape; nil past the end (ipairs stops) */
static int batch_index(lua_State *L)
{
	struct batch *b = check_batch(L);
	int isnum;
	lua_Integer i = lua_tointegerx(L, 2, &isnum);

	if (!isnum) {   /* a method: the closure's upvalue holds them */
		lua_pushvalue(L, 2);
		lua_rawget(L, lua_upvalueindex(1));
		return 1;
	}
	if (i < 1 || i > b->n)
		return 0;
	if (!push_record(L, &b->src->dec, b->rec[i - 1].data,
			 b->rec[i - 1].size, LBPF_RINGBUF))
		return lua_error(L);
	return 1;
}

/* b:column(field [, into]) -> array of `field` of every record, in `into`
 * (reused: its entries past #b are cleared) or a new table */
static int batch_column(lua_State *L)
{
	struct batch *b = check_batch(L);
	const char *name = luaL_checkstring(L, 2);
	const char *who = "libbpf.ringbuf_batch";
	lua_Integer plan;
	int i;

	if (lua_isnoneornil(L, 3))
		lua_createtable(L, b->n, 0);
	else
		luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE)
		return luaL_error(L, "%s: column() needs records of a struct "
				  "type (type=..., not raw=true)", who);
	lua_pushvalue(L, 2);
	if (lua_rawget(L, -2) != LUA_TNUMBER)
		return luaL_error(L, "%s: %s has no field '%s' of integer, bool "
				  "or char[] type", who, b->src->dec.type, name);
	plan = lua_tointeger(L, -1);
	lua_settop(L, 3);
	for (i = 0; i < b->n; i++) {
		push_field(L, plan, b->rec[i].data, b->rec[i].size, who, name);
		lua_rawseti(L, 3, i + 1);
	}
	for (i = b->n + 1; lua_rawgeti(L, 3, i) != LUA_TNIL; i++) {
		lua_pushnil(L);
		lua_rawseti(L, 3, i);
		lua_pop(L, 1);
	}
	lua_settop(L, 3);
	return 1;
}

static int batch_len(lua_State *L)
{
	lua_pushinteger(L, check_batch(L)->n);
	return 1;
}

static int batch_tostring(lua_State *L)
{
	struct batch *b = luaL_checkudata(L, 1, LBPF_BATCH);

	if (b->src)
		lua_pushfstring(L, "libbpf.ringbuf_batch(%d records)", b->n);
	else
		lua_pushliteral(L, "libbpf.ringbuf_batch (outside its callback)");
	return 1;
}

/* ---- libbpf.perfbuf ------------------------------------------------------------ */

struct lbpf_perfbuf {
	struct stream s;
	struct perf_buffer *pb;
	struct source src;
	int lostref;
	lua_Integer lost;     /* samples the kernel dropped, all polls */
};

static const char *const perfbuf_options[] = {
	"type", "raw", "view", "pages", "on_sample", "on_lost", NULL
};

static void perfbuf_release(lua_State *L, void *p)
{
	struct lbpf_perfbuf *pb = p;

	if (pb->s.in_poll) {
		pb->s.close_pending = 1;
		return;
	}
	if (pb->pb)
		perf_buffer__free(pb->pb);
	pb->pb = NULL;
	release_source(L, &pb->src);
	luaL_unref(L, LUA_REGISTRYINDEX, pb->lostref);
	pb->lostref = LUA_NOREF;
	pb->s.closed = 1;
}

static struct lbpf_perfbuf *check_perfbuf(lua_State *L, int idx)
{
	struct lbpf_perfbuf *pb = luaL_checkudata(L, idx, LBPF_PERFBUF);

	if (pb->s.closed || pb->s.close_pending || !pb->pb)
		luaL_error(L, "libbpf.perfbuf: perf buffer is closed");
	check_sources(L, &pb->src, 1, &pb->s, pb, perfbuf_release);
	return pb;
}

/* perf buffers cannot be told to stop: after an error or a stop the rest
 * of the batch is skipped (those samples are lost) */
static void perfbuf_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct lbpf_perfbuf *pb = ctx;

	deliver(&pb->s, &pb->src, cpu, data, size);
}

static void perfbuf_lost(void *ctx, int cpu, __u64 cnt)
{
	struct lbpf_perfbuf *pb = ctx;
	struct stream *s = &pb->s;
	lua_State *L = s->L;

	pb->lost += (lua_Integer)cnt;
	if (pb->lostref == LUA_NOREF || s->failed || s->close_pending ||
	    s->object_closed)
		return;
	lua_rawgeti(L, LUA_REGISTRYINDEX, pb->lostref);
	lua_pushinteger(L, cpu);
	lua_pushinteger(L, (lua_Integer)cnt);
	if (lua_pcall(L, 2, 0, s->msgh) != LUA_OK)
		s->failed = 1;
}

/* bpf.perfbuf(map, {on_sample=, on_lost=, pages=, type=, raw=, view=}) */
static int l_perfbuf(lua_State *L)
{
	int fd = check_stream_map(L, 1, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
				  LBPF_PERFBUF);
	struct lbpf_perfbuf *pb;
	lua_Integer pages;
	int pbidx;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "perfbuf", perfbuf_options);
	pages = lbpf_opt_integer(L, 2, "pages", 8);
	if (pages <= 0 || (pages & (pages - 1)))
		luaL_error(L, "libbpf.perfbuf: pages must be a power of 2, "
			   "not %d", (int)pages);
	lua_getfield(L, 2, "on_sample");
	check_callable(L, -1, "on_sample function");
	lua_getfield(L, 2, "on_lost");
	if (!lua_isnil(L, -1))
		check_callable(L, -1, "on_lost function");
	pb = lua_newuserdatauv(L, sizeof(*pb), 1);
	memset(pb, 0, sizeof(*pb));
	pb->s.tname = LBPF_PERFBUF;
	pb->s.what = "perf buffer";
	pb->src.cbref = pb->src.dec.viewref = pb->lostref = LUA_NOREF;
	pb->src.batchref = LUA_NOREF;
	pb->s.closed = 1;          /* until perf_buffer__new succeeds */
	luaL_setmetatable(L, LBPF_PERFBUF);
	pbidx = lua_gettop(L);
	lua_createtable(L, 2, 0);
	lua_pushvalue(L, 1);
	lua_rawseti(L, -2, 1);
	lua_pushvalue(L, -1);
	lua_setiuservalue(L, pbidx, 1);
	pb->src.s = &pb->s;
	pb->src.map = lua_touserdata(L, 1);
	setup_decoder(L, &pb->src.dec, pb->src.map, 2, lua_gettop(L),
		      LBPF_PERFBUF);
	errno = 0;
	pb->pb = perf_buffer__new(fd, (size_t)pages, perfbuf_sample,
				  perfbuf_lost, pb, NULL);
	if (!pb->pb) {
		int err = lbpf_errno(0);

		release_decoder(L, &pb->src.dec);
		return lbpf_push_error(L, err, "libbpf.perfbuf: perf buffer on "
				       "map '%s' failed", map_name(pb->src.map));
	}
	pb->s.closed = 0;
	lua_getfield(L, 2, "on_sample");
	pb->src.cbref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_getfield(L, 2, "on_lost");
	pb->lostref = luaL_ref(L, LUA_REGISTRYINDEX); /* nil -> LUA_REFNIL */
	if (pb->lostref == LUA_REFNIL)
		pb->lostref = LUA_NOREF;
	lua_settop(L, pbidx);
	return 1;
}

static int pb_poll(lua_State *L)
{
	struct lbpf_perfbuf *pb = check_perfbuf(L, 1);
	int ms = (int)luaL_optinteger(L, 2, -1);
	int ret;

	begin_poll(L, &pb->s);
	ret = perf_buffer__poll(pb->pb, ms);
	return end_poll(L, &pb->s, ret, pb, perfbuf_release);
}

static int pb_consume(lua_State *L)
{
	struct lbpf_perfbuf *pb = check_perfbuf(L, 1);
	int ret;

	begin_poll(L, &pb->s);
	ret = perf_buffer__consume(pb->pb);
	return end_poll(L, &pb->s, ret, pb, perfbuf_release);
}

static int pb_epoll_fd(lua_State *L)
{
	lua_pushinteger(L, perf_buffer__epoll_fd(check_perfbuf(L, 1)->pb));
	return 1;
}

static int pb_close(lua_State *L)
{
	perfbuf_release(L, luaL_checkudata(L, 1, LBPF_PERFBUF));
	return 0;
}

static int pb_tostring(lua_State *L)
{
	struct lbpf_perfbuf *pb = luaL_checkudata(L, 1, LBPF_PERFBUF);

	if (pb->s.closed || !pb->pb)
		lua_pushliteral(L, "libbpf.perfbuf (closed)");
	else
		lua_pushfstring(L, "libbpf.perfbuf(%s, %d cpus, lost=%I)",
				map_name(pb->src.map),
				(int)perf_buffer__buffer_cnt(pb->pb), pb->lost);
	return 1;
}

/* pb.lost: samples the kernel dropped so far */
static int pb_getter(lua_State *L)
{
	struct lbpf_perfbuf *pb = lua_touserdata(L, 1);
	const char *key = lua_tostring(L, 2);

	if (key && strcmp(key, "lost") == 0) {
		lua_pushinteger(L, pb->lost);
		return 1;
	}
	return 0;
}

/* ---- libbpf.user_ringbuf ---------------------------------------------------- */

struct lbpf_user_ringbuf {
	struct user_ring_buffer *urb;
	struct lbpf_map *map;      /* kept by user value 1 */
	struct decoder enc;        /* codec + type size for tables */
};

struct urb_sample {
	void *data;                /* NULL once submitted or discarded */
	__u32 size;
};

static const char *const user_ringbuf_options[] = {"type", NULL};

static void urb_release(struct lbpf_user_ringbuf *u)
{
	if (u->urb)
		user_ring_buffer__free(u->urb);
	u->urb = NULL;
}

static struct lbpf_user_ringbuf *check_urb(lua_State *L, int idx)
{
	struct lbpf_user_ringbuf *u = luaL_checkudata(L, idx, LBPF_USER_RINGBUF);

	if (!u->urb)
		luaL_error(L, "libbpf.user_ringbuf: ring buffer is closed");
	if (!map_usable(u->map)) {
		urb_release(u);
		luaL_error(L, "libbpf.user_ringbuf: ring buffer is closed (the "
			   "object of its map was closed)");
	}
	return u;
}

/* bpf.user_ringbuf(map [, {type=}]) */
static int l_user_ringbuf(lua_State *L)
{
	int fd = check_stream_map(L, 1, BPF_MAP_TYPE_USER_RINGBUF,
				  LBPF_USER_RINGBUF);
	struct lbpf_user_ringbuf *u;
	int err;

	lua_settop(L, 2);
	lbpf_check_options(L, 2, "user_ringbuf", user_ringbuf_options);
	u = lua_newuserdatauv(L, sizeof(*u), 1);
	memset(u, 0, sizeof(*u));
	luaL_setmetatable(L, LBPF_USER_RINGBUF);
	lua_newtable(L);
	lua_pushvalue(L, 1);
	lua_rawseti(L, -2, 1);
	lua_setiuservalue(L, -2, 1);
	u->map = lua_touserdata(L, 1);
	lua_newtable(L);   /* views are not offered here: a scratch table */
	setup_decoder(L, &u->enc, u->map, 2, lua_gettop(L), LBPF_USER_RINGBUF);
	lua_pop(L, 1);
	errno = 0;
	u->urb = user_ring_buffer__new(fd, NULL);
	if (!u->urb) {
		err = lbpf_errno(0);
		return lbpf_push_error(L, err, "libbpf.user_ringbuf: user ring "
				       "buffer on map '%s' failed",
				       map_name(u->map));
	}
	return 1;
}

/* Encode the value at idx into `size` bytes at `dst`: a string is copied
 * (and must fit), a table goes through the BTF codec. */
static void encode_record(lua_State *L, struct lbpf_user_ringbuf *u, int idx,
			  void *dst, size_t size)
{
	size_t len;
	const char *s;

	if (lua_type(L, idx) == LUA_TSTRING) {
		s = lua_tolstring(L, idx, &len);
		if (len > size)
			luaL_error(L, "libbpf.user_ringbuf: record of %d bytes "
				   "does not fit in %d bytes", (int)len,
				   (int)size);
		memcpy(dst, s, len);
		memset((char *)dst + len, 0, size - len);
		return;
	}
	if (u->enc.mode != MODE_CODEC)
		luaL_error(L, "libbpf.user_ringbuf: writing a %s needs a BTF "
			   "type (type=...) and its codec; write a string of "
			   "bytes instead", luaL_typename(L, idx));
	lbpf_codec_encode(L, idx, u->enc.codec, dst, size, "record");
}

/* size of the record for the value at idx */
static size_t record_size(lua_State *L, struct lbpf_user_ringbuf *u, int idx)
{
	if (lua_type(L, idx) == LUA_TSTRING)
		return lua_rawlen(L, idx);
	if (!u->enc.type_size)
		luaL_error(L, "libbpf.user_ringbuf: writing a %s needs a BTF "
			   "type (type=...)", luaL_typename(L, idx));
	return u->enc.type_size;
}

/* ur:write(value) -> true | nil, msg, errno (ENOSPC when full) */
static int urb_write(lua_State *L)
{
	struct lbpf_user_ringbuf *u = check_urb(L, 1);
	size_t size;
	void *tmp, *sample;

	luaL_checkany(L, 2);
	size = record_size(L, u, 2);
	/* encode first: an encoding error must not leave a reservation */
	tmp = lua_newuserdatauv(L, size ? size : 1, 0);
	encode_record(L, u, 2, tmp, size);
	errno = 0;
	sample = user_ring_buffer__reserve(u->urb, (__u32)size);
	if (!sample)
		return lbpf_push_error(L, lbpf_errno(0), "libbpf.user_ringbuf: "
				       "reserve of %d bytes on map '%s' failed",
				       (int)size, map_name(u->map));
	memcpy(sample, tmp, size);
	user_ring_buffer__submit(u->urb, sample);
	lua_pushboolean(L, 1);
	return 1;
}

/* ur:reserve(size) -> sample | nil, msg, errno */
static int urb_reserve(lua_State *L)
{
	struct lbpf_user_ringbuf *u = check_urb(L, 1);
	lua_Integer size = luaL_checkinteger(L, 2);
	struct urb_sample *s;
	void *data;

	luaL_argcheck(L, size > 0 && size < (1 << 30), 2, "size out of range");
	errno = 0;
	data = user_ring_buffer__reserve(u->urb, (__u32)size);
	if (!data)
		return lbpf_push_error(L, lbpf_errno(0), "libbpf.user_ringbuf: "
				       "reserve of %d bytes on map '%s' failed",
				       (int)size, map_name(u->map));
	s = lua_newuserdatauv(L, sizeof(*s), 1);
	s->data = data;
	s->size = (__u32)size;
	luaL_setmetatable(L, LBPF_URB_SAMPLE);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	return 1;
}

/* the pending sample at idx, reserved from the user ring buffer at 1 */
static struct urb_sample *check_sample(lua_State *L, int idx)
{
	struct urb_sample *s = luaL_checkudata(L, idx, LBPF_URB_SAMPLE);

	lua_getiuservalue(L, idx, 1);
	luaL_argcheck(L, lua_rawequal(L, -1, 1), idx,
		      "sample reserved from another user ring buffer");
	lua_pop(L, 1);
	if (!s->data)
		luaL_error(L, "libbpf.user_ringbuf: sample already submitted "
			   "or discarded");
	return s;
}

/* ur:submit(sample [, value]) */
static int urb_submit(lua_State *L)
{
	struct lbpf_user_ringbuf *u = check_urb(L, 1);
	struct urb_sample *s = check_sample(L, 2);
	void *tmp;

	if (!lua_isnoneornil(L, 3)) {
		tmp = lua_newuserdatauv(L, s->size, 0);
		encode_record(L, u, 3, tmp, s->size);
		memcpy(s->data, tmp, s->size);
	}
	user_ring_buffer__submit(u->urb, s->data);
	s->data = NULL;
	return 0;
}

static int urb_discard(lua_State *L)
{
	struct lbpf_user_ringbuf *u = check_urb(L, 1);
	struct urb_sample *s = check_sample(L, 2);

	user_ring_buffer__discard(u->urb, s->data);
	s->data = NULL;
	return 0;
}

static int urb_close(lua_State *L)
{
	urb_release(luaL_checkudata(L, 1, LBPF_USER_RINGBUF));
	return 0;
}

static int urb_tostring(lua_State *L)
{
	struct lbpf_user_ringbuf *u = luaL_checkudata(L, 1, LBPF_USER_RINGBUF);

	if (!u->urb)
		lua_pushliteral(L, "libbpf.user_ringbuf (closed)");
	else
		lua_pushfstring(L, "libbpf.user_ringbuf(%s)", map_name(u->map));
	return 1;
}

/* a sample dropped without submit is discarded, so the ring never sticks */
static int sample_gc(lua_State *L)
{
	struct urb_sample *s = luaL_checkudata(L, 1, LBPF_URB_SAMPLE);
	struct lbpf_user_ringbuf *u;

	if (!s->data)
		return 0;
	lua_getiuservalue(L, 1, 1);
	u = lua_touserdata(L, -1);
	if (u && u->urb && map_usable(u->map))
		user_ring_buffer__discard(u->urb, s->data);
	s->data = NULL;
	return 0;
}

static int sample_len(lua_State *L)
{
	struct urb_sample *s = luaL_checkudata(L, 1, LBPF_URB_SAMPLE);

	lua_pushinteger(L, s->size);
	return 1;
}

static int sample_tostring(lua_State *L)
{
	struct urb_sample *s = luaL_checkudata(L, 1, LBPF_URB_SAMPLE);

	lua_pushfstring(L, "libbpf.user_ringbuf_sample(%d bytes%s)",
			(int)s->size, s->data ? "" : ", done");
	return 1;
}

/* ---- registration ---------------------------------------------------------- */

void lbpf_open_events(lua_State *L)
{
	static const luaL_Reg rb_meta[] = {
		{"__gc", rb_close}, {"__close", rb_close},
		{"__tostring", rb_tostring}, {NULL, NULL}
	};
	static const luaL_Reg rb_methods[] = {
		{"poll", rb_poll}, {"consume", rb_consume},
		{"epoll_fd", rb_epoll_fd}, {"add", rb_add},
		{"close", rb_close}, {NULL, NULL}
	};
	static const luaL_Reg pb_meta[] = {
		{"__gc", pb_close}, {"__close", pb_close},
		{"__tostring", pb_tostring}, {NULL, NULL}
	};
	static const luaL_Reg pb_methods[] = {
		{"poll", pb_poll}, {"consume", pb_consume},
		{"epoll_fd", pb_epoll_fd}, {"close", pb_close}, {NULL, NULL}
	};
	static const luaL_Reg urb_meta[] = {
		{"__gc", urb_close}, {"__close", urb_close},
		{"__tostring", urb_tostring}, {NULL, NULL}
	};
	static const luaL_Reg urb_methods[] = {
		{"write", urb_write}, {"reserve", urb_reserve},
		{"submit", urb_submit}, {"discard", urb_discard},
		{"close", urb_close}, {NULL, NULL}
	};
	static const luaL_Reg sample_meta[] = {
		{"__gc", sample_gc}, {"__len", sample_len},
		{"__tostring", sample_tostring}, {NULL, NULL}
	};
	static const luaL_Reg view_meta[] = {
		{"__index", view_index}, {"__len", view_len},
		{"__tostring", view_tostring}, {NULL, NULL}
	};
	static const luaL_Reg batch_meta[] = {
		{"__len", batch_len}, {"__tostring", batch_tostring},
		{NULL, NULL}
	};
	static const luaL_Reg batch_methods[] = {
		{"column", batch_column}, {NULL, NULL}
	};
	static const luaL_Reg none[] = {{NULL, NULL}};
	static const luaL_Reg funcs[] = {
		{"ringbuf", l_ringbuf}, {"perfbuf", l_perfbuf},
		{"user_ringbuf", l_user_ringbuf}, {NULL, NULL}
	};

	lbpf_new_class(L, LBPF_RINGBUF, rb_meta, rb_methods, NULL);
	lbpf_new_class(L, LBPF_PERFBUF, pb_meta, pb_methods, pb_getter);
	lbpf_new_class(L, LBPF_USER_RINGBUF, urb_meta, urb_methods, NULL);
	lbpf_new_class(L, LBPF_URB_SAMPLE, sample_meta, none, NULL);
	/* the view's own __index replaces the method table one */
	luaL_newmetatable(L, LBPF_VIEW);
	luaL_setfuncs(L, view_meta, 0);
	lua_pop(L, 1);
	luaL_newmetatable(L, LBPF_BATCH);
	luaL_setfuncs(L, batch_meta, 0);
	luaL_newlib(L, batch_methods);
	lua_pushcclosure(L, batch_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_setfuncs(L, funcs, 0);
}
