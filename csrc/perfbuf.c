/*
 * perfbuf.c - `libbpf.perfbuf`: perf event array maps read by Lua
 * callbacks, one sample or one batch (`libbpf.ringbuf_batch`) per call.
 *
 * libbpf's perf_buffer sets the rings up (one perf event per online CPU,
 * opened, mapped, stored in the map and added to an epoll set) but the
 * samples are read here, as ringbuf.c reads ring buffers: through
 * perf_buffer__poll each sample would pay a lua_pcall, and an error could
 * not leave libbpf's loop. One lua_pcall covers a whole poll; callbacks run
 * under lua_call, so an error unwinds only our own frames.
 *
 * Each CPU's ring is libbpf's mapping (perf_buffer__buffer): a
 * perf_event_mmap_page (kernel ABI, linux/perf_event.h) then the data area.
 * Records are 8-byte aligned, start with a perf_event_header and may wrap
 * around the end of the area: such a record is copied whole into a scratch
 * buffer (perf_event_read_simple does the same). data_head is read with an
 * acquire load; data_tail, ours, is published with a release store after
 * the record's callback returned (the kernel may reuse the space then), or,
 * when a callback raises, past the record or batch that raised. A record
 * of another type than a sample or a loss is skipped.
 *
 * The buffer is made by perf_buffer__new_raw with the CPUs listed
 * explicitly (the online ones, as perf_buffer__new picks them), so that the
 * i-th ring's CPU is known.
 *
 * libbpf keeps the map fd it is given and, in perf_buffer__free, deletes
 * the CPUs' keys through it: it gets its own duplicate, closed after the
 * free, so that a map which later gets the number back is left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>

#include "events.h"
#include "print.h"

/* one CPU's ring, mapped by libbpf */
struct pring {
	struct perf_event_mmap_page *page;
	const unsigned char *data;
	__u64 mask;                /* data size - 1 */
	__u64 pending;             /* position past the record being delivered */
	int cpu;
};

struct lbpf_perfbuf {
	struct stream s;
	struct perf_buffer *pb;
	int map_fd;           /* libbpf's duplicate of the map fd, or -1 */
	struct source src;
	int lostref;
	lua_Integer lost;     /* samples the kernel dropped, all polls */
	int nrings;
	struct pring *rings;  /* in a userdata of the user value table */
	unsigned char *scratch; /* a record that wraps, copied (same userdata) */
	size_t scratch_size;
	struct pring *cur;    /* ring whose callback is running */
};

static const char *const perfbuf_options[] = {
	"type", "btf", "raw", "view", "pages", "on_sample", "on_lost",
	"fields", "batch", NULL
};

/* a sample record (sample_type PERF_SAMPLE_RAW) and a loss record */
struct sample_raw {
	struct perf_event_header header;
	__u32 size;
	unsigned char data[];
};

struct sample_lost {
	struct perf_event_header header;
	__u64 id;
	__u64 lost;
};

static void perfbuf_release(lua_State *L, void *p)
{
	struct lbpf_perfbuf *pb = p;

	if (pb->s.in_poll) {       /* close() inside a callback: after poll */
		pb->s.close_pending = 1;
		return;
	}
	if (pb->pb)
		perf_buffer__free(pb->pb);  /* unmaps the rings */
	pb->pb = NULL;
	pb->nrings = 0;
	pb->rings = NULL;
	pb->scratch = NULL;
	if (pb->map_fd >= 0)
		close(pb->map_fd);
	pb->map_fd = -1;
	lbpf_ev_release_source(L, &pb->src);
	luaL_unref(L, LUA_REGISTRYINDEX, pb->lostref);
	pb->lostref = LUA_NOREF;
	pb->s.closed = 1;
}

static struct lbpf_perfbuf *check_perfbuf(lua_State *L, int idx)
{
	struct lbpf_perfbuf *pb = luaL_checkudata(L, idx, LBPF_PERFBUF);

	if (pb->s.closed || pb->s.close_pending || !pb->pb)
		luaL_error(L, "libbpf.perfbuf: perf buffer is closed");
	lbpf_ev_check_sources(L, &pb->src, 1, &pb->s, pb, perfbuf_release);
	return pb;
}

