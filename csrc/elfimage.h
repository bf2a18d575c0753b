/*
 * elfimage.h - BPF ELF images: one reader (elfimage.c) that opens and
 * indexes an image once, and the check that makes it safe for libbpf 1.1
 * (elfcheck.c). No Lua here.
 */
#ifndef LBPF_ELFIMAGE_H
#define LBPF_ELFIMAGE_H

#include <stddef.h>

#include <gelf.h>
#include <libelf.h>
#include <linux/types.h>

#ifndef EM_BPF
#define EM_BPF 247
#endif

/* which convention an ELF image follows */
#define LBPF_FMT_BAD_ELF  -1 /* not readable as ELF (lbpf_legacy_open says why) */
#define LBPF_FMT_LIBBPF   0  /* leave it to libbpf */
#define LBPF_FMT_IPROUTE2 1  /* struct bpf_elf_map in "maps" */
#define LBPF_FMT_MAP_DEF  2  /* struct bpf_map_def (5 or 7 fields) in "maps" */

struct lbpf_elf_image {
	Elf *elf;
	char *image;        /* private copy: libelf may not want const memory */
	size_t len;
	size_t shstrndx;
	Elf_Scn *symtab;    /* NULL when there is none */
	GElf_Shdr symtab_sh;
	Elf_Data *syms;
	size_t nsyms;
	size_t maps_idx;    /* 0 = no "maps" section */
	size_t text_idx;    /* 0 = no ".text" */
	int btf_maps;       /* a ".maps" section exists */
};

/* Fill err (may be NULL) and return -errnum (errnum is positive). */
int lbpf_elf_fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Open a private copy of buf[0..len) and index its sections; 0 or -errno
 * with err filled. Close it even when opening failed. */
int lbpf_elf_image_open(struct lbpf_elf_image *c, const void *buf, size_t len,
			char *err, size_t errlen);
/* Same for the ELF file open at `fd` (mapped, not copied; the caller keeps
 * and closes `fd` after the image). */
int lbpf_elf_image_open_fd(struct lbpf_elf_image *c, int fd, char *err,
			   size_t errlen);
void lbpf_elf_image_close(struct lbpf_elf_image *c);
/* LBPF_FMT_* of an open image */
int lbpf_elf_image_format(struct lbpf_elf_image *c);
/* symbols defined in the "maps" section, and the layout their size
 * implies: LBPF_FMT_IPROUTE2 or LBPF_FMT_MAP_DEF */
size_t lbpf_elf_count_map_syms(struct lbpf_elf_image *c);
int lbpf_elf_layout_format(struct lbpf_elf_image *c);
/* "libbpf", "iproute2", "bpf_map_def" or "bad_elf" */
const char *lbpf_elf_format_name(int format);

/* name of a section, "" when unreadable */
const char *lbpf_elf_sec_name(struct lbpf_elf_image *c, const GElf_Shdr *sh);
/* symbol i of the symbol table: 1, or 0 when there is no such symbol */
int lbpf_elf_get_sym(struct lbpf_elf_image *c, size_t i, GElf_Sym *sym);
const char *lbpf_elf_sym_name(struct lbpf_elf_image *c, const GElf_Sym *sym);
/* Section data, checked to be present and complete, or NULL. */
Elf_Data *lbpf_elf_sec_data(Elf_Scn *scn, const GElf_Shdr *sh);

/* 0 when libbpf can safely parse the open image, else <0 and a message
 * naming the section at fault (elfcheck.c) */
int lbpf_elf_check(struct lbpf_elf_image *c, char *err, size_t errlen);

/* One ELF section, for obj:sections(). */
struct lbpf_elf_section {
	char *name;
	size_t size;
	const char *type;             /* "progbits", "rel", "symtab", ... */
	__u64 flags;                  /* SHF_* */
	size_t index;
};

struct lbpf_elf_sections {
	int format;                   /* LBPF_FMT_* */
	size_t n;
	struct lbpf_elf_section *sec;
};

/* Sections of any ELF object (libbpf ones too); NULL with err on error. */
struct lbpf_elf_sections *lbpf_elf_sections(const void *buf, size_t len,
					    char *err, size_t errlen);
void lbpf_elf_sections_free(struct lbpf_elf_sections *s);

#endif
