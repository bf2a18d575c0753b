/*
 * perfbuf.c - `libbpf.perfbuf`: perf event array maps read through
 * perf_buffer__poll. Each sample is decoded and its callback run inside
 * libbpf's loop under one lua_pcall (decoding allocates: a memory error
 * must not longjmp either); an error is left on the Lua stack, the rest of
 * libbpf's batch is skipped (perf buffers cannot be stopped) and poll()
 * raises it once libbpf has returned, so no longjmp ever crosses libbpf's
 * frames.
 *
 * libbpf keeps the map fd it is given and, in perf_buffer__free, deletes
 * keys 0..ncpu-1 through it: it gets its own duplicate, closed after the
 * free, so that a map which later gets the number back is left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "print.h"

struct lbpf_perfbuf {
	struct stream s;
	struct perf_buffer *pb;
	int map_fd;           /* libbpf's duplicate of the map fd, or -1 */
	struct source src;
	int lostref;
	lua_Integer lost;     /* samples the kernel dropped, all polls */
};

static const char *const perfbuf_options[] = {
	"type", "btf", "raw", "view", "pages", "on_sample", "on_lost",
	"fields", NULL
};

/* one sample, handed to deliver_protected */
struct delivery {
	struct source *src;
	int cpu;
	const void *data;
	size_t size;
};

/* lua_pcall'ed by deliver: (delivery) -> the callback's result */
static int deliver_protected(lua_State *L)
{
	struct delivery *d = lua_touserdata(L, 1);
	struct source *src = d->src;
	int nargs = 1;

	lua_rawgeti(L, LUA_REGISTRYINDEX, src->cbref);
	if (d->cpu >= 0) {
		lua_pushinteger(L, d->cpu);
		nargs = 2;
	}
	if (src->fields)
		nargs += lbpf_ev_push_fields(L, src->fields, d->data, d->size,
					     src->s->tname) - 1;
	else if (!lbpf_ev_push_record(L, &src->dec, d->data, d->size,
				      src->s->tname))
		return lua_error(L);
	lua_call(L, nargs, 1);
	return 1;
}

/* Call the source's callback with (cpu,) record; returns non-zero when
 * libbpf should stop. Only pushes that cannot allocate happen outside the
 * protected call. */
static int deliver(struct stream *s, struct source *src, int cpu,
		   const void *data, size_t size)
{
	lua_State *L = s->L;
	struct delivery d = {src, cpu, data, size};
	int status, isnum;
	lua_Integer ret;

	if (s->failed || s->stopped || s->close_pending || s->object_closed)
		return 1;
	if (!map_usable(src->map)) {
		s->object_closed = 1;
		return 1;
	}
	lua_pushcfunction(L, deliver_protected);
	lua_pushlightuserdata(L, &d);
	status = lua_pcall(L, 1, 1, s->msgh);
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

/* bpf.perfbuf(map, {on_sample=, on_lost=, pages=, type=, raw=, view=,
 * fields=}) */
static int perfbuf_new(lua_State *L)
{
	int fd = lbpf_ev_check_map(L, 1, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
				  LBPF_PERFBUF);
	struct lbpf_perfbuf *pb;
	lua_Integer pages;
	int pbidx, frame;

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
	pb = lua_newuserdatauv(L, sizeof(*pb), 1);
	memset(pb, 0, sizeof(*pb));
	pb->s.tname = LBPF_PERFBUF;
	pb->s.what = "perf buffer";
	pb->src.cbref = pb->src.dec.viewref = pb->lostref = LUA_NOREF;
	pb->src.batchref = LUA_NOREF;
	pb->s.closed = 1;          /* until perf_buffer__new succeeds */
	pb->map_fd = -1;
	luaL_setmetatable(L, LBPF_PERFBUF);
	pbidx = lua_gettop(L);
	lua_createtable(L, 2, 0);
	lua_pushvalue(L, 1);
	lua_rawseti(L, -2, 1);
	lua_pushvalue(L, -1);
	lua_setiuservalue(L, pbidx, 1);
	pb->src.s = &pb->s;
	pb->src.map = lua_touserdata(L, 1);
	lbpf_ev_setup_decoder(L, &pb->src.dec, pb->src.map, 2, lua_gettop(L),
		      LBPF_PERFBUF);
	lbpf_ev_setup_fields(L, &pb->src, 2, -1, 0, LBPF_PERFBUF);
	pb->map_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (pb->map_fd < 0) {
		int err = -errno;

		lbpf_ev_release_decoder(L, &pb->src.dec);
		return lbpf_push_error(L, err, "libbpf.perfbuf: perf buffer on "
				       "map '%s' failed", map_name(pb->src.map));
	}
	errno = 0;
	frame = lbpf_print_enter(L);
	pb->pb = perf_buffer__new(pb->map_fd, (size_t)pages, perfbuf_sample,
				  perfbuf_lost, pb, NULL);
	if (!pb->pb) {
		int err = lbpf_errno(0);

		close(pb->map_fd);
		pb->map_fd = -1;
		lbpf_ev_release_decoder(L, &pb->src.dec);
		lbpf_push_error(L, err, "libbpf.perfbuf: perf buffer on "
				"map '%s' failed", map_name(pb->src.map));
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

static int pb_poll(lua_State *L)
{
	struct lbpf_perfbuf *pb = check_perfbuf(L, 1);
	int ms = lbpf_ev_check_timeout(L, 2);
	int ret;

	lbpf_ev_begin_poll(L, &pb->s);
	ret = perf_buffer__poll(pb->pb, ms);
	return lbpf_ev_end_poll(L, &pb->s, ret, pb, perfbuf_release);
}

static int pb_consume(lua_State *L)
{
	struct lbpf_perfbuf *pb = check_perfbuf(L, 1);
	int ret;

	lbpf_ev_begin_poll(L, &pb->s);
	ret = perf_buffer__consume(pb->pb);
	return lbpf_ev_end_poll(L, &pb->s, ret, pb, perfbuf_release);
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
