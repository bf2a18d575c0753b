/*
 * ringbuf.c - `libbpf.ringbuf`: BPF ring buffer maps read by Lua callbacks,
 * one record or one batch (`libbpf.ringbuf_batch`) per call.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "events.h"
#include "print.h"

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
	"type", "btf", "raw", "view", "batch", "fields", NULL
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
		lbpf_ev_release_source(L, &r->src[i]);
	}
	r->nsrc = 0;
	r->s.closed = 1;
}

static struct lbpf_ringbuf *check_ringbuf(lua_State *L, int idx)
{
	struct lbpf_ringbuf *r = luaL_checkudata(L, idx, LBPF_RINGBUF);

	if (r->s.closed || r->s.close_pending || !r->rb)
		luaL_error(L, "libbpf.ringbuf: ring buffer is closed");
	lbpf_ev_check_sources(L, r->src, r->nsrc, &r->s, r, ringbuf_release);
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
		lbpf_ev_push_plan(L, d->btf, (__u32)d->type_id, LBPF_RINGBUF,
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
	int fd = lbpf_ev_check_map(L, mapidx, BPF_MAP_TYPE_RINGBUF,
				  LBPF_RINGBUF);
	struct source *src;
	lua_Integer cap = 0;
	int err, uvidx, frame;

	lbpf_ev_check_callable(L, cbidx, "function");
	lbpf_check_options(L, optidx, "ringbuf", ringbuf_options);
	cap = lbpf_ev_opt_batch(L, optidx, LBPF_RINGBUF);
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
	lbpf_ev_setup_decoder(L, &src->dec, src->map, optidx, uvidx, LBPF_RINGBUF);
	lbpf_ev_setup_fields(L, src, optidx, uvidx, cap != 0, LBPF_RINGBUF);
	if (cap) {
		src->batch = push_batch(L, (int)cap, &src->dec);
		lua_pushvalue(L, -1);
		src->batchref = luaL_ref(L, LUA_REGISTRYINDEX);
		/* in the user value table too, so __gc order never matters */
		lua_rawseti(L, uvidx, (lua_Integer)lua_rawlen(L, uvidx) + 1);
	}
	err = ring_map(&src->ring, fd);
	frame = lbpf_print_enter(L);
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
		lbpf_ev_release_source(L, src);
		lbpf_push_error(L, err, "libbpf.ringbuf: ring buffer "
				"on map '%s' failed", map_name(src->map));
		lbpf_print_leave(L, frame);
		return 3;
	}
	lua_pushvalue(L, cbidx);
	src->cbref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushvalue(L, mapidx);  /* keeps the map, hence its object */
	lua_rawseti(L, uvidx, (lua_Integer)lua_rawlen(L, uvidx) + 1);
	r->nsrc++;
	lbpf_print_leave(L, frame);  /* the source is complete: may raise */
	lua_settop(L, uvidx - 1);
	return 0;
}

/* bpf.ringbuf(map, cb [, {type=, raw=, view=, batch=}]) */
static int ringbuf_new(lua_State *L)
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

/*
 * The stack of drain_ring: the callback at cbidx, the batch (or nil) at
 * cbidx + 1, and the call slot at cbidx + 2 (CALL_SLOT), the top between
 * records. A call copies the callback into the slot, pushes the arguments
 * above it, and its one result lands in the slot: no push and pop of the
 * callback per record.
 */
#define CALL_SLOT(cbidx) ((cbidx) + 2)

/* After a callback returned (its result in the call slot): note a stop
 * request, a closed object and a stop signal (nothing is batched here). */
static inline void after_callback(lua_State *L, struct stream *s,
				  struct source *src, int cbidx)
{
	int isnum = 0;
	lua_Integer ret = 0;

	if (lua_type(L, CALL_SLOT(cbidx)) == LUA_TNUMBER)   /* most: none */
		ret = lua_tointegerx(L, CALL_SLOT(cbidx), &isnum);
	if (isnum && ret != 0)
		s->stopped = 1;
	if (!map_usable(src->map))
		s->object_closed = 1;
	lbpf_ev_note_interrupt(s);
}

