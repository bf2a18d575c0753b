/*
 * map_bulk.c - the whole-map operations m:dump() and m:clear(): they walk
 * every element, so their memory must not grow with max_entries (a 1-entry
 * map sized for millions dumps in bounded chunks) and their loops must end
 * on every map type (a type they cannot walk is refused by name). map.c
 * lists `lbpf_map_bulk_methods`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "map.h"
#include "names.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524    /* the kernel's internal "not supported" */
#endif

/* A dump chunk holds about this many bytes of keys and values; it grows
 * (doubling) only when a hash bucket does not fit (ENOSPC). */
#define DUMP_CHUNK_BYTES (256 * 1024)

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

/* The chunk's key and value buffers for `n` entries: one userdata (at -2
 * below the result table, replacing the previous chunk). */
static char *dump_chunk(lua_State *L, __u32 n, size_t ks, size_t vsize)
{
	char *buf = lua_newuserdatauv(L, (size_t)n * (ks + vsize), 0);

	lua_replace(L, -3);
	return buf;
}

/* Push a table of every element read with BPF_MAP_LOOKUP_BATCH, a chunk at
 * a time, decoded as it arrives: the memory is the chunk plus the result,
 * whatever max_entries says. Returns EINVAL/ENOTSUPP/ENOSPC (nothing
 * pushed) when the map type has no batch ops or a bucket never fits. */
static int dump_batch(lua_State *L, struct lbpf_map *m, int fd,
		      const struct elem_opts *o)
{
	size_t ks = lbpf_map_key_size(m), slot, vsize;
	__u32 max = map_max_entries(m), chunk, count, i, total = 0;
	__u64 in_tok = 0, out_tok = 0;
	char *keys, *vals;
	int ncpu, err = 0;

	vsize = lbpf_map_value_buf_size(L, m, &slot, &ncpu);
	max = max ? max : 1;
	chunk = (__u32)(DUMP_CHUNK_BYTES / (ks + vsize));
	chunk = chunk < 1 ? 1 : chunk > max ? max : chunk;
	lua_pushnil(L);                 /* slot of the chunk buffer */
	lua_newtable(L);
	keys = dump_chunk(L, chunk, ks, vsize);
	vals = keys + (size_t)chunk * ks;
	while (!err && total < max) {
		count = chunk;
		err = bpf_map_lookup_batch(fd, total ? &in_tok : NULL, &out_tok,
					   keys, vals, &count, NULL) ? errno : 0;
		if (err == ENOSPC && count == 0 && chunk < max) {
			/* a bucket larger than the chunk: grow, same token */
			chunk = chunk > max / 2 ? max : chunk * 2;
			keys = dump_chunk(L, chunk, ks, vsize);
			vals = keys + (size_t)chunk * ks;
			err = 0;
			continue;
		}
		if (err && err != ENOENT) {
			lua_pop(L, 2);
			return err;
		}
		for (i = 0; i < count; i++) {
			lbpf_map_decode(L, o->kc, keys + (size_t)i * ks, ks);
			lbpf_map_push_value_as(L, m, o->vc,
					       vals + (size_t)i * vsize, o->raw);
			lua_rawset(L, -3);
		}
		total += count;
		in_tok = out_tok;
	}
	lua_remove(L, -2);              /* the chunk */
	return 0;
}

/* m:dump([{raw=, type=, key_type=}]) -> {key = value, ...}, with the batch
 * syscall where the map type has it, else by iteration */
static int map_dump(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	int fd = lbpf_map_ready_fd(L, m), err;
	struct elem_opts o;

	lbpf_map_ensure_codecs(L, 1, m);
	lbpf_map_elem_opts(L, 2, "dump", m, &o);
	lua_settop(L, 2);
	err = lbpf_map_key_size(m) ? dump_batch(L, m, fd, &o) : EINVAL;
	if (err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP ||
	    err == ENOSPC) {
		lua_settop(L, 2);
		lua_newtable(L);
		err = dump_iterate(L, m, fd, &o);
	}
	if (err)
		return lbpf_push_error(L, err, "dump of map '%s' failed",
				       lbpf_map_name(m));
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
		 * walking get_next_key would restart on hash maps anyway */
		while (!bpf_map_get_next_key(fd, NULL, key)) {
			if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
				goto fail;
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
