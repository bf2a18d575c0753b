/*
 * elfimage.c - the one reader of BPF ELF images: libelf opens a private
 * copy once, the sections every reader needs are indexed, and that image
 * serves detection (libbpf or an older loader's convention), the legacy
 * parser (legacy_parse.c), the safety check before libbpf (elfcheck.c),
 * obj:sections() and bpf.elf_symbols (syms.c, on a mapped file). Calls
 * nothing else in the module.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elfimage.h"

#ifndef SHT_LLVM_ADDRSIG
#define SHT_LLVM_ADDRSIG 0x6fff4c03
#endif

#define MAP_SECTION "maps"

/* ---- errors -------------------------------------------------------------- */

int lbpf_elf_fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

/* ---- reading the ELF image ------------------------------------------------ */


void lbpf_elf_image_close(struct lbpf_elf_image *c)
{
	if (c->elf)
		elf_end(c->elf);
	free(c->image);
	memset(c, 0, sizeof *c);
}

/* name of section `scn`, "" when unreadable */
const char *lbpf_elf_sec_name(struct lbpf_elf_image *c, const GElf_Shdr *sh)
{
	const char *n = elf_strptr(c->elf, c->shstrndx, sh->sh_name);

	return n ? n : "";
}

static void note_special_section(struct lbpf_elf_image *c, Elf_Scn *scn,
				 const GElf_Shdr *sh)
{
	const char *name = lbpf_elf_sec_name(c, sh);

	if (sh->sh_type == SHT_SYMTAB && !c->symtab) {
		c->symtab = scn;
		c->symtab_sh = *sh;
	} else if (strcmp(name, MAP_SECTION) == 0) {
		c->maps_idx = elf_ndxscn(scn);
	} else if (strcmp(name, ".maps") == 0) {
		c->btf_maps = 1;
	} else if (strcmp(name, ".text") == 0) {
		c->text_idx = elf_ndxscn(scn);
	}
}

/* Read the symbol table's data; a missing one is fine (no maps, no names). */
static int load_symtab(struct lbpf_elf_image *c, char *err, size_t errlen)
{
	if (!c->symtab)
		return 0;
	c->syms = elf_getdata(c->symtab, NULL);
	if (!c->syms || !c->syms->d_buf || c->symtab_sh.sh_entsize == 0)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section '.symtab': unreadable (truncated ELF?): %s",
			    elf_errmsg(-1));
	c->nsyms = c->syms->d_size / c->symtab_sh.sh_entsize;
	return 0;
}

/* libelf quietly shows no sections when the section header table lies
 * past the end of a truncated image: say so instead. */
static int check_bounds(struct lbpf_elf_image *c, char *err, size_t errlen)
{
	GElf_Ehdr eh;
	size_t shnum;

	if (!gelf_getehdr(c->elf, &eh))
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "ELF header unreadable (truncated ELF?): %s", elf_errmsg(-1));
	if (elf_getshdrnum(c->elf, &shnum) != 0)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "ELF section count unreadable: %s", elf_errmsg(-1));
	if (shnum < eh.e_shnum)   /* libelf counts none when they are cut off */
		shnum = eh.e_shnum;
	if (eh.e_shoff > c->len || shnum * (size_t)eh.e_shentsize > c->len ||
	    eh.e_shoff + shnum * (size_t)eh.e_shentsize > c->len)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "truncated ELF: section headers end at byte %llu, the "
			    "object has %zu", (unsigned long long)eh.e_shoff +
			    shnum * (unsigned long long)eh.e_shentsize, c->len);
	return 0;
}

/* Open the image and index the sections every reader needs. */
/* Index the sections every reader needs, once the image is open. */
static int image_index(struct lbpf_elf_image *c, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int ret;

	ret = check_bounds(c, err, errlen);
	if (ret < 0)
		return ret;
	if (elf_getshdrstrndx(c->elf, &c->shstrndx) != 0)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "ELF section headers unreadable (truncated ELF?): %s",
			    elf_errmsg(-1));
	while ((scn = elf_nextscn(c->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			return lbpf_elf_fail(err, errlen, EINVAL,
				    "ELF section %zu: header unreadable: %s",
				    elf_ndxscn(scn), elf_errmsg(-1));
		note_special_section(c, scn, &sh);
	}
	return load_symtab(c, err, errlen);
}

int lbpf_elf_image_open(struct lbpf_elf_image *c, const void *buf, size_t len,
			char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return lbpf_elf_fail(err, errlen, EINVAL, "libelf: %s", elf_errmsg(-1));
	if (len == 0)
		return lbpf_elf_fail(err, errlen, EINVAL, "not an ELF object: empty");
	c->image = malloc(len);
	if (!c->image)
		return lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
	memcpy(c->image, buf, len);
	c->len = len;
	c->elf = elf_memory(c->image, len);
	if (!c->elf || elf_kind(c->elf) != ELF_K_ELF)
		return lbpf_elf_fail(err, errlen, EINVAL, "not an ELF object (%zu bytes)", len);
	return image_index(c, err, errlen);
}

/* Executables and libraries can be large: mapped by libelf, not copied. */
int lbpf_elf_image_open_fd(struct lbpf_elf_image *c, int fd, char *err,
			   size_t errlen)
{
	struct stat st;

	memset(c, 0, sizeof *c);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return lbpf_elf_fail(err, errlen, EINVAL, "libelf: %s", elf_errmsg(-1));
	if (fstat(fd, &st) != 0)
		return lbpf_elf_fail(err, errlen, errno, "fstat failed");
	c->len = (size_t)st.st_size;
	c->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!c->elf || elf_kind(c->elf) != ELF_K_ELF)
		return lbpf_elf_fail(err, errlen, ENOEXEC, "not an ELF file");
	return image_index(c, err, errlen);
}

