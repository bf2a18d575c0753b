/*
 * map_bulk.c - the whole-map operations m:dump() and m:clear(): they walk
 * every element, so their memory must not grow with max_entries (a 1-entry
 * map sized for millions dumps in bounded chunks) and their loops must end
 * on every map type (a type they cannot walk is refused by name). map.c
 * lists `lbpf_map_bulk_methods`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "names.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524    /* the kernel's internal "not supported" */
#endif

/* A dump's first batch call reads up to this many bytes of keys and values
 * (a map that fits is read in one call, into one buffer, no copy); the
 * chunk grows (doubling) only when a hash bucket does not fit (ENOSPC). */
#define DUMP_CHUNK_BYTES (4 * 1024 * 1024)

static __u32 map_max_entries(const struct lbpf_map *m)
{
	return m->map ? bpf_map__max_entries(m->map) : m->max_entries;
}

/* Fill the table at -1 by iteration (maps without batch support). */
static int dump_iterate(lua_State *L, struct lbpf_map *m, int fd,
			const struct elem_opts *o)
{
	size_t ks = lbpf_map_key_size(m), slot;
	int ncpu, started = 0;
	char *keys = lua_newuserdatauv(L, 2 * (ks ? ks : 1), 0);
	char *val = lua_newuserdatauv(L, lbpf_map_value_buf_size(L, m, &slot, &ncpu), 0);

	lua_rotate(L, -3, 1);   /* the result table back on top */
	lua_rotate(L, -3, 1);
	for (;;) {
		if (bpf_map_get_next_key(fd, started ? keys : NULL, keys + ks)) {
			if (errno == ENOENT)
				return 0;
			return errno;
		}
		started = 1;
		memcpy(keys, keys + ks, ks);
		if (bpf_map_lookup_elem(fd, keys, val)) {
			if (errno == ENOENT)
				continue;
			return errno;
		}
		lbpf_map_decode(L, o->kc, keys, ks);
		lbpf_map_push_value_as(L, m, o->vc, val, o->raw);
		lua_rawset(L, -3);
	}
}

/* Every entry read so far: the keys of `cap` entries, then their values,
 * in one userdata (at -1, replacing the previous one) */
struct dump_buf {
	char *keys, *vals;
	__u32 cap;
};

/* Room for `n` entries, keeping the `kept` read so far. */
static void dump_room(lua_State *L, struct dump_buf *b, __u32 n, __u32 kept,
		      size_t ks, size_t vsize)
{
	char *p = lua_newuserdatauv(L, (size_t)n * (ks + vsize), 0);

	if (kept) {
		memcpy(p, b->keys, (size_t)kept * ks);
		memcpy(p + (size_t)n * ks, b->vals, (size_t)kept * vsize);
	}
	lua_replace(L, -2);
	b->keys = p;
	b->vals = p + (size_t)n * ks;
	b->cap = n;
}

/* Push the table of the `n` entries of `b`, sized for them: integer keys
 * that fill 1..n mostly go to its array part (lua_rawseti), and plain
 * integers are pushed without the codecs. */
static void dump_table(lua_State *L, struct lbpf_map *m,
		       const struct elem_opts *o, const struct dump_buf *b,
		       __u32 n, size_t ks, size_t vsize)
{
	int ik = o->kc == m->key_codec ? lbpf_map_int_kind(o->kc, (__u32)ks) : 0;
	int iv = o->vc == m->value_codec && !o->raw &&
		 !lbpf_map_is_percpu(lbpf_map_type(m)) ?
		 lbpf_map_int_kind(o->vc, lbpf_map_value_size(m)) : 0;
	__u32 i, narr = 0;

	ik = (size_t)abs(ik) == ks ? ik : 0;
	iv = (size_t)abs(iv) == vsize ? iv : 0;
	if (ik) {
		for (i = 0; i < n; i++) {
			lua_Integer k = lbpf_map_load_int(ik, b->keys + (size_t)i * ks);

			narr += k >= 1 && k <= (lua_Integer)n;
		}
		narr = narr > n / 2 ? narr : 0;
	}
	lua_createtable(L, narr ? (int)n : 0, (int)(n - narr));
	for (i = 0; i < n; i++) {
		const char *key = b->keys + (size_t)i * ks;
		const char *val = b->vals + (size_t)i * vsize;

		if (iv)
			lua_pushinteger(L, lbpf_map_load_int(iv, val));
		else
			lbpf_map_push_value_as(L, m, o->vc, val, o->raw);
		if (ik) {
			lua_rawseti(L, -2, lbpf_map_load_int(ik, key));
		} else {
			lbpf_map_decode(L, o->kc, key, ks);
			lua_insert(L, -2);
			lua_rawset(L, -3);
		}
	}
}

