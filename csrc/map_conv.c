/*
 * map_conv.c - how a map's keys and values cross between Lua and C: the
 * map's attributes (sizes, per-CPU layout), its BTF codecs (found once,
 * lazily), type=/key_type= names, and the encode/decode glue: a string of
 * exactly the size is raw bytes, a BTF codec (codec.c) converts tables,
 * and without BTF 1/2/4/8-byte sizes are integers. m:enum_names() gives
 * the names of an enum key or value, for printers (libbpf.pretty).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "btf.h"
#include "btfcheck.h"
#include "codec.h"
#include "map.h"
#include "record.h"

/* ---- attributes ------------------------------------------------------------ */

__u32 lbpf_map_type(const struct lbpf_map *m)
{
	return m->map && !m->cached ? (__u32)bpf_map__type(m->map) : m->type;
}

__u32 lbpf_map_key_size(const struct lbpf_map *m)
{
	return m->map && !m->cached ? bpf_map__key_size(m->map) : m->key_size;
}

__u32 lbpf_map_value_size(const struct lbpf_map *m)
{
	return m->map && !m->cached ? bpf_map__value_size(m->map)
				    : m->value_size;
}

const char *lbpf_map_name(const struct lbpf_map *m)
{
	return m->map ? bpf_map__name(m->map) : m->name;
}

int lbpf_map_is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Size of the value buffer the syscalls fill: per-CPU maps hold one 8-byte
 * aligned slot per possible CPU. */
size_t lbpf_map_value_buf_size(lua_State *L, const struct lbpf_map *m,
			       size_t *slot, int *n)
{
	size_t vs = lbpf_map_value_size(m);

	*slot = vs;
	*n = 1;
	if (lbpf_map_is_percpu(lbpf_map_type(m))) {
		*slot = (vs + 7) & ~(size_t)7;
		*n = libbpf_num_possible_cpus();
		/* negative: -errno (no /sys/devices/system/cpu/possible); a
		 * buffer sized from it would be too small for the kernel */
		if (*n <= 0)
			luaL_error(L, "libbpf.map: cannot tell the number of "
				   "possible CPUs for per-CPU map '%s': %s",
				   lbpf_map_name(m), strerror(*n ? -*n : EINVAL));
		return *slot * (size_t)*n;
	}
	return vs;
}

/* 1 when `fd` is a BPF map, 0 when it is something else (a program, a
 * link, BTF, a file), -errno when that cannot be told. BPF_OBJ_GET_INFO_BY_FD
 * answers for any BPF fd with the struct of its own kind, so it cannot say;
 * the anon inode's name can ("anon_inode:bpf-map"). */
int lbpf_fd_is_map(int fd)
{
	char link[64], target[64];
	ssize_t n;

	if (fd < 0)
		return -EBADF;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	return strcmp(target, "anon_inode:bpf-map") == 0;
}

/* An element op needs a created map. */
int lbpf_map_ready_fd(lua_State *L, struct lbpf_map *m)
{
	int fd = lbpf_map_fd(m);

	if (fd < 0)
		luaL_error(L, "libbpf.map: map '%s' is not created yet%s",
			   lbpf_map_name(m), m->owner && !m->owner->loaded
			   ? " (call obj:load())" : "");
	return fd;
}

/* ---- key/value conversion ---------------------------------------------------- */

static void map_encode_integer(lua_State *L, int idx, void *buf, size_t size,
			   const char *what)
{
	int ok;
	lua_Integer v = lua_tointegerx(L, idx, &ok);

	if (!ok)
		luaL_error(L, "libbpf.map: %s must be an integer or a string of "
			   "%d bytes, got %s", what, (int)size, luaL_typename(L, idx));
	lbpf_store_uint(buf, (__u32)size, (__u64)v);
}

void lbpf_map_encode(lua_State *L, int idx, struct lbpf_codec *c, void *buf,
		 size_t size, const char *what)
{
	if (lua_type(L, idx) == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);

		if (len == size) {
			memcpy(buf, s, size);
			return;
		}
		if (!c)
			luaL_error(L, "libbpf.map: %s is a string of %d bytes, "
				   "expected %d", what, (int)len, (int)size);
	}
	if (c) {
		lbpf_codec_encode(L, idx, c, buf, size, what);
		return;
	}
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		map_encode_integer(L, idx, buf, size, what);
		return;
	}
	luaL_error(L, "libbpf.map: %s must be a string of %d bytes, got %s",
		   what, (int)size, luaL_typename(L, idx));
}

