/*
 * legacy.h - BPF objects in the ELF conventions of loaders older than
 * libbpf 1.x (issue 8), read with libelf and loaded with plain bpf(2)
 * wrappers. No Lua here: object.c wraps this API.
 *
 *  - iproute2 (`tc`, `ip`): `struct bpf_elf_map` (9 x __u32, 36 bytes) in a
 *    section named "maps", program sections "classifier", "action", "xdp".
 *  - samples/bpf and early libbpf: `struct bpf_map_def` in "maps", 5 fields
 *    (20 bytes) or 7 (28 bytes: + inner_map_idx, numa_node).
 * The layout is told apart by the size of "maps" divided by the number of
 * symbols defined in it. A ".maps" section (BTF-defined maps) means libbpf.
 *
 * Usage:
 *   lbpf_elf_image_open(&img, buf, len, err, sizeof err);   // elfimage.h
 *   fmt = lbpf_elf_image_format(&img);           // LBPF_FMT_*
 *   l = lbpf_legacy_open(&img, "name", NULL, err, sizeof err);
 *   lbpf_elf_image_close(&img);
 *   ... l->maps[i], l->progs[i], lbpf_legacy_prog_set_type() ...
 *   if (lbpf_legacy_load(l, err, sizeof err) < 0) ... l->progs[i].log ...
 *   lbpf_legacy_free(l);                          // closes every fd
 *
 * Error texts name the section or map; for system failures they leave the
 * strerror() of the returned errno to the caller (lbpf_push_error adds it).
 *
 * Every fd created belongs to `struct lbpf_legacy` until lbpf_legacy_free()
 * (callers that need their own copy dup() it). A failed load
 * closes what it created, unpins what it pinned, and leaves the object
 * unloaded, so it can be loaded again (e.g. after set_type).
 */
#ifndef LBPF_LEGACY_H
#define LBPF_LEGACY_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>

#include "elfimage.h"

/* default root of pinned maps, as iproute2's tc uses it */
#define LBPF_LEGACY_PIN_ROOT "/sys/fs/bpf/tc"

struct lbpf_legacy_map {
	char *name;                   /* symbol name (full length) */
	__u32 type, key_size, value_size, max_entries, flags;
	__u32 id, pinning, inner_id, inner_idx, numa_node;
	int inner_template;           /* index of the inner map template or -1 */
	int outer;                    /* map-in-map this one is placed in or -1 */
	size_t offset;                /* offset of the definition in "maps" */
	int fd;                       /* -1 until loaded */
	int reused;                   /* 1: fd came from an existing pin */
	char *pinned_here;            /* pin created by the current load */
};

struct lbpf_legacy_reloc {
	size_t insn;                  /* index of the ld_imm64 instruction */
	int map;                      /* index into maps[] */
};

struct lbpf_legacy_prog {
	char *name;                   /* function symbol at offset 0, or section */
	char *section;
	__u32 type;                   /* enum bpf_prog_type, from the section */
	__u32 expected_attach_type;
	struct bpf_insn *insns;
	size_t insn_cnt;
	struct lbpf_legacy_reloc *relocs;
	size_t nrelocs;
	int autoload;                 /* 1 by default */
	int fd;                       /* -1 until loaded */
	char *log;                    /* verifier log of the last failed load */
	size_t log_len;
};

struct lbpf_legacy {
	char *name;                   /* object name, used for pinning = 1 */
	char *pin_root;               /* LBPF_LEGACY_PIN_ROOT unless given */
	int format;                   /* LBPF_FMT_IPROUTE2 or LBPF_FMT_MAP_DEF */
	size_t map_def_size;          /* 36, 28 or 20 */
	char license[128];
	__u32 kern_version;
	struct lbpf_legacy_map *maps;
	size_t nmaps;
	struct lbpf_legacy_prog *progs;
	size_t nprogs;
	int loaded;
};

/* legacy_parse.c: parse a legacy object from an open image; NULL with err
 * filled and errno set on any problem (the message names the section).
 * `name` may be NULL ("legacy"); `pin_root` may be NULL
 * (LBPF_LEGACY_PIN_ROOT). The image is not kept. */
struct lbpf_legacy *lbpf_legacy_open(struct lbpf_elf_image *img,
				     const char *name, const char *pin_root,
				     char *err, size_t errlen);
/* legacy_parse.c: free the memory of a parsed object (no fd is closed) */
void lbpf_legacy_release(struct lbpf_legacy *l);
/* legacy_load.c: create/reuse maps, patch relocations, load programs with autoload set.
 * Returns 0 or -errno (the first errno of the failure) with err filled. */
int lbpf_legacy_load(struct lbpf_legacy *l, char *err, size_t errlen);
/* legacy_load.c: close every fd, free everything. NULL is fine. */
void lbpf_legacy_free(struct lbpf_legacy *l);

/* index by name, or -1 */
int lbpf_legacy_find_map(const struct lbpf_legacy *l, const char *name);
int lbpf_legacy_find_prog(const struct lbpf_legacy *l, const char *name);
/* before load only; return 0 or -EBUSY once loaded */
int lbpf_legacy_prog_set_type(struct lbpf_legacy *l, size_t i, __u32 type,
			      __u32 expected_attach_type);
int lbpf_legacy_prog_set_autoload(struct lbpf_legacy *l, size_t i, int on);

#endif