/* Call the callback at cbidx with one record. */
static void call_one(lua_State *L, struct lbpf_ringbuf *r, struct source *src,
		     int cbidx, const unsigned char *data, __u32 size)
{
	r->cur = src;  /* a record that cannot be decoded is consumed too */
	lua_copy(L, cbidx, CALL_SLOT(cbidx));
	if (src->fields) {    /* drain_ring made room for the fields */
		lua_call(L, lbpf_ev_push_fields_room(L, src->fields, data,
						     size, LBPF_RINGBUF), 1);
	} else {
		if (!lbpf_ev_push_record(L, &src->dec, data, size, r->s.tname))
			lua_error(L);
		lua_call(L, 1, 1);
	}
	r->cur = NULL;
	if (src->dec.view)
		src->dec.view->data = NULL;
	r->s.count++;
	after_callback(L, &r->s, src, cbidx);
}

/* Call the callback at cbidx with the batch of src (not empty). */
static void call_batch(lua_State *L, struct lbpf_ringbuf *r,
		       struct source *src, int cbidx)
{
	struct batch *b = src->batch;

	lua_copy(L, cbidx, CALL_SLOT(cbidx));
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
	after_callback(L, &r->s, src, cbidx);
}

static int must_stop(const struct stream *s)
{
	return s->stopped || s->close_pending || s->object_closed;
}

/* Deliver the records of one source committed when the drain starts
 * (libbpf's ringbuf_process_ring, with batches, in one pass): records the
 * producer commits meanwhile wait for the next poll, so a poll ends even
 * while a flood outruns its callback (a tool's -d and stop checks run
 * between polls). */
static void drain_ring(lua_State *L, struct lbpf_ringbuf *r,
		       struct source *src)
{
	struct ring *rg = &src->ring;
	struct batch *b = src->batch;
	unsigned long cons, prod;
	int cbidx;

