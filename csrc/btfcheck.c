/*
 * btfcheck.c - the kernel's rules for one BTF type and what it contains by
 * value, checked before a codec is compiled from it (issue 13 item 1).
 *
 * libbpf 1.1 parses BTF without checking it, and an object's BTF that the
 * kernel refuses is still there for user space. The codecs read and write
 * members at the offsets the BTF gives, so a hostile BTF (a struct shrunk
 * under its members, an array count that wraps `n * elem_size`, an
 * anonymous member of its own type, a name offset past the strings) would
 * make them read or write outside the buffer. The rules follow the kernel's
 * (kernel/bpf/btf.c: btf_*_check_meta, btf_*_check_member, the resolver's
 * loop and depth limits); the sizes are computed here in 64 bits.
 *
 * One pass, depth first, with a mark per type id: "in progress" finds
 * loops, "done" with the type's nesting height keeps the pass linear
 * however often a type is used.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "btfcheck.h"

#define IN_PROGRESS 0xff
#define U32_MAX_ ((__u64)0xffffffffu)

struct check {
	const struct btf *btf;
	__u32 ntypes;
	__u8 *mark;                     /* 0, IN_PROGRESS, or height + 1 */
	char *msg;
	size_t msglen;
};

static const char *kind_word(int kind)
{
	static const char *const words[] = {
		"void", "int", "pointer", "array", "struct", "union", "enum",
		"forward declaration", "typedef", "volatile", "const",
		"restrict", "func", "func_proto", "var", "datasec", "float",
		"decl_tag", "type_tag", "enum"
	};

	if (kind < 0 || kind >= (int)(sizeof(words) / sizeof(words[0])))
		return "type";
	return words[kind];
}

