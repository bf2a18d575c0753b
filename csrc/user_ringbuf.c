/*
 * user_ringbuf.c - `libbpf.user_ringbuf`: records written from Lua for a
 * BPF program to drain (user_ring_buffer__*), as strings or tables encoded
 * by BTF; `libbpf.user_ringbuf_sample` is a reserved record.
 */
#include <errno.h>
#include <string.h>

#include "codec.h"
#include "events.h"
#include "print.h"

struct lbpf_user_ringbuf {
	struct user_ring_buffer *urb;
	struct lbpf_map *map;      /* kept by user value 1 */
	struct decoder enc;        /* codec + type size for tables */
	size_t ring_size;          /* bytes of the ring (max_entries) */
};

struct urb_sample {
	void *data;                /* NULL once submitted or discarded */
	__u32 size;
};

static const char *const user_ringbuf_options[] = {"type", "btf", NULL};

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
static int user_ringbuf_new(lua_State *L)
{
	int fd = lbpf_ev_check_map(L, 1, BPF_MAP_TYPE_USER_RINGBUF,
				  LBPF_USER_RINGBUF);
	struct lbpf_user_ringbuf *u;
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int err, frame;

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
	lua_getiuservalue(L, -1, 1); /* keeps a btf= handle */
	lbpf_ev_setup_decoder(L, &u->enc, u->map, 2, lua_gettop(L), LBPF_USER_RINGBUF);
	lua_pop(L, 1);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return lbpf_push_error(L, -errno, "libbpf.user_ringbuf: map '%s'",
				       map_name(u->map));
	u->ring_size = info.max_entries;
	errno = 0;
	frame = lbpf_print_enter(L);
	u->urb = user_ring_buffer__new(fd, NULL);
	err = u->urb ? 0 : lbpf_errno(0);
	lbpf_print_leave(L, frame);  /* u owns the buffer now: may raise */
	if (!u->urb) {
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
	/* libbpf takes a u32: check before it, and before encoding */
	if (size > u->ring_size - BPF_RINGBUF_HDR_SZ) {
		lua_pushnil(L);
		lua_pushfstring(L, "libbpf.user_ringbuf: record of %I bytes does "
				"not fit in map '%s' (%I bytes)", (lua_Integer)size,
				map_name(u->map), (lua_Integer)u->ring_size);
		lua_pushinteger(L, E2BIG);
		return 3;
	}	/* encode first: an encoding error must not leave a reservation */
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

	/* a closed object took its map's name with it */
	if (!u->urb || !map_usable(u->map))
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

void lbpf_open_user_ringbuf(lua_State *L)
{
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
	static const luaL_Reg none[] = {{NULL, NULL}};

	lbpf_new_class(L, LBPF_USER_RINGBUF, urb_meta, urb_methods, NULL);
	lbpf_new_class(L, LBPF_URB_SAMPLE, sample_meta, none, NULL);
	lua_pushcfunction(L, user_ringbuf_new);
	lua_setfield(L, -2, "user_ringbuf");
}
