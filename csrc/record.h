/*
 * record.h - the metatable of decoded structs (record.c): they print as
 * `{pid=123, comm="bash"}`, members in declaration order.
 */
#ifndef LBPF_RECORD_H
#define LBPF_RECORD_H

#include "codec.h"

/* give the table at the top of the stack the metatable of struct codec c */
void lbpf_record_mark(lua_State *L, const struct lbpf_codec *c);
/* push the {[value] = "NAME"} table of enum codec c, or of the elements
 * of an array codec c of an enum (made once per codec, shared: not to be
 * changed); nil for any other codec or NULL */
void lbpf_record_push_enum(lua_State *L, const struct lbpf_codec *c);
/* drop the metatables of btf's codecs (they are being freed) */
void lbpf_record_forget(lua_State *L, const struct btf *btf);
#endif
