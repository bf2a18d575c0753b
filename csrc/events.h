/*
 * events.h - what the event stream files share: events.c (decoding plans,
 * the record view, poll bookkeeping), ringbuf.c (`libbpf.ringbuf` and its
 * batches), perfbuf.c (`libbpf.perfbuf`), user_ringbuf.c
 * (`libbpf.user_ringbuf`).
 *
 * Lifetimes: a poller's user value 1 is a table holding the map userdata it
 * reads (so their object outlives the poller's libbpf handle). Before every
 * use the poller checks that those maps' objects are still open; when one
 * was closed the libbpf buffer is freed and the poller raises "... is
 * closed". Callbacks are registry references (luv style), released on
 * close/__gc.
 *
 * Records reach Lua in one of three shapes, chosen once at construction
 * (`struct decoder`): raw bytes (raw=true, or no BTF codec), a fresh value
 * decoded by the BTF codec of codec.c, or a reusable view (view=true): one
 * userdata per source whose fields are read on access through a plan
 * compiled from BTF when the poller was made; it is valid only during the
 * callback.
 */
#ifndef LBPF_EVENTS_H
#define LBPF_EVENTS_H

#include <string.h>

#include "handles.h"
#include "interrupt.h"

#define LBPF_RINGBUF "libbpf.ringbuf"
#define LBPF_PERFBUF "libbpf.perfbuf"
#define LBPF_USER_RINGBUF "libbpf.user_ringbuf"
#define LBPF_URB_SAMPLE "libbpf.user_ringbuf_sample"
#define LBPF_VIEW "libbpf.event_view"
#define LBPF_BATCH "libbpf.ringbuf_batch"

#define MAX_SOURCES 32

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
	/* the plan by member name, keyed by the address of the name's
	 * interned string (events.c, view_index) */
	size_t mask;                     /* slots - 1 */
	struct view_slot {
		const char *name;
		lua_Integer plan;
	} slot[];
};

/* plan entries: offset << 32 | size << 4 | kind (size < 2^28) */
#define PLAN_MAX_SIZE 0xfffffff
enum field_kind { F_UINT, F_INT, F_BOOL, F_CHARS };

static inline size_t plan_off(lua_Integer plan)
{
	return (size_t)((__u64)plan >> 32);
}

/* bytes of the record a plan entry reads up to */
static inline size_t plan_end(lua_Integer plan)
{
	return plan_off(plan) + (size_t)((plan >> 4) & PLAN_MAX_SIZE);
}

/* Push field `plan` of the record at `data`, whose size was checked to
 * hold it (plan_end). The hot path of views, fields= and columns: one
 * switch on the entry's low byte, which for integers and bools (1, 2, 4
 * or 8 bytes) is size << 4 | kind. */
static inline __attribute__((always_inline))
void lbpf_ev_push_planned(lua_State *L, lua_Integer plan,
			  const unsigned char *data)
{
	const unsigned char *p = data + plan_off(plan);
	__u8 u8; __u16 u16; __u32 u32; __u64 u64;

	switch (plan & 0xff) {
	case 0x10 | F_UINT: lua_pushinteger(L, *p); return;
	case 0x20 | F_UINT: memcpy(&u16, p, 2); lua_pushinteger(L, u16); return;
	case 0x40 | F_UINT: memcpy(&u32, p, 4); lua_pushinteger(L, u32); return;
	case 0x80 | F_UINT: memcpy(&u64, p, 8);
		lua_pushinteger(L, (lua_Integer)u64); return;
	case 0x10 | F_INT: u8 = *p; lua_pushinteger(L, (__s8)u8); return;
	case 0x20 | F_INT: memcpy(&u16, p, 2); lua_pushinteger(L, (__s16)u16); return;
	case 0x40 | F_INT: memcpy(&u32, p, 4); lua_pushinteger(L, (__s32)u32); return;
	case 0x80 | F_INT: memcpy(&u64, p, 8);
		lua_pushinteger(L, (lua_Integer)u64); return;
	case 0x10 | F_BOOL: lua_pushboolean(L, *p != 0); return;
	case 0x20 | F_BOOL: memcpy(&u16, p, 2); lua_pushboolean(L, u16 != 0); return;
	case 0x40 | F_BOOL: memcpy(&u32, p, 4); lua_pushboolean(L, u32 != 0); return;
	case 0x80 | F_BOOL: memcpy(&u64, p, 8); lua_pushboolean(L, u64 != 0); return;
	default:  /* F_CHARS, any size: up to the first NUL */
		u64 = (__u64)(plan >> 4) & PLAN_MAX_SIZE;
		lua_pushlstring(L, (const char *)p,
				strnlen((const char *)p, (size_t)u64));
		return;
	}
}

static inline const char *map_name(const struct lbpf_map *m)
{
	return m->map ? bpf_map__name(m->map) : m->name;
}

static inline __u32 map_type(const struct lbpf_map *m)
{
	return m->map ? (__u32)bpf_map__type(m->map) : m->type;
}

static inline int map_usable(const struct lbpf_map *m)
{
	return !m->closed && !(m->owner && m->owner->closed);
}

/* ---- poll bookkeeping (events.c) ------------------------------------------ */