/* ---- reading the rings ------------------------------------------------------ */

/* After a callback returned (its result on top): note a stop request, a
 * closed object and a stop signal (nothing is batched here), pop the
 * result. */
static void after_callback(lua_State *L, struct lbpf_perfbuf *pb)
{
	int isnum;
	lua_Integer ret = lua_tointegerx(L, -1, &isnum);

	lua_pop(L, 1);
	if (isnum && ret != 0)
		pb->s.stopped = 1;
	if (!map_usable(pb->src.map))
		pb->s.object_closed = 1;
	lbpf_ev_note_interrupt(&pb->s);
}

static int must_stop(const struct stream *s)
{
	return s->stopped || s->close_pending || s->object_closed;
}

static void publish(struct pring *rg)
{
	__atomic_store_n(&rg->page->data_tail, rg->pending, __ATOMIC_RELEASE);
}

/* Call the callback at cbidx with (cpu, sample). */
static void call_one(lua_State *L, struct lbpf_perfbuf *pb, struct pring *rg,
		     int cbidx, const unsigned char *data, __u32 size)
{
	struct source *src = &pb->src;

	pb->cur = rg;  /* a sample that cannot be decoded is consumed too */
	lua_pushvalue(L, cbidx);
	lua_pushinteger(L, rg->cpu);
	if (src->fields) {
		/* drain_all made room for the fields */
		lua_call(L, 1 + lbpf_ev_push_fields_room(L, src->fields, data,
							 size, LBPF_PERFBUF), 1);
	} else {
		if (!lbpf_ev_push_record(L, &src->dec, data, size, LBPF_PERFBUF))
			lua_error(L);
		lua_call(L, 2, 1);
	}
	pb->cur = NULL;
	if (src->dec.view)
		src->dec.view->data = NULL;
	pb->s.count++;
	after_callback(L, pb);
}

/* Call the callback at cbidx with (cpu, batch) (not empty); the batch is
 * at cbidx + 1. */
static void call_batch(lua_State *L, struct lbpf_perfbuf *pb,
		       struct pring *rg, int cbidx)
{
	struct batch *b = pb->src.batch;

	lua_pushvalue(L, cbidx);
	lua_pushinteger(L, rg->cpu);
	lua_pushvalue(L, cbidx + 1);
	lbpf_ev_batch_bind(b, &pb->src);
	pb->cur = rg;
	pb->s.count += lbpf_ev_batch_len(b);
	lua_call(L, 2, 1);
	pb->cur = NULL;
	lbpf_ev_batch_bind(b, NULL);
	if (pb->src.dec.view)
		pb->src.dec.view->data = NULL;
	after_callback(L, pb);
}

/* on_lost(cpu, count) for a loss record, if there is an on_lost */
static void call_lost(lua_State *L, struct lbpf_perfbuf *pb, struct pring *rg,
		      const struct perf_event_header *eh)
{
	struct sample_lost sl;

	if (eh->size < sizeof(sl))
		return;
	memcpy(&sl, eh, sizeof(sl));
	pb->lost += (lua_Integer)sl.lost;
	if (pb->lostref == LUA_NOREF)
		return;
	pb->cur = rg;
	lua_rawgeti(L, LUA_REGISTRYINDEX, pb->lostref);
	lua_pushinteger(L, rg->cpu);
	lua_pushinteger(L, (lua_Integer)sl.lost);
	lua_call(L, 2, 0);
	pb->cur = NULL;
	if (!map_usable(pb->src.map))
		pb->s.object_closed = 1;
	lbpf_ev_note_interrupt(&pb->s);
}

/* The record at position `pos` of rg, `size` bytes: in the ring, or copied
 * to the scratch buffer when it wraps around the end. */
static const struct perf_event_header *record_at(struct lbpf_perfbuf *pb,
						 struct pring *rg, __u64 pos,
						 size_t size)
{
	size_t off = (size_t)(pos & rg->mask), first = rg->mask + 1 - off;

	if (size <= first)
		return (const void *)(rg->data + off);
	memcpy(pb->scratch, rg->data + off, first);
	memcpy(pb->scratch + first, rg->data, size - first);
	return (const void *)pb->scratch;
}