/* "struct big (type #11): <reason>" into the message; returns -1 */
static int fail(struct check *k, __u32 id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct check *k, __u32 id, const char *fmt, ...)
{
	const struct btf_type *t = btf__type_by_id(k->btf, id);
	const char *name = t ? btf__name_by_offset(k->btf, t->name_off) : NULL;
	int n;
	va_list ap;

	n = snprintf(k->msg, k->msglen, "%s%s%s (type #%u): ",
		     t ? kind_word(btf_kind(t)) : "type", name && *name ? " " : "",
		     name ? name : "", id);
	if (n < 0 || (size_t)n >= k->msglen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(k->msg + n, k->msglen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct btf_type *type_at(struct check *k, __u32 id)
{
	return id < k->ntypes ? btf__type_by_id(k->btf, id) : NULL;
}

static int name_ok(struct check *k, __u32 off)
{
	return btf__name_by_offset(k->btf, off) != NULL;
}

/* Follow typedefs, modifiers (and a var at the root) from `id`; *rid is
 * the first other type (0: void). Each link is checked on the way. */
static int skip_chain(struct check *k, __u32 id, __u32 *rid)
{
	const struct btf_type *t;
	int hops = 0;

	for (;;) {
		if (id == 0) {
			*rid = 0;
			return 0;
		}
		t = type_at(k, id);
		if (!t)
			return fail(k, id, "no such type (%u types)", k->ntypes);
		if (!name_ok(k, t->name_off))
			return fail(k, id, "name offset %u is past the strings",
				    t->name_off);
		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG: case BTF_KIND_VAR:
			break;
		default:
			*rid = id;
			return 0;
		}
		if (btf_vlen(t))
			return fail(k, id, "vlen %u, must be 0", btf_vlen(t));
		if (btf_is_var(t) && btf_var(t)->linkage > BTF_VAR_GLOBAL_EXTERN)
			return fail(k, id, "linkage %u", btf_var(t)->linkage);
		if (++hops > LBPF_BTF_MAX_DEPTH)
			return fail(k, id, "chain of typedefs and modifiers "
				    "longer than %d (a loop?)",
				    LBPF_BTF_MAX_DEPTH);
		id = t->type;
	}
}

static int check_sized(struct check *k, __u32 id, int depth, __u64 *size,
		       int *height);

/* a member or element: `id` through its chain, which must have a size */
static int check_part(struct check *k, __u32 owner, __u32 id, int depth,
		      __u32 *rid, __u64 *size, int *height)
{
	if (skip_chain(k, id, rid))
		return -1;
	if (*rid == 0)
		return fail(k, owner, "contains a void (type #%u)", id);
	return check_sized(k, *rid, depth, size, height);
}

static int check_int(struct check *k, __u32 id, const struct btf_type *t)
{
	__u32 data = *(const __u32 *)(t + 1);
	__u32 bits = btf_int_bits(t) + btf_int_offset(t);
	int enc = btf_int_encoding(t);

	if (btf_vlen(t) || btf_kflag(t))
		return fail(k, id, "vlen or kind_flag set");
	if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8 &&
	    t->size != 16)
		return fail(k, id, "size %u", t->size);
	if (data & ~0x0fffffffu)
		return fail(k, id, "invalid int data 0x%x", data);
	if (bits > 128 || (bits + 7) / 8 > t->size)
		return fail(k, id, "%u bits do not fit its %u bytes", bits,
			    t->size);
	if (enc && enc != BTF_INT_SIGNED && enc != BTF_INT_CHAR &&
	    enc != BTF_INT_BOOL)
		return fail(k, id, "encoding 0x%x", enc);
	return 0;
}

static int check_enum(struct check *k, __u32 id, const struct btf_type *t)
{
	int i;

	if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
		return fail(k, id, "size %u", t->size);
	for (i = 0; i < btf_vlen(t); i++) {
		__u32 off = btf_is_enum(t) ? btf_enum(t)[i].name_off
					   : btf_enum64(t)[i].name_off;
		if (!off || !name_ok(k, off))
			return fail(k, id, "enumerator %d: name offset %u is "
				    "not a name", i, off);
	}
	return 0;
}

static int check_array(struct check *k, __u32 id, const struct btf_type *t,
		       int depth, __u64 *size, int *height)
{
	const struct btf_array *a = btf_array(t);
	const struct btf_type *it = type_at(k, a->index_type);
	__u32 eid;
	__u64 esize;

	if (btf_vlen(t) || btf_kflag(t) || t->size || t->name_off)
		return fail(k, id, "name, vlen, kind_flag or size set");
	if (!it || !btf_is_int(it))
		return fail(k, id, "index type #%u is not an int",
			    a->index_type);
	if (check_part(k, id, a->type, depth + 1, &eid, &esize, height))
		return -1;
	if (a->nelems && esize > U32_MAX_ / a->nelems)
		return fail(k, id, "%u elements of %llu bytes overflow 32 bits",
			    a->nelems, (unsigned long long)esize);
	*size = esize * a->nelems;
	(*height)++;
	return 0;
}

/* one member of struct/union `t` (id `id`, `size` bytes), bit offset
 * `bit` and bitfield size `bsize` (kind_flag), of resolved type `mt` with
 * `msize` bytes: inside the aggregate, as the kernel requires */
static int check_member_place(struct check *k, __u32 id, int i,
			      const struct btf_type *mt, __u64 msize,
			      __u64 bit, __u32 bsize, __u64 size)
{
	const char *mname = btf__name_by_offset(k->btf, btf_members(
		btf__type_by_id(k->btf, id))[i].name_off);
	__u64 start = bit, nbits, end;

	if (!mname || !*mname)
		mname = "(anon)";
	if (bsize) {
		if (!btf_is_int(mt) && !btf_is_any_enum(mt))
			return fail(k, id, "member '%s': bitfield of a %s",
				    mname, kind_word(btf_kind(mt)));
		if (bsize > msize * 8 || bsize > 128)
			return fail(k, id, "member '%s': bitfield of %u bits "
				    "in a %llu-byte type", mname, bsize,
				    (unsigned long long)msize);
		nbits = bsize;
	} else if (btf_is_int(mt)) {
		start += btf_int_offset(mt);
		nbits = btf_int_offset(mt) || btf_int_bits(mt) != mt->size * 8
			? btf_int_bits(mt) : msize * 8;
		if (start % 8 + nbits > 128)
			return fail(k, id, "member '%s': %llu bits from bit "
				    "%llu", mname, (unsigned long long)nbits,
				    (unsigned long long)start % 8);
	} else {
		if (bit % 8)
			return fail(k, id, "member '%s' is not byte aligned "
				    "(bit %llu)", mname, (unsigned long long)bit);
		nbits = msize * 8;
	}
	end = start / 8 + (start % 8 + nbits + 7) / 8;
	if (end > size)
		return fail(k, id, "member '%s' (bytes %llu..%llu) lies "
			    "outside its %llu bytes", mname,
			    (unsigned long long)(start / 8),
			    (unsigned long long)end - 1,
			    (unsigned long long)size);
	return 0;
}

static int check_composite(struct check *k, __u32 id,
			   const struct btf_type *t, int depth, __u64 *size,
			   int *height)
{
	const struct btf_member *m = btf_members(t);
	__u64 last = 0;
	int i, h = 0;

	for (i = 0; i < btf_vlen(t); i++, m++) {
		__u64 bit = btf_member_bit_offset(t, (__u32)i), msize;
		__u32 bsize = btf_member_bitfield_size(t, (__u32)i), mid;
		int mh;

		if (!name_ok(k, m->name_off))
			return fail(k, id, "member %d: name offset %u is past "
				    "the strings", i, m->name_off);
		if (btf_is_union(t) && bit)
			return fail(k, id, "union member %d at bit %llu", i,
				    (unsigned long long)bit);
		if (bit < last)
			return fail(k, id, "member %d at bit %llu, before the "
				    "previous one", i, (unsigned long long)bit);
		last = bit;
		if (check_part(k, id, m->type, depth + 1, &mid, &msize, &mh))
			return -1;
		if (check_member_place(k, id, i, btf__type_by_id(k->btf, mid),
				       msize, bit, bsize, t->size))
			return -1;
		if (mh > h)
			h = mh;
	}
	*size = t->size;
	*height = h + 1;
	return 0;
}

/* type `id` (not a typedef or modifier), met `depth` levels down: its size
 * and nesting height */
static int check_sized(struct check *k, __u32 id, int depth, __u64 *size,
		       int *height)
{
	const struct btf_type *t = type_at(k, id);
	int err;

	if (!t)
		return fail(k, id, "no such type (%u types)", k->ntypes);
	if (k->mark[id] == IN_PROGRESS)
		return fail(k, id, "contains itself");
	if (depth > LBPF_BTF_MAX_DEPTH)
		return fail(k, id, "nested more than %d levels deep",
			    LBPF_BTF_MAX_DEPTH);
	*height = 0;
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		*size = t->size;
		return check_int(k, id, t);
	case BTF_KIND_PTR:
		if (btf_vlen(t) || btf_kflag(t) ||
		    (t->type && !type_at(k, t->type)))
			return fail(k, id, "vlen or kind_flag set, or points "
				    "to no type (#%u)", t->type);
		*size = btf__pointer_size(k->btf) ? btf__pointer_size(k->btf)
						   : sizeof(void *);
		return 0;
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
		*size = t->size;
		return check_enum(k, id, t);
	case BTF_KIND_FLOAT:
		*size = t->size;
		if (t->size != 2 && t->size != 4 && t->size != 8 &&
		    t->size != 12 && t->size != 16)
			return fail(k, id, "size %u", t->size);
		return 0;
	case BTF_KIND_ARRAY: case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		break;
	default:
		return fail(k, id, "a %s has no size", kind_word(btf_kind(t)));
	}
	if (k->mark[id] && !btf_is_array(t)) {  /* checked before */
		*height = k->mark[id] - 1;
		*size = t->size;
		return 0;
	}
	/* an array checked before is checked again, cheaply (its element is
	 * marked): its size is not kept */
	k->mark[id] = IN_PROGRESS;
	err = btf_is_array(t) ? check_array(k, id, t, depth, size, height)
			      : check_composite(k, id, t, depth, size, height);
	if (err)
		return err;
	if (*height > LBPF_BTF_MAX_DEPTH)
		return fail(k, id, "nested more than %d levels deep",
			    LBPF_BTF_MAX_DEPTH);
	k->mark[id] = (__u8)(*height + 1);
	return 0;
}