signed char lbpf_map_int_kind(const struct lbpf_codec *c, __u32 size)
{
	if (c)
		return (signed char)lbpf_codec_int(c);
	return size == 1 || size == 2 || size == 4 || size == 8 ? (signed char)size : 0;
}

void lbpf_map_decode(lua_State *L, struct lbpf_codec *c, const void *buf,
		 size_t size)
{
	if (c) {
		lbpf_codec_decode(L, c, buf, size);
		return;
	}
	if (size == 1 || size == 2 || size == 4 || size == 8)
		lua_pushinteger(L, (lua_Integer)lbpf_load_uint(buf, (__u32)size));
	else
		lua_pushlstring(L, buf, size);
}

/* The codec of BTF type `id` for the map's key or value (`what`) of
 * `size` bytes; a refused codec (raising on use, naming the map and the
 * type) when the type is invalid or its size is not the map's (issue 13:
 * decoding with it would read or write past the map's buffers). raw=true
 * still gives the bytes. */
static struct lbpf_codec *map_sized_codec(lua_State *L, struct lbpf_map *m,
				      __u32 id, size_t size, const char *what)
{
	struct lbpf_codec *c = id ? lbpf_codec_get(L, m->btf, id) : NULL;

	if (lbpf_codec_refused(c))
		return lbpf_codec_refuse(L, m->btf, "libbpf.map: map '%s', %s "
					 "type: %s", lbpf_map_name(m), what,
					 lbpf_codec_refused(c));
	if (c && lbpf_codec_size(c) != size)
		return lbpf_codec_refuse(L, m->btf, "libbpf.map: map '%s': its "
					 "BTF %s type (#%d) has %d bytes, the "
					 "map's %s_size is %d", lbpf_map_name(m),
					 what, (int)id, (int)lbpf_codec_size(c),
					 what, (int)size);
	return c;
}

/* After load, an object whose BTF the kernel refused (libbpf 1.1 then
 * creates the maps without it): its types were never checked by the
 * kernel, so typed operations raise instead of decoding with them. */
static struct lbpf_codec *map_btf_refused(lua_State *L, struct lbpf_map *m,
					  struct lbpf_codec *c,
					  const char *what)
{
	if (!c || lbpf_codec_refused(c) || !m->owner ||
	    !lbpf_btf_kernel_refused(m->owner->obj, m->owner->loaded))
		return c;
	return lbpf_codec_refuse(L, m->btf, "libbpf.map: map '%s': the "
				 "kernel refused the BTF of its object, so its "
				 "%s type is not used (give raw bytes, or name "
				 "a type with m:set_type{})", lbpf_map_name(m),
				 what);
}

/* A standalone map created with BTF (e.g. an object's map reopened from a
 * pin or an id): fetch that BTF from the kernel; the map userdata (at idx)
 * owns it through a libbpf.btf handle in its user value. */
static void map_load_kernel_btf(lua_State *L, int idx, struct lbpf_map *m)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct btf *btf;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(m->fd, &info, &len) || !info.btf_id)
		return;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return;
	lbpf_push_btf(L, 0, btf, 1);
	lua_setiuservalue(L, idx, 1);
	m->btf = btf;
	m->btf_key_type_id = info.btf_key_type_id;
	m->btf_value_type_id = info.btf_value_type_id;
}

/* Type `id` of `btf` without its modifiers and typedefs; NULL when not a
 * type. Bounded: a BTF (not yet checked, as lbpf_codec_get would) may
 * loop. */
static const struct btf_type *map_skip_mods(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	int hops;

	for (hops = 0; t && (btf_is_mod(t) || btf_is_typedef(t)) && hops < 32;
	     hops++)
		t = btf__type_by_id(btf, t->type);
	return t;
}

/* The value type of map `name` as its definition in the object's BTF gives
 * it, or 0: the `.maps` section's variable of that name, a struct whose
 * `value` member points to the type (`__type(value, struct job)`). */