/* Hand one sample to the callback or the batch; publishes what was
 * delivered. */
static void take_sample(lua_State *L, struct lbpf_perfbuf *pb,
			struct pring *rg, int cbidx,
			const struct perf_event_header *eh)
{
	const struct sample_raw *sr = (const void *)eh;
	struct batch *b = pb->src.batch;
	__u32 size;

	if (eh->size < sizeof(*sr))
		goto skip;
	memcpy(&size, &sr->size, sizeof(size));
	if (size > eh->size - sizeof(*sr))
		goto skip;
	if (b) {
		if (!lbpf_ev_batch_add(b, sr->data, size))
			return;           /* published with the batch */
		call_batch(L, pb, rg, cbidx);
	} else {
		call_one(L, pb, rg, cbidx, sr->data, size);
	}
skip:
	if (!b || !lbpf_ev_batch_len(b))
		publish(rg);
}

/* Deliver the records of one CPU's ring written when the drain starts
 * (perf_event_read_simple, with batches, in one pass): records written
 * meanwhile wait for the next poll, so a poll ends even while a flood
 * outruns its callback. */
static void drain_ring(lua_State *L, struct lbpf_perfbuf *pb, struct pring *rg,
		       int cbidx)
{
	struct batch *b = pb->src.batch;
	__u64 tail = __atomic_load_n(&rg->page->data_tail, __ATOMIC_RELAXED);
	__u64 head = __atomic_load_n(&rg->page->data_head, __ATOMIC_ACQUIRE);

	rg->pending = tail;
	while (tail != head && !must_stop(&pb->s)) {
		/* headers never wrap: records are 8-byte aligned */
		const struct perf_event_header *eh =
			(const void *)(rg->data + (tail & rg->mask));
		size_t size = eh->size;

		if (size < sizeof(*eh) || size > head - tail || (size & 7))
			goto done;      /* not a record: leave the ring */
		/* a loss comes after the samples batched before it */
		if (eh->type == PERF_RECORD_LOST && b &&
		    lbpf_ev_batch_len(b)) {
			call_batch(L, pb, rg, cbidx);
			publish(rg);
			if (must_stop(&pb->s))
				goto done;
		}
		eh = record_at(pb, rg, tail, size);
		tail += size;
		rg->pending = tail;
		if (eh->type == PERF_RECORD_SAMPLE) {
			take_sample(L, pb, rg, cbidx, eh);
		} else {
			if (eh->type == PERF_RECORD_LOST)
				call_lost(L, pb, rg, eh);
			if (!b || !lbpf_ev_batch_len(b))
				publish(rg);
		}
	}
done:
	if (b && lbpf_ev_batch_len(b) && !must_stop(&pb->s)) {
		call_batch(L, pb, rg, cbidx);
		publish(rg);
	}
}

/* lua_pcall'ed by run_drain: (perf buffer) -> drains every CPU's ring */
static int drain_all(lua_State *L)
{
	struct lbpf_perfbuf *pb = lua_touserdata(L, 1);
	int i, cbidx;

	/* a closed object took the codec with it */
	if (!map_usable(pb->src.map)) {
		pb->s.object_closed = 1;
		return 0;
	}
	/* the callback, its batch, the cpu, one result and the fields=
	 * arguments: room made once per poll, as ringbuf.c does */
	luaL_checkstack(L, LBPF_EV_FIELDS_MAX + 5, "perf buffer callback");
	lua_rawgeti(L, LUA_REGISTRYINDEX, pb->src.cbref);
	cbidx = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, pb->src.batchref);  /* cbidx + 1 */
	for (i = 0; i < pb->nrings && !must_stop(&pb->s); i++)
		drain_ring(L, pb, &pb->rings[i], cbidx);
	return 0;
}

/* Drain under one protected call; a callback's error is left on top with
 * s->failed set, and the record or batch that raised counts as consumed. */