/* Push a table of every element read with BPF_MAP_LOOKUP_BATCH, a chunk at
 * a time into a buffer that grows with the entries read (never with
 * max_entries), then decoded into a table made at its final size. Returns
 * EINVAL/ENOTSUPP/ENOSPC (nothing pushed) when the map type has no batch
 * ops or a bucket never fits. */
static int dump_batch(lua_State *L, struct lbpf_map *m, int fd,
		      const struct elem_opts *o)
{
	size_t ks = lbpf_map_key_size(m), slot, vsize;
	__u32 max = map_max_entries(m), chunk, count, total = 0;
	__u64 in_tok = 0, out_tok = 0;
	struct dump_buf b = {NULL, NULL, 0};
	int ncpu, err = 0;

	vsize = lbpf_map_value_buf_size(L, m, &slot, &ncpu);
	max = max ? max : 1;
	chunk = (__u32)(DUMP_CHUNK_BYTES / (ks + vsize));
	chunk = chunk < 1 ? 1 : chunk > max ? max : chunk;
	lua_pushnil(L);                 /* slot of the buffer */
	dump_room(L, &b, chunk, 0, ks, vsize);
	while (!err && total < max) {
		if (b.cap - total < chunk && b.cap < max) {
			__u32 n = b.cap > max / 2 ? max : 2 * b.cap;

			n = n - total < chunk && max - total >= chunk ?
			    total + chunk : n;
			dump_room(L, &b, n, total, ks, vsize);
		}
		count = chunk < b.cap - total ? chunk : b.cap - total;
		err = bpf_map_lookup_batch(fd, total ? &in_tok : NULL, &out_tok,
					   b.keys + (size_t)total * ks,
					   b.vals + (size_t)total * vsize,
					   &count, NULL) ? errno : 0;
		if (err == ENOSPC && count == 0 && chunk < max) {
			/* a bucket larger than the chunk: grow, same token */
			chunk = chunk > max / 2 ? max : chunk * 2;
			err = 0;
			continue;
		}
		if (err && err != ENOENT) {
			lua_pop(L, 1);
			return err;
		}
		total += count;
		in_tok = out_tok;
	}
	dump_table(L, m, o, &b, total, ks, vsize);
	lua_remove(L, -2);              /* the buffer */
	return 0;
}

/* Why a dump of the map fails when its type has no keys to walk: the
 * kernel gives only EINVAL or EOPNOTSUPP. */
static const char *dump_hint(const struct lbpf_map *m)
{
	switch (lbpf_map_type(m)) {
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
		return " (a queue or stack cannot be listed without taking its "
		       "values: m:peek(), m:pop())";
	case BPF_MAP_TYPE_BLOOM_FILTER:
		return " (a bloom filter cannot be listed)";
	default:
		return "";
	}
}

/* m:dump([{raw=, type=, key_type=}]) -> {key = value, ...}, with the batch
 * syscall where the map type has it, else by iteration */
static int map_dump(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	int fd = lbpf_map_ready_fd(L, m), err;
	struct elem_opts o;
	int base;

	lbpf_map_ensure_codecs(L, 1, m);
	lua_settop(L, 2);
	/* the options may run metamethods, decoding allocates (finalizers):
	 * neither may close the object (its codecs) or the standalone map
	 * (its fd, reused by the next open) under us */
	lbpf_map_busy(L, m, 1);
	lbpf_map_elem_opts(L, 2, "dump", m, &o);
	base = lua_gettop(L);
	err = lbpf_map_key_size(m) ? dump_batch(L, m, fd, &o) : EINVAL;
	if (err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP ||
	    err == ENOSPC) {
		lua_settop(L, base);
		lua_newtable(L);
		err = dump_iterate(L, m, fd, &o);
	}
	if (err)
		return lbpf_push_error(L, err, "dump of map '%s' failed%s",
				       lbpf_map_name(m), dump_hint(m));
	return 1;
}