static __u32 map_def_value_type(const struct btf *btf, const char *name)
{
	__s32 sec_id = btf__find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
	const struct btf_type *sec, *t;
	const struct btf_var_secinfo *v;
	const struct btf_member *mb;
	int i, n, j, nm;

	sec = sec_id > 0 ? btf__type_by_id(btf, (__u32)sec_id) : NULL;
	if (!sec || !name)
		return 0;
	v = btf_var_secinfos(sec);
	for (i = 0, n = btf_vlen(sec); i < n; i++, v++) {
		const char *vname;

		t = btf__type_by_id(btf, v->type);
		vname = t && btf_is_var(t) ? btf__name_by_offset(btf, t->name_off)
					   : NULL;
		if (!vname || strcmp(vname, name) != 0)
			continue;
		t = map_skip_mods(btf, t->type);
		if (!t || !btf_is_struct(t))
			return 0;
		mb = btf_members(t);
		for (j = 0, nm = btf_vlen(t); j < nm; j++, mb++) {
			const char *mname = btf__name_by_offset(btf, mb->name_off);

			if (mname && strcmp(mname, "value") == 0) {
				t = map_skip_mods(btf, mb->type);
				return t && btf_is_ptr(t) ? t->type : 0;
			}
		}
		return 0;
	}
	return 0;
}

/* The definition's value type of the object's map m when it has the
 * map's value size, else 0: a value_size changed before load
 * (m:set_value_size) leaves raw bytes, as libbpf leaves a map whose BTF
 * type no longer fits (it creates it without BTF). */
static __u32 map_def_value_sized(struct lbpf_map *m)
{
	__u32 id = map_def_value_type(m->btf, bpf_map__name(m->map));
	__s64 size = id ? btf__resolve_size(m->btf, id) : -1;

	return size >= 0 && (size_t)size == lbpf_map_value_size(m) ? id : 0;
}

/* Map types whose value type comes from the definition when the map has
 * none: libbpf creates queues and stacks without BTF (the kernel refuses it
 * for them) and zeroes their type ids; bloom filters keep theirs with
 * libbpf 1.5, listed for a libbpf that drops it. The other types libbpf
 * strips (perf event arrays, stack traces, devmaps...) keep the integers
 * and raw bytes they always gave. */
static int map_value_from_def(__u32 type)
{
	return type == BPF_MAP_TYPE_QUEUE || type == BPF_MAP_TYPE_STACK ||
	       type == BPF_MAP_TYPE_BLOOM_FILTER;
}

/* Attach BTF codecs the first time the map (at idx) is used: the object's
 * BTF, or the kernel's for standalone maps. Done once: the hot path pays a
 * flag test. */
void lbpf_map_ensure_codecs(lua_State *L, int idx, struct lbpf_map *m)
{
	if (m->typed)
		return;
	m->typed = 1;
	if (m->map && m->owner && m->owner->obj) {
		m->btf = bpf_object__btf(m->owner->obj);
		m->btf_key_type_id = bpf_map__btf_key_type_id(m->map);
		m->btf_value_type_id = bpf_map__btf_value_type_id(m->map);
		if (m->btf && !m->btf_value_type_id &&
		    map_value_from_def(lbpf_map_type(m)))
			m->btf_value_type_id = map_def_value_sized(m);
	} else if (!m->owner && m->fd >= 0) {
		map_load_kernel_btf(L, idx, m);
	}
	if (!m->btf)
		return;
	m->key_codec = map_btf_refused(L, m, map_sized_codec(L, m,
		m->btf_key_type_id, lbpf_map_key_size(m), "key"), "key");
	m->value_codec = map_btf_refused(L, m, map_sized_codec(L, m,
		m->btf_value_type_id, lbpf_map_value_size(m), "value"), "value");
}

/* A codec by type name for the map: its BTF, builtins, the kernel's BTF.
 * (Builtin codecs are static and never written: the cast is safe.) */
static struct lbpf_codec *map_codec_in(lua_State *L, struct lbpf_map *m,
				       const struct btf *btf, const char *name,
				       size_t size, const char *what)
{
	const struct lbpf_codec *c = lbpf_codec_by_name(L, btf, name);

	if (lbpf_codec_size(c) != size)
		luaL_error(L, "libbpf.map: %s type '%s' has %d bytes, map '%s' "
			   "has %d", what, name, (int)lbpf_codec_size(c),
			   lbpf_map_name(m), (int)size);
	return (struct lbpf_codec *)c;
}