static void run_drain(lua_State *L, struct lbpf_perfbuf *pb)
{
	struct pring *rg;

	lua_pushcfunction(L, drain_all);
	lua_pushlightuserdata(L, pb);
	if (lua_pcall(L, 1, 0, pb->s.msgh) == LUA_OK)
		return;
	pb->s.failed = 1;
	rg = pb->cur;
	pb->cur = NULL;
	if (rg)
		publish(rg);
	if (pb->src.dec.view)
		pb->src.dec.view->data = NULL;
	if (pb->src.batch)
		lbpf_ev_batch_bind(pb->src.batch, NULL);
}

/* ---- making the buffer ------------------------------------------------------ */

/* libbpf's record callback: never called, records are read by drain_ring */
static enum bpf_perf_event_ret perfbuf_unused_event(void *ctx, int cpu,
						    struct perf_event_header *e)
{
	(void)ctx, (void)cpu, (void)e;
	return LIBBPF_PERF_EVENT_CONT;
}

/* Fill cpus[] with the online CPUs below `max` (as perf_buffer__new does
 * from the same file); returns how many, or a negative errno. */
static int online_cpus(int *cpus, int max)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	int n = 0, lo, hi, c;

	if (!f)
		return -errno;
	/* "0-3,5,7-8\n" */
	while (fscanf(f, "%d", &lo) == 1) {
		hi = lo;
		c = fgetc(f);
		if (c == '-') {
			if (fscanf(f, "%d", &hi) != 1)
				break;
			c = fgetc(f);
		}
		for (; lo <= hi && lo < max; lo++)
			cpus[n++] = lo;
		if (c != ',')
			break;
	}
	fclose(f);
	return n > 0 ? n : -EINVAL;
}

/* Push an array of the CPUs to open rings on (the online ones below the
 * map's max_entries, as perf_buffer__new picks them) into *cpus and make
 * pb->rings for them (and the scratch buffer) in a userdata put in the user
 * value table at uvidx; returns how many, or a negative errno. */
static int perfbuf_cpus(lua_State *L, struct lbpf_perfbuf *pb, size_t pages,
			int uvidx, int **cpus)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int ncpu = libbpf_num_possible_cpus(), n, i;

	memset(&info, 0, sizeof(info));
	*cpus = NULL;
	if (ncpu < 0)
		return ncpu;
	if (pages > SIZE_MAX / 2 / page)
		return -E2BIG;
	if (bpf_obj_get_info_by_fd(pb->map_fd, &info, &len))
		return -errno;
	if (info.max_entries && (int)info.max_entries < ncpu)
		ncpu = (int)info.max_entries;
	*cpus = lua_newuserdatauv(L, (size_t)ncpu * sizeof(**cpus), 0);
	n = online_cpus(*cpus, ncpu);
	if (n < 0)
		return n;
	/* records are at most 64 KiB (a u16 size) and never larger than
	 * the ring */
	pb->scratch_size = page * pages < 65536 ? page * pages : 65536;
	pb->rings = lua_newuserdatauv(L, (size_t)n * sizeof(*pb->rings) +
				      pb->scratch_size, 0);
	memset(pb->rings, 0, (size_t)n * sizeof(*pb->rings));
	pb->scratch = (unsigned char *)(pb->rings + n);
	lua_rawseti(L, uvidx, (lua_Integer)lua_rawlen(L, uvidx) + 1);
	for (i = 0; i < n; i++)
		pb->rings[i].cpu = (*cpus)[i];
	return n;
}

/* Open libbpf's perf buffer on pb->map_fd, one ring of `pages` pages on
 * each of the n cpus, and note where the rings are mapped; 0 or a
 * negative errno. Calls only libbpf (inside a print frame). */
