/*
 * btf.c - BTF-driven encode/decode of keys, values and globals.
 * Placeholder until the codec lands: no codec, so maps use integers/raw bytes.
 */
#include "util.h"

struct lbpf_codec *lbpf_codec_get(lua_State *L, const struct btf *btf,
				  __u32 type_id)
{
	(void)L; (void)btf; (void)type_id;
	return NULL;
}

void lbpf_codec_encode(lua_State *L, int idx, const struct lbpf_codec *c,
		       void *buf, size_t size, const char *what)
{
	(void)idx; (void)c; (void)buf; (void)size;
	luaL_error(L, "libbpf.map: no BTF codec for %s", what);
}

void lbpf_codec_decode(lua_State *L, const struct lbpf_codec *c,
		       const void *buf, size_t size)
{
	(void)c;
	lua_pushlstring(L, buf, size);
}

void lbpf_codec_forget(lua_State *L, const struct btf *btf)
{
	(void)L; (void)btf;
}

void lbpf_open_btf(lua_State *L)
{
	(void)L;
}