int lbpf_elf_get_sym(struct lbpf_elf_image *c, size_t i, GElf_Sym *sym)
{
	return i < c->nsyms && gelf_getsym(c->syms, (int)i, sym) != NULL;
}

const char *lbpf_elf_sym_name(struct lbpf_elf_image *c, const GElf_Sym *sym)
{
	const char *n = elf_strptr(c->elf, c->symtab_sh.sh_link, sym->st_name);

	return n ? n : "";
}

/* Section data, checked to be present and complete. */
Elf_Data *lbpf_elf_sec_data(Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);

	if (!d || !d->d_buf || d->d_size != sh->sh_size)
		return NULL;
	return d;
}

/* ---- detection: which loader's convention -------------------------------------------------------------- */

size_t lbpf_elf_count_map_syms(struct lbpf_elf_image *c)
{
	GElf_Sym sym;
	size_t i, n = 0;

	for (i = 1; i < c->nsyms; i++)
		if (lbpf_elf_get_sym(c, i, &sym) && sym.st_shndx == c->maps_idx &&
		    GELF_ST_TYPE(sym.st_info) != STT_SECTION &&
		    GELF_ST_TYPE(sym.st_info) != STT_FILE)
			n++;
	return n;
}

/* LBPF_FMT_IPROUTE2 or LBPF_FMT_MAP_DEF for a file with a "maps" section;
 * an unreadable layout counts as iproute2 (open then says what is wrong). */
int lbpf_elf_layout_format(struct lbpf_elf_image *c)
{
	Elf_Scn *scn = elf_getscn(c->elf, c->maps_idx);
	GElf_Shdr sh;
	size_t n = lbpf_elf_count_map_syms(c);

	if (!scn || !gelf_getshdr(scn, &sh) || n == 0 || sh.sh_size % n)
		return LBPF_FMT_IPROUTE2;
	switch (sh.sh_size / n) {
	case 16:
	case 20:
	case 28:
		return LBPF_FMT_MAP_DEF;
	default:
		return LBPF_FMT_IPROUTE2;
	}
}

int lbpf_elf_image_format(struct lbpf_elf_image *c)
{
	if (!c->maps_idx || c->btf_maps)
		return LBPF_FMT_LIBBPF;
	return lbpf_elf_layout_format(c);
}

const char *lbpf_elf_format_name(int format)
{
	switch (format) {
	case LBPF_FMT_LIBBPF: return "libbpf";
	case LBPF_FMT_IPROUTE2: return "iproute2";
	case LBPF_FMT_MAP_DEF: return "bpf_map_def";
	default: return "bad_elf";
	}
}

/* ---- sections of any object ------------------------------------------------------ */

static const char *sh_type_name(GElf_Word t)
{
	static const char *const names[] = {
		"null", "progbits", "symtab", "strtab", "rela", "hash",
		"dynamic", "note", "nobits", "rel", "shlib", "dynsym",
	};

	if (t < sizeof names / sizeof names[0])
		return names[t];
	switch (t) {
	case SHT_INIT_ARRAY: return "init_array";
	case SHT_FINI_ARRAY: return "fini_array";
	case SHT_GROUP: return "group";
	case SHT_SYMTAB_SHNDX: return "symtab_shndx";
	case SHT_LLVM_ADDRSIG: return "llvm_addrsig";
	default: return "other";
	}
}

static int fill_sections(struct lbpf_elf_sections *s, struct lbpf_elf_image *c,
			 char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t n = 0;

	if (elf_getshdrnum(c->elf, &n) != 0)
		return lbpf_elf_fail(err, errlen, EINVAL, "ELF section count unreadable");
	s->sec = calloc(n ? n : 1, sizeof *s->sec);
	if (!s->sec)
		return lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
	while ((scn = elf_nextscn(c->elf, scn)) != NULL && s->n < n) {
		struct lbpf_elf_section *e = &s->sec[s->n];

		if (!gelf_getshdr(scn, &sh))
			return lbpf_elf_fail(err, errlen, EINVAL,
				    "ELF section %zu: header unreadable", elf_ndxscn(scn));
		e->name = strdup(lbpf_elf_sec_name(c, &sh));
		if (!e->name)
			return lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
		e->size = sh.sh_size;
		e->type = sh_type_name(sh.sh_type);
		e->flags = sh.sh_flags;
		e->index = elf_ndxscn(scn);
		s->n++;
	}
	return 0;
}

struct lbpf_elf_sections *lbpf_elf_sections(const void *buf, size_t len,
					    char *err, size_t errlen)
{
	struct lbpf_elf_sections *s = calloc(1, sizeof *s);
	struct lbpf_elf_image c;
	int ret;

	if (!s) {
		lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
		return NULL;
	}
	ret = lbpf_elf_image_open(&c, buf, len, err, errlen);
	if (ret == 0) {
		s->format = lbpf_elf_image_format(&c);
		ret = fill_sections(s, &c, err, errlen);
	}
	lbpf_elf_image_close(&c);
	if (ret < 0) {
		lbpf_elf_sections_free(s);
		errno = -ret;
		return NULL;
	}
	return s;
}

void lbpf_elf_sections_free(struct lbpf_elf_sections *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->sec[i].name);
	free(s->sec);
	free(s);
}
