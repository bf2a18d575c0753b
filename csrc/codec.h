/*
 * codec.h - compiled conversion plans between C bytes and Lua values, one
 * per BTF type (codec.c). Used by maps, globals, events and libbpf.btf.
 */
#ifndef LBPF_CODEC_H
#define LBPF_CODEC_H

#include "lbpf.h"

struct lbpf_codec;

/* the codec of BTF type `type_id` of `btf`, compiled once and cached
 * per (btf, type); NULL when the type is not decodable (raw bytes then); a
 * refused codec (lbpf_codec_refused) when the type breaks the kernel's BTF
 * rules: decoding or encoding with it raises the reason. */
struct lbpf_codec *lbpf_codec_get(lua_State *L, const struct btf *btf,
				  __u32 type_id);
/* A codec that raises `fmt` (formatted) whenever it decodes or encodes:
 * for a map whose type cannot be used (a size that differs from the map's,
 * BTF the kernel refused). Kept as long as the codecs of `btf`. */
struct lbpf_codec *lbpf_codec_refuse(lua_State *L, const struct btf *btf,
				     const char *fmt, ...);
/* why codec c is refused (a type that fails the kernel's BTF rules, see
 * btfcheck.h, or lbpf_codec_refuse), or NULL when c (maybe NULL) is usable */
const char *lbpf_codec_refused(const struct lbpf_codec *c);
/* encode the Lua value at idx into `size` bytes (raises on misuse) */
void lbpf_codec_encode(lua_State *L, int idx, const struct lbpf_codec *c,
		       void *buf, size_t size, const char *what);
/* push the Lua value of `size` bytes at buf */
void lbpf_codec_decode(lua_State *L, const struct lbpf_codec *c,
		       const void *buf, size_t size);
/* forget every codec compiled for `btf` (its owner is being freed) */
void lbpf_codec_forget(lua_State *L, const struct btf *btf);
/* bytes the codec's type occupies */
size_t lbpf_codec_size(const struct lbpf_codec *c);
/* a plain integer type: its size, negated when signed; else 0 */
int lbpf_codec_int(const struct lbpf_codec *c);
/* codec of a type name: looked up in `btf` (may be NULL), then among the
 * builtin integer names (u32, __u64, int, ...), then in the kernel's BTF;
 * raises "unknown type" when none has it */
const struct lbpf_codec *lbpf_codec_by_name(lua_State *L,
					    const struct btf *btf,
					    const char *name);
/* the unsigned integer of `size` bytes at p (1, 2, 4, 8; other sizes: the
 * first bytes, little-endian) */
__u64 lbpf_load_uint(const void *p, __u32 size);
/* store the low `size` bytes of v at p (the inverse) */
void lbpf_store_uint(void *p, __u32 size, __u64 v);
#endif