static int check_datasec(struct check *k, __u32 id, const struct btf_type *t)
{
	const struct btf_var_secinfo *vs = btf_var_secinfos(t);
	int i;

	for (i = 0; i < btf_vlen(t); i++, vs++) {
		if (!type_at(k, vs->type))
			return fail(k, id, "variable %d: no type #%u", i,
				    vs->type);
		if ((__u64)vs->offset + vs->size > t->size)
			return fail(k, id, "variable %d (%u bytes at %u) lies "
				    "outside its %u bytes", i, vs->size,
				    vs->offset, t->size);
	}
	return 0;
}

int lbpf_btf_check_type(const struct btf *btf, __u32 id, char *msg,
			size_t msglen)
{
	struct check k = { btf, btf__type_cnt(btf), NULL, msg, msglen };
	const struct btf_type *t;
	__u32 rid;
	__u64 size;
	int height, err;

	if (msglen)
		msg[0] = '\0';
	if (skip_chain(&k, id, &rid))
		return -1;
	t = rid ? type_at(&k, rid) : NULL;
	if (!t)
		return 0;                       /* void: nothing to decode */
	if (!name_ok(&k, t->name_off))
		return fail(&k, rid, "name offset %u is past the strings",
			    t->name_off);
	switch (btf_kind(t)) {
	case BTF_KIND_FWD: case BTF_KIND_FUNC: case BTF_KIND_FUNC_PROTO:
	case BTF_KIND_DECL_TAG:
		return 0;                       /* not decoded: raw bytes */
	case BTF_KIND_DATASEC:
		return check_datasec(&k, rid, t);
	default:
		break;
	}
	k.mark = calloc(k.ntypes ? k.ntypes : 1, 1);
	if (!k.mark) {
		snprintf(msg, msglen, "out of memory checking type #%u", id);
		return -1;
	}
	err = check_sized(&k, rid, 0, &size, &height);
	free(k.mark);
	return err;
}

int lbpf_btf_kernel_refused(const struct bpf_object *obj, int loaded)
{
	return obj && loaded && bpf_object__btf(obj) &&
	       bpf_object__btf_fd(obj) < 0;
}