/* ---- m:clear() ---------------------------------------------------------------- */

enum clear_way { CLEAR_NONE, CLEAR_ZERO, CLEAR_SLOTS, CLEAR_KEYS, CLEAR_POP };

/* How a map type is emptied: arrays of values are zeroed; arrays of fds
 * (perf events, programs, maps, devices, sockets) have each slot deleted,
 * as get_next_key always finds slot 0 there; hashes and tries lose their
 * first key until none is left; queues and stacks are popped. Anything else
 * (ring buffers, storage maps, bloom filters...) cannot be walked. */
static enum clear_way clear_way(__u32 type)
{
	switch (type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return CLEAR_ZERO;
	case BPF_MAP_TYPE_PROG_ARRAY:
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
	case BPF_MAP_TYPE_CGROUP_ARRAY:
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_DEVMAP:
	case BPF_MAP_TYPE_CPUMAP:
	case BPF_MAP_TYPE_XSKMAP:
	case BPF_MAP_TYPE_SOCKMAP:
	case BPF_MAP_TYPE_REUSEPORT_SOCKARRAY:
		return CLEAR_SLOTS;
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_HASH_OF_MAPS:
	case BPF_MAP_TYPE_LPM_TRIE:
	case BPF_MAP_TYPE_SOCKHASH:
	case BPF_MAP_TYPE_DEVMAP_HASH:
		return CLEAR_KEYS;
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
		return CLEAR_POP;
	default:
		return CLEAR_NONE;
	}
}

/* m:clear() -> number of entries removed (arrays: zeroed) */
static int map_clear(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	int fd = lbpf_map_ready_fd(L, m);
	size_t ks = lbpf_map_key_size(m), slot, total;
	__u32 type = lbpf_map_type(m), i, max = map_max_entries(m);
	enum clear_way way = clear_way(type);
	lua_Integer n = 0;
	int ncpu;
	char *key, *val;

	if (way == CLEAR_NONE || (way != CLEAR_POP && !ks) ||
	    ((way == CLEAR_ZERO || way == CLEAR_SLOTS) && ks != sizeof(__u32)))
		return luaL_error(L, "libbpf.map: clear: map '%s' of type %s "
				  "cannot be cleared", lbpf_map_name(m),
				  lbpf_map_type_name(type));
	total = lbpf_map_value_buf_size(L, m, &slot, &ncpu);
	key = lua_newuserdatauv(L, ks ? ks : 1, 0);
	val = lua_newuserdatauv(L, total ? total : 1, 0);
	memset(val, 0, total);
	if (way == CLEAR_ZERO) {
		for (i = 0; i < max; i++, n++)
			if (bpf_map_update_elem(fd, &i, val, BPF_ANY))
				goto fail;
	} else if (way == CLEAR_SLOTS) {
		for (i = 0; i < max; i++) {
			if (!bpf_map_delete_elem(fd, &i))
				n++;
			else if (errno != ENOENT)
				goto fail;
		}
	} else if (way == CLEAR_POP) {
		while (!bpf_map_lookup_and_delete_elem(fd, NULL, val))
			n++;
		if (errno != ENOENT)
			goto fail;
	} else {
		/* delete the first key until none is left: deleting while
		 * walking get_next_key would restart on hash maps anyway. A
		 * key that get_next_key gives but delete does not find is
		 * stepped over; entries that keep coming (a program adding
		 * them) end the loop after a bound instead of spinning. */
		char *prev = lua_newuserdatauv(L, ks, 0);
		const void *from = NULL;
		lua_Integer rounds = 0, bound = 2 * (lua_Integer)max + 64;

		while (!bpf_map_get_next_key(fd, from, key)) {
			if (++rounds > bound) {
				errno = EAGAIN;
				goto fail;
			}
			if (bpf_map_delete_elem(fd, key)) {
				if (errno != ENOENT)
					goto fail;
				memcpy(prev, key, ks);
				from = prev;
				continue;
			}
			from = NULL;
			n++;
		}
		if (errno != ENOENT)
			goto fail;
	}
	lua_pushinteger(L, n);
	return 1;
fail:
	return lbpf_push_error(L, errno, "clear of map '%s' failed",
			       lbpf_map_name(m));
}

const luaL_Reg lbpf_map_bulk_methods[] = {
	{"dump", map_dump},
	{"clear", map_clear},
	{NULL, NULL}
};