	/* an earlier source's callback may have closed this map's object: its
	 * codec went with it */
	if (!map_usable(src->map)) {
		r->s.object_closed = 1;
		return;
	}
	/* the callback, its batch, one result and the fields= arguments */
	luaL_checkstack(L, LBPF_EV_FIELDS_MAX + 4, "ring buffer callback");
	lua_rawgeti(L, LUA_REGISTRYINDEX, src->cbref);
	cbidx = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, src->batchref);  /* cbidx + 1 */
	lua_pushnil(L);                                    /* the call slot */
	cons = __atomic_load_n(rg->consumer_pos, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(rg->producer_pos, __ATOMIC_ACQUIRE);
	while (cons < prod) {
		const unsigned char *hdr = rg->data + (cons & rg->mask);
		__u32 len = __atomic_load_n((const __u32 *)hdr,
					    __ATOMIC_ACQUIRE);

		if (len & BPF_RINGBUF_BUSY_BIT)
			goto done;
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
	int ms = lbpf_ev_check_timeout(L, 2);
	struct epoll_event ev[MAX_SOURCES];
	int ret;

	lbpf_ev_begin_poll(L, &r->s);
	ret = lbpf_interrupt_epoll_wait(ring_buffer__epoll_fd(r->rb), ev,
					MAX_SOURCES, ms, r->s.seq);
	if (ret < 0)
		ret = -errno;
	else
		run_drain(L, r);
	return lbpf_ev_end_poll(L, &r->s, ret, r, ringbuf_release);
}

/* rb:consume() -> count: whatever is ready, without waiting */
static int rb_consume(lua_State *L)
{
	struct lbpf_ringbuf *r = check_ringbuf(L, 1);

	lbpf_ev_begin_poll(L, &r->s);
	run_drain(L, r);
	return lbpf_ev_end_poll(L, &r->s, 0, r, ringbuf_release);
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

	/* a closed object took its maps' names with it */
	for (i = 0; i < r->nsrc && !r->s.closed && r->rb; i++)
		if (!map_usable(r->src[i].map))
			break;
	if (r->s.closed || !r->rb || i < r->nsrc) {
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

/* the batch at 1, in its callback; `decoding`: its records are read, which
 * needs its object (a closed object freed the codec) */
static struct batch *check_batch(lua_State *L, int decoding)
{
	struct batch *b = luaL_checkudata(L, 1, LBPF_BATCH);

	if (!b->src)
		luaL_error(L, "libbpf.ringbuf_batch: used outside its callback");
	if (decoding && !map_usable(b->src->map))
		luaL_error(L, "libbpf.ringbuf_batch: the object of its map was "
			   "closed");
	return b;
}

/* b[i]: record i in the source's shape; nil past the end (ipairs stops) */
static int batch_index(lua_State *L)
{
	int isnum;
	lua_Integer i = lua_tointegerx(L, 2, &isnum);
	struct batch *b = check_batch(L, isnum);

	if (!isnum) {   /* a method: the closure's upvalue holds them */
		lua_pushvalue(L, 2);
		lua_rawget(L, lua_upvalueindex(1));
		return 1;
	}
	if (i < 1 || i > b->n)
		return 0;
	if (!lbpf_ev_push_record(L, &b->src->dec, b->rec[i - 1].data,
			 b->rec[i - 1].size, LBPF_RINGBUF))
		return lua_error(L);
	return 1;
}

/* b:column(field [, into]) -> array of `field` of every record, in `into`
 * (reused: its entries past #b are cleared) or a new table, packed from
 * the stack (lbpf_push_packer) when it fits there */
static int batch_column(lua_State *L)
{
	struct batch *b = check_batch(L, 1);
	const char *name = luaL_checkstring(L, 2);
	const char *who = "libbpf.ringbuf_batch";
	lua_Integer plan;
	int i, packed;

	lua_settop(L, 3);
	if (!lua_isnil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE)
		return luaL_error(L, "%s: column() needs records of a struct "
				  "type (type=..., not raw=true)", who);
	lua_pushvalue(L, 2);
	if (lua_rawget(L, -2) != LUA_TNUMBER)
		return luaL_error(L, "%s: %s has no field '%s' of integer, bool "
				  "or char[] type", who, b->src->dec.type, name);
	plan = lua_tointeger(L, -1);
	lua_settop(L, 3);
	packed = lua_isnil(L, 3) && lbpf_can_pack(L, b->n);
	if (packed) {
		lbpf_push_packer(L);
	} else if (lua_isnil(L, 3)) {
		lua_createtable(L, b->n, 0);
		lua_replace(L, 3);
	}
	for (i = 0; i < b->n; i++) {
		if (b->rec[i].size < plan_end(plan))   /* raises */
			lbpf_ev_push_field(L, plan, b->rec[i].data,
					   b->rec[i].size, who, name);
		lbpf_ev_push_planned(L, plan, b->rec[i].data);
		if (!packed)
			lua_rawseti(L, 3, i + 1);
	}
	if (packed) {
		lua_call(L, b->n, 1);
		return 1;
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
	lua_pushinteger(L, check_batch(L, 0)->n);
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

/* ---- batches of perf buffers (perfbuf.c) ----------------------------------- */

/* batch= of the options at optidx: records per callback, 0 for none */
int lbpf_ev_opt_batch(lua_State *L, int optidx, const char *who)
{
	lua_Integer cap = 0;

	if (!lua_istable(L, optidx))
		return 0;
	lua_getfield(L, optidx, "batch");
	if (lua_isboolean(L, -1))
		cap = lua_toboolean(L, -1) ? BATCH_DEFAULT : 0;
	else if (!lua_isnil(L, -1) &&
		 ((cap = lbpf_opt_integer(L, optidx, "batch", 0)) < 1))
		cap = -1;
	lua_pop(L, 1);
	if (cap < 0 || cap > BATCH_MAX)
		luaL_error(L, "%s: batch must be true, false or 1..%d records",
			   who, BATCH_MAX);
	return (int)cap;
}

struct batch *lbpf_ev_push_batch(lua_State *L, int cap,
				 const struct decoder *d)
{
	return push_batch(L, cap, d);
}

int lbpf_ev_batch_add(struct batch *b, const unsigned char *data,
		      __u32 size)
{
	b->rec[b->n].data = data;
	b->rec[b->n].size = size;
	return ++b->n == b->cap;
}

int lbpf_ev_batch_len(const struct batch *b)
{
	return b->n;
}

void lbpf_ev_batch_bind(struct batch *b, struct source *src)
{
	b->src = src;
	if (!src)
		b->n = 0;
}

/* ---- registration ---------------------------------------------------------- */

void lbpf_open_ringbuf(lua_State *L)
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
	static const luaL_Reg batch_meta[] = {
		{"__len", batch_len}, {"__tostring", batch_tostring},
		{NULL, NULL}
	};
	static const luaL_Reg batch_methods[] = {
		{"column", batch_column}, {NULL, NULL}
	};

	lbpf_new_class(L, LBPF_RINGBUF, rb_meta, rb_methods, NULL);
	/* b[i] and b:column: __index is a closure over the methods */
	luaL_newmetatable(L, LBPF_BATCH);
	luaL_setfuncs(L, batch_meta, 0);
	luaL_newlib(L, batch_methods);
	lua_pushcclosure(L, batch_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_pushcfunction(L, ringbuf_new);
	lua_setfield(L, -2, "ringbuf");
}
