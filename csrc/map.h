/*
 * map.h - the libbpf.map handle: its constructors (map_new.c), its attributes
 * and key/value conversion (map_conv.c) and its pre-load setters
 * (map_config.c), private to the map files and the files that make maps.
 */
#ifndef LBPF_MAP_H
#define LBPF_MAP_H

#include "handles.h"

/* Values larger than this are staged in a heap buffer. */
#define STACK_VALUE 256

/* ---- map_new.c (constructors) and map.c -------------------------------- */
/* push a new map userdata that wraps libbpf map `map` of object at `objidx` */
struct lbpf_map *lbpf_push_map(lua_State *L, int objidx, struct bpf_map *map);
/* push a fd-backed map userdata; takes ownership of `fd` */
struct lbpf_map *lbpf_push_fd_map(lua_State *L, int objidx, int fd,
				  const char *name);
void lbpf_open_map(lua_State *L);
/* map_new.c: bpf.map_create, bpf.map_from_pinned/_id/_fd */
extern const luaL_Reg lbpf_map_functions[];

/* ---- map_bulk.c: m:dump(), m:clear() ----------------------------------- */
extern const luaL_Reg lbpf_map_bulk_methods[];

/* ---- map_mmap.c: m:mmap() and its view ---------------------------------- */
extern const luaL_Reg lbpf_map_mmap_methods[];
void lbpf_open_map_mmap(lua_State *L);
/* unmap every view of the standalone map handle, or of every map of the
 * object handle, at idx (its close) */
void lbpf_map_mmap_release(lua_State *L, int idx);

/* ---- map_config.c: m:set_* before load ---------------------------------- */
extern const luaL_Reg lbpf_map_config_methods[];

/* ---- map_conv.c --------------------------------------------------------- */
/* attributes (libbpf's while the map is not cached, then the copies) */
__u32 lbpf_map_type(const struct lbpf_map *m);
__u32 lbpf_map_key_size(const struct lbpf_map *m);
__u32 lbpf_map_value_size(const struct lbpf_map *m);
const char *lbpf_map_name(const struct lbpf_map *m);
int lbpf_map_is_percpu(__u32 type);
/* Size of the value buffer the syscalls fill: per-CPU maps hold one 8-byte
 * aligned slot per possible CPU. */
size_t lbpf_map_value_buf_size(lua_State *L, const struct lbpf_map *m,
			       size_t *slot, int *n);
/* 1 when fd is a BPF map, 0 when another kind of fd, -errno when unknown */
int lbpf_fd_is_map(int fd);
/* An element op needs a created map: its fd, or raise. */
int lbpf_map_ready_fd(lua_State *L, struct lbpf_map *m);

/* The plain integer kind of a key or value with codec `c` (NULL: the
 * integer default of 1/2/4/8 bytes): its byte size, negative when signed,
 * 0 when not a plain integer (struct, char array, raw bytes...). */
signed char lbpf_map_int_kind(const struct lbpf_codec *c, __u32 size);

/* The integer of `kind` (lbpf_map_int_kind) at buf: the hot paths' own
 * switch, inlined, rather than the codec's */
static inline lua_Integer lbpf_map_load_int(int kind, const void *buf)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	/* memcpy: the buffers are char arrays, not aligned integers */
	switch (kind) {
	case 1: __builtin_memcpy(&u8, buf, 1); return u8;
	case -1: __builtin_memcpy(&u8, buf, 1); return (int8_t)u8;
	case 2: __builtin_memcpy(&u16, buf, 2); return u16;
	case -2: __builtin_memcpy(&u16, buf, 2); return (int16_t)u16;
	case 4: __builtin_memcpy(&u32, buf, 4); return u32;
	case -4: __builtin_memcpy(&u32, buf, 4); return (int32_t)u32;
	default: __builtin_memcpy(&u64, buf, 8); return (lua_Integer)u64;
	}
}

/* encode a Lua value into exactly `size` bytes / push `size` bytes */
void lbpf_map_encode(lua_State *L, int idx, struct lbpf_codec *c, void *buf,
		     size_t size, const char *what);
void lbpf_map_decode(lua_State *L, struct lbpf_codec *c, const void *buf,
		     size_t size);
/* Attach BTF codecs the first time the map (at idx) is used. */
void lbpf_map_ensure_codecs(lua_State *L, int idx, struct lbpf_map *m);
/* A codec by type name for the map, of exactly `size` bytes, or raise. */
struct lbpf_codec *lbpf_map_named_codec(lua_State *L, struct lbpf_map *m,
					const char *name, size_t size,
					const char *what);

/* Options of element reads: raw=true returns bytes; type=/key_type= name
 * the value/key type where the map has no BTF. */
struct elem_opts {
	int raw;
	struct lbpf_codec *kc, *vc;
};
void lbpf_map_elem_opts(lua_State *L, int idx, const char *fname,
			struct lbpf_map *m, struct elem_opts *o);
/* m:set_type{key=, value=} */
int lbpf_map_set_types(lua_State *L);
/* Push the value in `buf` (per-CPU maps: a list, one value per CPU). */
void lbpf_map_push_value_as(lua_State *L, struct lbpf_map *m,
			    struct lbpf_codec *c, const char *buf, int raw);
void lbpf_map_push_value(lua_State *L, struct lbpf_map *m, const char *buf,
			 int raw);
/* Encode the value at idx into buf (per-CPU: a list, one value for every
 * CPU, or raw bytes of the whole buffer). */
void lbpf_map_encode_value(lua_State *L, int idx, struct lbpf_map *m,
			   char *buf);
/* m:enum_names() */
extern const luaL_Reg lbpf_map_conv_methods[];
/* scratch buffers: `small` when the value/key fits, else a userdata */
char *lbpf_map_value_buffer(lua_State *L, struct lbpf_map *m, char *small,
			    size_t *total);
char *lbpf_map_key_buffer(lua_State *L, struct lbpf_map *m, char *small);

#endif