struct stream {
	lua_State *L;         /* the thread running poll, during poll */
	int msgh;             /* stack index of the traceback handler */
	int in_poll;
	int failed;           /* a callback raised: its error is on L's top */
	int stopped;          /* a callback returned a non-zero integer */
	int object_closed;    /* a map's object was closed under us */
	int close_pending;    /* close() called from a callback */
	int closed;
	int interrupted;      /* a stop signal came while delivering */
	sig_atomic_t seq;     /* lbpf_interrupt_seq when the poll began */
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

struct batch;
struct fields;

struct source {
	struct stream *s;
	struct lbpf_map *map; /* kept alive by the poller's user value */
	int cbref;
	struct decoder dec;
	struct ring ring;
	struct batch *batch;  /* batch=...: records per callback (ring buffers) */
	int batchref;
	struct fields *fields; /* fields=...: members passed as arguments */
};

/* Compile the field plan of struct `id` and push it (a table name ->
 * offset << 32 | size << 4 | kind). */
void lbpf_ev_push_plan(lua_State *L, const struct btf *btf, __u32 id,
		       const char *who, const char *tname);
/* Fill `d` from the options at `optidx` ({type=, btf=, raw=, view=}) for
 * records of map `m`; `uvidx` is the poller's user value table (holds views
 * and the btf= handle).
 * Called after every other option was read: raises when an option's
 * metamethod closed the map's object. */
void lbpf_ev_setup_decoder(lua_State *L, struct decoder *d,
			   const struct lbpf_map *m, int optidx, int uvidx,
			   const char *who);
void lbpf_ev_release_decoder(lua_State *L, struct decoder *d);
/* Push field `plan` of the record at `data` (`size` bytes). */
void lbpf_ev_push_field(lua_State *L, lua_Integer plan,
			const unsigned char *data, size_t size,
			const char *who, const char *name);
/* fields= of the options at `optidx` ({fields={"pid", ...}}) for the
 * records of src (its decoder set up): compile the chosen members' plans
 * into src->fields (anchored in the user value table at `uvidx`), or raise
 * naming every unknown member; `batched`: batch= was given (refused). */
void lbpf_ev_setup_fields(lua_State *L, struct source *src, int optidx,
			  int uvidx, int batched, const char *who);
/* Push the fields= members of the record; returns how many. The caller
 * made room for LBPF_EV_FIELDS_MAX values (once per poll, not per
 * record). */
#define LBPF_EV_FIELDS_MAX 64
int lbpf_ev_push_fields_room(lua_State *L, const struct fields *f,
			     const unsigned char *data, size_t size,
			     const char *who);
/* Push the record for a callback; 0 with a message pushed if it is too
 * short for its type. */
int lbpf_ev_push_record(lua_State *L, struct decoder *d, const void *data,
			size_t size, const char *tname);
/* After a callback returned, with nothing batched: if a stop signal
 * (SIGINT, SIGTERM, ...: interrupt.h) came since the poll began, the poll
 * delivers no more (the rest stays in the ring) and returns nil,
 * "interrupted", EINTR. One volatile load per callback. */
static inline void lbpf_ev_note_interrupt(struct stream *s)
{
	/* `stopped` too: the readers' loops test no extra flag per record */
	if (__builtin_expect(lbpf_interrupt_seq != s->seq, 0))
		s->interrupted = s->stopped = 1;
}

/* Start a poll: push the traceback handler (s->msgh), refuse re-entry. */
void lbpf_ev_begin_poll(lua_State *L, struct stream *s);
/* End a poll after the reader returned `ret`: raise a callback's error, or
 * push the count, or nil, "interrupted", EINTR (the wait or the delivery
 * was interrupted), or the failure. */
int lbpf_ev_end_poll(lua_State *L, struct stream *s, int ret, void *p,
		     void (*release)(lua_State *, void *));
/* Free the poller and raise when a source's object was closed. */
void lbpf_ev_check_sources(lua_State *L, struct source *src, int n,
			   struct stream *s, void *p,
			   void (*release)(lua_State *, void *));
void lbpf_ev_release_source(lua_State *L, struct source *src);
/* The poll timeout (ms) at idx: -1 for none, nil or negative; raises
 * beyond an int. */
int lbpf_ev_check_timeout(lua_State *L, int idx);
/* Check that `idx` is a loaded map of `type`; returns its fd. */
int lbpf_ev_check_map(lua_State *L, int idx, __u32 type, const char *who);
void lbpf_ev_check_callable(lua_State *L, int idx, const char *what);

/* ---- batches (ringbuf.c), for perf buffers ---------------------------------- */

/* batch= of the options at optidx ({batch=true|false|N}): records per
 * callback, 0 for none; raises for anything else */
int lbpf_ev_opt_batch(lua_State *L, int optidx, const char *who);
/* Push a `libbpf.ringbuf_batch` of `cap` records decoded by `d` (its
 * column plan from d's struct type, if any). */
struct batch *lbpf_ev_push_batch(lua_State *L, int cap,
				 const struct decoder *d);
/* Add a record (valid until the batch's callback returns); non-zero when
 * the batch is full. */
int lbpf_ev_batch_add(struct batch *b, const unsigned char *data,
		      __u32 size);
int lbpf_ev_batch_len(const struct batch *b);
/* Open the batch to its callback (src), or close it (NULL: it is emptied
 * and raises when used). */
void lbpf_ev_batch_bind(struct batch *b, struct source *src);

void lbpf_open_events(lua_State *L);      /* events.c */
void lbpf_open_ringbuf(lua_State *L);       /* ringbuf.c */
void lbpf_open_perfbuf(lua_State *L);       /* perfbuf.c */
void lbpf_open_user_ringbuf(lua_State *L);  /* user_ringbuf.c */

#endif
