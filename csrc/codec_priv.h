/*
 * codec_priv.h - the compiled codec, shared by the compiler (codec.c) and
 * the conversions (codec_conv.c). Private to those two files (and record.c,
 * which lists a struct's member names).
 */
#ifndef LBPF_CODEC_PRIV_H
#define LBPF_CODEC_PRIV_H

#include "codec.h"


/* K_REFUSED: a type that failed lbpf_btf_check_type, or one refused for a
 * map (lbpf_codec_refuse): decoding or encoding with it raises `why` */
enum codec_kind {
	K_INT, K_BOOL, K_FLOAT, K_ENUM, K_CHARS, K_ARRAY, K_STRUCT, K_RAW,
	K_REFUSED
};

/* how a struct member is decoded, chosen when the codec is compiled so
 * that decoding a struct is one switch per member: scalars by size and
 * signedness, char arrays, bitfields; the rest (floats, arrays, nested
 * aggregates, raw bytes) through the member's own codec */
enum member_kind {
	MK_NONE,                        /* no codec: left out */
	MK_U8, MK_U16, MK_U32, MK_U64, MK_S8, MK_S16, MK_S32, MK_S64,
	MK_BOOL, MK_CHARS, MK_BITS, MK_CODEC
};

struct codec_member {
	const char *name;               /* in the btf's string section */
	__u32 off;                      /* byte offset */
	__u8 bit_shift, bit_size;       /* bitfields: bit_size > 0 */
	__u8 kind;                      /* enum member_kind */
	const struct lbpf_codec *c;
};

struct lbpf_codec {
	__u8 kind, is_signed;
	__u32 size;                     /* bytes */
	__u32 n;                        /* array elements / members */
	__u32 elem_size;                /* arrays */
	const struct lbpf_codec *elem;  /* arrays */
	const struct btf *btf;          /* for names in messages; NULL: builtin */
	int record_mt;                  /* K_STRUCT: registry ref of its
					 * metatable (record.c), 0: none yet */
	__u32 type_id;
	const char *builtin;            /* name of builtin codecs */
	const char *why;                /* K_REFUSED: the reason */
	int keys;                       /* K_STRUCT: registry ref of the
					 * member names, as Lua strings at
					 * their member's index + 1 */
	int enum_names;                 /* K_ENUM: registry ref of its
					 * {value = name} table (record.c),
					 * 0: none yet */
	struct codec_member m[];
};

#endif