struct lbpf_codec *lbpf_map_named_codec(lua_State *L, struct lbpf_map *m,
				      const char *name, size_t size,
				      const char *what)
{
	return map_codec_in(L, m, m->btf, name, size, what);
}

void lbpf_map_elem_opts(lua_State *L, int idx, const char *fname,
			    struct lbpf_map *m, struct elem_opts *o)
{
	static const char *const opts[] = {"raw", "type", "key_type", "btf", NULL};
	const struct btf *btf = m->btf;
	const char *vname, *kname;

	o->raw = 0;
	o->kc = m->key_codec;
	o->vc = m->value_codec;
	if (lua_isnoneornil(L, idx))
		return;
	lbpf_check_options(L, idx, fname, opts);
	o->raw = lbpf_opt_boolean(L, idx, "raw", 0);
	vname = lbpf_opt_string(L, idx, "type", NULL);
	kname = lbpf_opt_string(L, idx, "key_type", NULL);
	/* btf= read last, so no option's __index runs after it is checked;
	 * the option table holds it for the call */
	if (lua_getfield(L, idx, "btf") != LUA_TNIL) {
		luaL_checkudata(L, -1, LBPF_BTF);
		btf = lbpf_check_btf(L, -1);
	}
	lua_pop(L, 1);
	if (vname)
		o->vc = map_codec_in(L, m, btf, vname, lbpf_map_value_size(m), "value");
	if (kname)
		o->kc = map_codec_in(L, m, btf, kname, lbpf_map_key_size(m), "key");
}

/* m:set_type{key=, value= [, btf=]}: the key/value types (by name, in the
 * map's BTF or the given libbpf.btf) for every later operation. */
int lbpf_map_set_types(lua_State *L)
{
	static const char *const opts[] = {"key", "value", "btf", NULL};
	struct lbpf_map *m = lbpf_check_map(L, 1);
	const struct btf *btf;
	const char *key, *value;

	lbpf_check_options(L, 2, "set_type", opts);
	key = lbpf_opt_string(L, 2, "key", NULL);
	value = lbpf_opt_string(L, 2, "value", NULL);
	lua_getfield(L, 2, "btf");
	lbpf_check_map(L, 1); /* an option's __index may have closed it */
	lbpf_map_ensure_codecs(L, 1, m);
	btf = m->btf;
	if (!lua_isnil(L, -1)) { /* btf=: the types come from there, kept */
		luaL_checkudata(L, -1, LBPF_BTF);
		btf = lbpf_btf_lend(L, -1, 1);
	}
	if (key)
		m->key_codec = map_codec_in(L, m, btf, key, lbpf_map_key_size(m), "key");
	if (value)
		m->value_codec = map_codec_in(L, m, btf, value,
					      lbpf_map_value_size(m), "value");
	m->cached = 0; /* map.c's integer fast path is chosen again */
	lua_settop(L, 1);
	return 1;
}

/* Push the value in `buf` (per-CPU maps: a list, one value per CPU). */
void lbpf_map_push_value_as(lua_State *L, struct lbpf_map *m,
			  struct lbpf_codec *c, const char *buf, int raw)
{
	size_t slot;
	int i, n;
	size_t total = lbpf_map_value_buf_size(L, m, &slot, &n);

	if (raw) {
		lua_pushlstring(L, buf, total);
		return;
	}
	if (!lbpf_map_is_percpu(lbpf_map_type(m))) {
		lbpf_map_decode(L, c, buf, lbpf_map_value_size(m));
		return;
	}
	lua_createtable(L, n, 0);
	for (i = 0; i < n; i++) {
		lbpf_map_decode(L, c, buf + (size_t)i * slot, lbpf_map_value_size(m));
		lua_rawseti(L, -2, i + 1);
	}
}

void lbpf_map_push_value(lua_State *L, struct lbpf_map *m, const char *buf,
		       int raw)
{
	lbpf_map_push_value_as(L, m, raw ? NULL : m->value_codec, buf, raw);
}