static int perfbuf_open(struct lbpf_perfbuf *pb, size_t pages, int *cpus,
			int n)
{
	LIBBPF_OPTS(perf_buffer_raw_opts, o, .cpu_cnt = n, .cpus = cpus,
		    .map_keys = cpus);
	struct perf_event_attr attr;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int i;

	/* perf_buffer__new's event */
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.config = PERF_COUNT_SW_BPF_OUTPUT;
	attr.type = PERF_TYPE_SOFTWARE;
	attr.sample_type = PERF_SAMPLE_RAW;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	errno = 0;
	pb->pb = perf_buffer__new_raw(pb->map_fd, pages, &attr,
				      perfbuf_unused_event, pb, &o);
	if (!pb->pb)
		return -lbpf_errno(0);
	for (i = 0; i < n; i++) {
		struct pring *rg = &pb->rings[i];
		void *base;
		size_t size;
		int err = perf_buffer__buffer(pb->pb, i, &base, &size);

		if (err || size != page * pages)
			return err ? err : -EINVAL;
		rg->page = base;
		rg->data = (const unsigned char *)base + page;
		rg->mask = size - 1;
	}
	pb->nrings = n;
	return 0;
}

/* perfbuf_new failed with err: free what was made, push nil, msg, errno */
static int perfbuf_failed(lua_State *L, struct lbpf_perfbuf *pb, int err)
{
	if (pb->pb)
		perf_buffer__free(pb->pb);
	pb->pb = NULL;
	pb->nrings = 0;
	if (pb->map_fd >= 0)
		close(pb->map_fd);
	pb->map_fd = -1;
	lbpf_ev_release_source(L, &pb->src);
	return lbpf_push_error(L, err, "libbpf.perfbuf: perf buffer on map '%s' "
			       "failed", map_name(pb->src.map));
}

/* bpf.perfbuf(map, {on_sample=, on_lost=, pages=, type=, btf=, raw=,
 * view=, fields=, batch=}) */
static int perfbuf_new(lua_State *L)
{
	int fd = lbpf_ev_check_map(L, 1, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
				  LBPF_PERFBUF);
	struct lbpf_perfbuf *pb;
	lua_Integer pages;
	int pbidx, uvidx, frame, cap, err, n, *cpus;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "perfbuf", perfbuf_options);
	pages = lbpf_opt_integer(L, 2, "pages", 8);
	if (pages <= 0 || (pages & (pages - 1)))
		luaL_error(L, "libbpf.perfbuf: pages must be a power of 2, "
			   "not %d", (int)pages);
	lua_getfield(L, 2, "on_sample");
	lbpf_ev_check_callable(L, -1, "on_sample function");
	lua_getfield(L, 2, "on_lost");
	if (!lua_isnil(L, -1))
		lbpf_ev_check_callable(L, -1, "on_lost function");
	cap = lbpf_ev_opt_batch(L, 2, LBPF_PERFBUF);
	if (cap && lua_getfield(L, 2, "fields") != LUA_TNIL)
		luaL_error(L, "libbpf.perfbuf: fields= cannot go with batch=");
	pb = lua_newuserdatauv(L, sizeof(*pb), 1);
	memset(pb, 0, sizeof(*pb));
	pb->s.tname = LBPF_PERFBUF;
	pb->s.what = "perf buffer";
	pb->src.cbref = pb->src.dec.viewref = pb->lostref = LUA_NOREF;
	pb->src.batchref = LUA_NOREF;
	pb->s.closed = 1;          /* until the rings are mapped */
	pb->map_fd = -1;
	luaL_setmetatable(L, LBPF_PERFBUF);
	pbidx = lua_gettop(L);
	lua_createtable(L, 2, 0);
	lua_pushvalue(L, 1);
	lua_rawseti(L, -2, 1);
	lua_pushvalue(L, -1);
	lua_setiuservalue(L, pbidx, 1);
	uvidx = lua_gettop(L);
	pb->src.s = &pb->s;
	pb->src.map = lua_touserdata(L, 1);
	lbpf_ev_setup_decoder(L, &pb->src.dec, pb->src.map, 2, uvidx,
			      LBPF_PERFBUF);
	lbpf_ev_setup_fields(L, &pb->src, 2, uvidx, 0, LBPF_PERFBUF);
	if (cap) {
		pb->src.batch = lbpf_ev_push_batch(L, cap, &pb->src.dec);
		lua_pushvalue(L, -1);
		pb->src.batchref = luaL_ref(L, LUA_REGISTRYINDEX);
		/* in the user value table too, so __gc order never matters */
		lua_rawseti(L, uvidx, (lua_Integer)lua_rawlen(L, uvidx) + 1);
	}
	pb->map_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (pb->map_fd < 0)
		return perfbuf_failed(L, pb, -errno);
	n = perfbuf_cpus(L, pb, (size_t)pages, uvidx, &cpus);
	if (n < 0)
		return perfbuf_failed(L, pb, n);
	frame = lbpf_print_enter(L);
	err = perfbuf_open(pb, (size_t)pages, cpus, n);
	if (err) {
		perfbuf_failed(L, pb, err);
		lbpf_print_leave(L, frame);
		return 3;
	}
	pb->s.closed = 0;
	lua_getfield(L, 2, "on_sample");
	pb->src.cbref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_getfield(L, 2, "on_lost");
	pb->lostref = luaL_ref(L, LUA_REGISTRYINDEX); /* nil -> LUA_REFNIL */
	if (pb->lostref == LUA_REFNIL)
		pb->lostref = LUA_NOREF;
	lbpf_print_leave(L, frame);  /* the buffer is complete: may raise */
	lua_settop(L, pbidx);
	return 1;
}

