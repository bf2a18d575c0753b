/*
 * record.h - the metatable of decoded structs (record.c): they print as
 * `{pid=123, comm="bash"}`, members in declaration order.
 */
#ifndef LBPF_RECORD_H
#define LBPF_RECORD_H

#include "codec.h"

/* give the table at the top of the stack the metatable of struct codec c */
void lbpf_record_mark(lua_State *L, const struct lbpf_codec *c);
/* drop the metatables of btf's codecs (they are being freed) */
void lbpf_record_forget(lua_State *L, const struct btf *btf);
#endif