/* Map-in-map and program-array values may be given as handles: their fd. */
static int map_handle_fd(lua_State *L, int idx)
{
	if (lua_type(L, idx) != LUA_TUSERDATA)
		return -1;
	if (lbpf_test_class(L, idx, LBPF_MAP))
		return lbpf_map_fd(lbpf_check_map(L, idx));
	if (luaL_testudata(L, idx, LBPF_PROG))
		return lbpf_prog_fd(lbpf_check_prog(L, idx));
	return -1;
}

/* Encode the value at idx into buf (per-CPU: a list of values, or one
 * value replicated to every CPU, or raw bytes of the whole buffer). */
void lbpf_map_encode_value(lua_State *L, int idx, struct lbpf_map *m, char *buf)
{
	size_t slot;
	int i, n;
	size_t total = lbpf_map_value_buf_size(L, m, &slot, &n);
	size_t vs = lbpf_map_value_size(m);

	if (!lbpf_map_is_percpu(lbpf_map_type(m))) {
		int fd = map_handle_fd(L, idx);

		if (fd >= 0 && vs == sizeof(__u32))
			memcpy(buf, &fd, sizeof(__u32));
		else
			lbpf_map_encode(L, idx, m->value_codec, buf, vs, "value");
		return;
	}
	memset(buf, 0, total);
	if (lua_type(L, idx) == LUA_TSTRING && lua_rawlen(L, idx) == total) {
		memcpy(buf, lua_tostring(L, idx), total);
		return;
	}
	if (lua_type(L, idx) == LUA_TTABLE && lua_rawlen(L, idx) > 0 &&
	    !(m->value_codec && lua_rawlen(L, idx) != (size_t)n)) {
		for (i = 0; i < n; i++) {
			lua_rawgeti(L, idx, i + 1);
			if (!lua_isnil(L, -1))
				lbpf_map_encode(L, -1, m->value_codec,
					    buf + (size_t)i * slot, vs, "value");
			lua_pop(L, 1);
		}
		return;
	}
	for (i = 0; i < n; i++)
		lbpf_map_encode(L, idx, m->value_codec, buf + (size_t)i * slot, vs,
			    "value");
}

/* A scratch buffer on the Lua stack (userdata) when the stack one is small. */
char *lbpf_map_value_buffer(lua_State *L, struct lbpf_map *m, char *small,
			  size_t *total)
{
	size_t slot;
	int n;

	*total = lbpf_map_value_buf_size(L, m, &slot, &n);
	if (*total <= STACK_VALUE)
		return small;
	return lua_newuserdatauv(L, *total, 0);
}

char *lbpf_map_key_buffer(lua_State *L, struct lbpf_map *m, char *small)
{
	size_t ks = lbpf_map_key_size(m);

	if (ks <= STACK_VALUE)
		return small;
	return lua_newuserdatauv(L, ks, 0);
}


/* ---- m:enum_names() ------------------------------------------------------- */

/* m:enum_names(): {key = {[value] = "NAME"}, value = {...}}, a side
 * present when its type is an enum (or an array of one), for printers:
 * decoded keys and values stay integers. Before load the object's BTF is
 * read without fixing the map's codecs (the load decides whether the
 * kernel took the BTF). */
static int map_enum_names(lua_State *L)
{
	struct lbpf_map *m = lbpf_check_map(L, 1);
	struct lbpf_codec *kc, *vc;

	if (!m->typed && m->map && m->owner && m->owner->obj &&
	    !m->owner->loaded) {
		const struct btf *btf = bpf_object__btf(m->owner->obj);

		kc = btf ? lbpf_codec_get(L, btf,
					  bpf_map__btf_key_type_id(m->map)) : NULL;
		vc = btf ? lbpf_codec_get(L, btf,
					  bpf_map__btf_value_type_id(m->map)) : NULL;
	} else {
		lbpf_map_ensure_codecs(L, 1, m);
		kc = m->key_codec;
		vc = m->value_codec;
	}
	lua_createtable(L, 0, 2);
	lbpf_record_push_enum(L, kc);
	lua_setfield(L, -2, "key");
	lbpf_record_push_enum(L, vc);
	lua_setfield(L, -2, "value");
	return 1;
}

const luaL_Reg lbpf_map_conv_methods[] = {
	{"enum_names", map_enum_names},
	{NULL, NULL}
};