/* Does a ring hold records? (left by a stop or an error: the kernel's
 * epoll readiness is reset by the wakeup that reported them) */
static int perfbuf_pending(const struct lbpf_perfbuf *pb)
{
	int i;

	for (i = 0; i < pb->nrings; i++)
		if (__atomic_load_n(&pb->rings[i].page->data_head,
				    __ATOMIC_ACQUIRE) !=
		    pb->rings[i].page->data_tail)
			return 1;
	return 0;
}

/* pb:poll([timeout_ms]) -> count | nil, "interrupted", EINTR */
static int pb_poll(lua_State *L)
{
	struct lbpf_perfbuf *pb = check_perfbuf(L, 1);
	int ms = lbpf_ev_check_timeout(L, 2);
	struct epoll_event ev[16];
	int ret;

	if (perfbuf_pending(pb))
		ms = 0;
	lbpf_ev_begin_poll(L, &pb->s);
	/* which rings are ready does not matter: every ring is read */
	ret = lbpf_interrupt_epoll_wait(perf_buffer__epoll_fd(pb->pb), ev, 16,
					ms, pb->s.seq);
	if (ret < 0)
		ret = -errno;
	else
		run_drain(L, pb);
	return lbpf_ev_end_poll(L, &pb->s, ret, pb, perfbuf_release);
}

/* pb:consume() -> count: whatever is ready, without waiting */
static int pb_consume(lua_State *L)
{
	struct lbpf_perfbuf *pb = check_perfbuf(L, 1);

	lbpf_ev_begin_poll(L, &pb->s);
	run_drain(L, pb);
	return lbpf_ev_end_poll(L, &pb->s, 0, pb, perfbuf_release);
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

	/* a closed object took its map's name with it */
	if (pb->s.closed || !pb->pb || !map_usable(pb->src.map))
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
	struct lbpf_perfbuf *pb = luaL_checkudata(L, 1, LBPF_PERFBUF);
	const char *key = lua_tostring(L, 2);

	if (key && strcmp(key, "lost") == 0) {
		lua_pushinteger(L, pb->lost);
		return 1;
	}
	return 0;
}

/* ---- registration ---------------------------------------------------------- */

void lbpf_open_perfbuf(lua_State *L)
{
	static const char *const fields[] = {
		"lost", NULL
	};
	static const luaL_Reg pb_meta[] = {
		{"__gc", pb_close}, {"__close", pb_close},
		{"__tostring", pb_tostring}, {NULL, NULL}
	};
	static const luaL_Reg pb_methods[] = {
		{"poll", pb_poll}, {"consume", pb_consume},
		{"epoll_fd", pb_epoll_fd}, {"close", pb_close}, {NULL, NULL}
	};

	lbpf_new_class(L, LBPF_PERFBUF, pb_meta, pb_methods, pb_getter);
	lbpf_class_fields(L, LBPF_PERFBUF, fields);
	lua_pushcfunction(L, perfbuf_new);
	lua_setfield(L, -2, "perfbuf");
}
