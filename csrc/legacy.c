/*
 * legacy.c - objects in iproute2's and the old bpf_map_def conventions:
 * detect them, parse them with libelf, and load them the way those loaders
 * did (maps first, honouring pinning, then ld_imm64 map relocations patched
 * to BPF_PSEUDO_MAP_FD, then one program per code section). See legacy.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "legacy.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif
#ifndef SHT_LLVM_ADDRSIG
#define SHT_LLVM_ADDRSIG 0x6fff4c03
#endif

#define MAP_SECTION "maps"
#define LOG_MIN_SIZE (64u * 1024)
#define LOG_MAX_SIZE (16u * 1024 * 1024 - 1)   /* the kernel's limit */

/* ---- errors -------------------------------------------------------------- */

/* Fill err and return -errnum (errnum is positive). */
static int fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
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

struct elf_ctx {
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

static void elf_ctx_close(struct elf_ctx *c)
{
	if (c->elf)
		elf_end(c->elf);
	free(c->image);
	memset(c, 0, sizeof *c);
}

/* name of section `scn`, "" when unreadable */
static const char *sec_name(struct elf_ctx *c, const GElf_Shdr *sh)
{
	const char *n = elf_strptr(c->elf, c->shstrndx, sh->sh_name);

	return n ? n : "";
}

static void note_special_section(struct elf_ctx *c, Elf_Scn *scn,
				 const GElf_Shdr *sh)
{
	const char *name = sec_name(c, sh);

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
static int load_symtab(struct elf_ctx *c, char *err, size_t errlen)
{
	if (!c->symtab)
		return 0;
	c->syms = elf_getdata(c->symtab, NULL);
	if (!c->syms || !c->syms->d_buf || c->symtab_sh.sh_entsize == 0)
		return fail(err, errlen, EINVAL,
			    "section '.symtab': unreadable (truncated ELF?): %s",
			    elf_errmsg(-1));
	c->nsyms = c->syms->d_size / c->symtab_sh.sh_entsize;
	return 0;
}

/* libelf quietly shows no sections when the section header table lies
 * past the end of a truncated image: say so instead. */
static int check_bounds(struct elf_ctx *c, char *err, size_t errlen)
{
	GElf_Ehdr eh;
	size_t shnum;

	if (!gelf_getehdr(c->elf, &eh))
		return fail(err, errlen, EINVAL,
			    "ELF header unreadable (truncated ELF?): %s", elf_errmsg(-1));
	if (elf_getshdrnum(c->elf, &shnum) != 0)
		return fail(err, errlen, EINVAL,
			    "ELF section count unreadable: %s", elf_errmsg(-1));
	if (shnum < eh.e_shnum)   /* libelf counts none when they are cut off */
		shnum = eh.e_shnum;
	if (eh.e_shoff > c->len || shnum * (size_t)eh.e_shentsize > c->len ||
	    eh.e_shoff + shnum * (size_t)eh.e_shentsize > c->len)
		return fail(err, errlen, EINVAL,
			    "truncated ELF: section headers end at byte %llu, the "
			    "object has %zu", (unsigned long long)eh.e_shoff +
			    shnum * (unsigned long long)eh.e_shentsize, c->len);
	return 0;
}

/* Open the image and index the sections every reader needs. */
static int elf_ctx_open(struct elf_ctx *c, const void *buf, size_t len,
			char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int ret;

	memset(c, 0, sizeof *c);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(err, errlen, EINVAL, "libelf: %s", elf_errmsg(-1));
	if (len == 0)
		return fail(err, errlen, EINVAL, "not an ELF object: empty");
	c->image = malloc(len);
	if (!c->image)
		return fail(err, errlen, ENOMEM, "out of memory");
	memcpy(c->image, buf, len);
	c->len = len;
	c->elf = elf_memory(c->image, len);
	if (!c->elf || elf_kind(c->elf) != ELF_K_ELF)
		return fail(err, errlen, EINVAL, "not an ELF object (%zu bytes)", len);
	ret = check_bounds(c, err, errlen);
	if (ret < 0)
		return ret;
	if (elf_getshdrstrndx(c->elf, &c->shstrndx) != 0)
		return fail(err, errlen, EINVAL,
			    "ELF section headers unreadable (truncated ELF?): %s",
			    elf_errmsg(-1));
	while ((scn = elf_nextscn(c->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			return fail(err, errlen, EINVAL,
				    "ELF section %zu: header unreadable: %s",
				    elf_ndxscn(scn), elf_errmsg(-1));
		note_special_section(c, scn, &sh);
	}
	return load_symtab(c, err, errlen);
}

static int get_sym(struct elf_ctx *c, size_t i, GElf_Sym *sym)
{
	return i < c->nsyms && gelf_getsym(c->syms, (int)i, sym) != NULL;
}

static const char *sym_name(struct elf_ctx *c, const GElf_Sym *sym)
{
	const char *n = elf_strptr(c->elf, c->symtab_sh.sh_link, sym->st_name);

	return n ? n : "";
}

/* Section data, checked to be present and complete. */
static Elf_Data *sec_data(Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);

	if (!d || !d->d_buf || d->d_size != sh->sh_size)
		return NULL;
	return d;
}

/* ---- detection -------------------------------------------------------------- */

static size_t count_map_syms(struct elf_ctx *c)
{
	GElf_Sym sym;
	size_t i, n = 0;

	for (i = 1; i < c->nsyms; i++)
		if (get_sym(c, i, &sym) && sym.st_shndx == c->maps_idx &&
		    GELF_ST_TYPE(sym.st_info) != STT_SECTION &&
		    GELF_ST_TYPE(sym.st_info) != STT_FILE)
			n++;
	return n;
}

/* LBPF_FMT_IPROUTE2 or LBPF_FMT_MAP_DEF for a file with a "maps" section;
 * an unreadable layout counts as iproute2 (open then says what is wrong). */
static int layout_format(struct elf_ctx *c)
{
	Elf_Scn *scn = elf_getscn(c->elf, c->maps_idx);
	GElf_Shdr sh;
	size_t n = count_map_syms(c);

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

static int ctx_format(struct elf_ctx *c)
{
	if (!c->maps_idx || c->btf_maps)
		return LBPF_FMT_LIBBPF;
	return layout_format(c);
}

int lbpf_legacy_detect(const void *buf, size_t len)
{
	struct elf_ctx c;
	int fmt;

	if (elf_ctx_open(&c, buf, len, NULL, 0) < 0) {
		elf_ctx_close(&c);
		return LBPF_FMT_BAD_ELF;
	}
	fmt = ctx_format(&c);
	elf_ctx_close(&c);
	return fmt;
}

const char *lbpf_legacy_format_name(int format)
{
	switch (format) {
	case LBPF_FMT_LIBBPF: return "libbpf";
	case LBPF_FMT_IPROUTE2: return "iproute2";
	case LBPF_FMT_MAP_DEF: return "bpf_map_def";
	default: return "bad_elf";
	}
}

/* ---- maps ------------------------------------------------------------------ */

/* Copy one definition: like iproute2, every layout is a zero-filled prefix
 * of struct bpf_elf_map, except the 7-field bpf_map_def of samples/bpf
 * whose last two are inner_map_idx and numa_node. */
static void read_map_def(struct lbpf_legacy *l, struct lbpf_legacy_map *m,
			 const __u32 *f)
{
	m->type = f[0];
	m->key_size = f[1];
	m->value_size = f[2];
	m->max_entries = f[3];
	m->flags = f[4];
	m->inner_template = -1;
	m->outer = -1;
	m->fd = -1;
	if (l->map_def_size != 28) {
		m->id = f[5];
		m->pinning = f[6];
		m->inner_id = f[7];
		m->inner_idx = f[8];
	} else if (l->map_def_size == 28) {
		m->inner_template = (int)f[5];
		m->numa_node = f[6];
	}
}

static int map_offset_cmp(const void *a, const void *b)
{
	const struct lbpf_legacy_map *x = a, *y = b;

	return (x->offset > y->offset) - (x->offset < y->offset);
}

/* Entry size from section size and symbol count; 0 when no layout fits.
 * iproute2 takes any 4-byte-aligned prefix of bpf_elf_map (older/newer
 * headers); fewer than 4 fields (type, key, value, max) make no map. */
static size_t map_def_size(size_t size, size_t n)
{
	size_t each;

	if (n == 0 || size % n)
		return 0;
	each = size / n;
	return (each >= 16 && each <= 36 && each % 4 == 0) ? each : 0;
}

static int add_map(struct lbpf_legacy *l, struct elf_ctx *c, Elf_Data *d,
		   const GElf_Sym *sym, char *err, size_t errlen)
{
	struct lbpf_legacy_map *m = &l->maps[l->nmaps];
	const char *name = sym_name(c, sym);
	__u32 f[9] = {0};

	if (sym->st_value % l->map_def_size ||
	    sym->st_value + l->map_def_size > d->d_size)
		return fail(err, errlen, EINVAL,
			    "section 'maps': symbol '%s' at offset %llu is not "
			    "on a %zu-byte map definition", name,
			    (unsigned long long)sym->st_value, l->map_def_size);
	memcpy(f, (const char *)d->d_buf + sym->st_value, l->map_def_size);
	read_map_def(l, m, f);
	m->offset = sym->st_value;
	m->name = strdup(*name ? name : "map");
	if (!m->name)
		return fail(err, errlen, ENOMEM, "out of memory");
	l->nmaps++;
	return 0;
}

/* Resolve iproute2's id/inner_id links and bpf_map_def's inner_map_idx. */
static int link_inner_maps(struct lbpf_legacy *l, char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < l->nmaps; i++) {
		struct lbpf_legacy_map *m = &l->maps[i];
		int mim = m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
			  m->type == BPF_MAP_TYPE_HASH_OF_MAPS;

		if (l->map_def_size == 28) {
			if (mim && (m->inner_template < 0 ||
				    (size_t)m->inner_template >= l->nmaps))
				return fail(err, errlen, EINVAL,
					    "section 'maps': map '%s': inner_map_idx %d names no map",
					    m->name, m->inner_template);
			if (!mim)
				m->inner_template = -1;
			continue;
		}
		if (!mim || !m->inner_id)
			continue;
		for (j = 0; j < l->nmaps; j++)
			if (j != i && l->maps[j].id == m->inner_id)
				break;
		if (j == l->nmaps)
			return fail(err, errlen, EINVAL,
				    "section 'maps': map '%s': inner_id %u names no map",
				    m->name, m->inner_id);
		m->inner_template = (int)j;
		if (l->maps[j].inner_idx < m->max_entries)
			l->maps[j].outer = (int)i;
	}
	return 0;
}

static int parse_maps(struct lbpf_legacy *l, struct elf_ctx *c, char *err,
		      size_t errlen)
{
	Elf_Scn *scn = elf_getscn(c->elf, c->maps_idx);
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Data *d;
	size_t i, n = count_map_syms(c);
	int ret;

	if (!scn || !gelf_getshdr(scn, &sh) || !(d = sec_data(scn, &sh)))
		return fail(err, errlen, EINVAL,
			    "section 'maps': unreadable (truncated ELF?)");
	l->map_def_size = map_def_size(sh.sh_size, n);
	if (!l->map_def_size)
		return fail(err, errlen, EINVAL,
			    "section 'maps': %llu bytes for %zu map symbols match no "
			    "known layout (bpf_elf_map: up to 36 bytes, bpf_map_def: "
			    "16, 20 or 28)",
			    (unsigned long long)sh.sh_size, n);
	l->format = layout_format(c);
	l->maps = calloc(n, sizeof *l->maps);
	if (!l->maps)
		return fail(err, errlen, ENOMEM, "out of memory");
	for (i = 1; i < c->nsyms; i++) {
		if (!get_sym(c, i, &sym) || sym.st_shndx != c->maps_idx ||
		    GELF_ST_TYPE(sym.st_info) == STT_SECTION ||
		    GELF_ST_TYPE(sym.st_info) == STT_FILE)
			continue;
		ret = add_map(l, c, d, &sym, err, errlen);
		if (ret < 0)
			return ret;
	}
	qsort(l->maps, l->nmaps, sizeof *l->maps, map_offset_cmp);
	for (i = 1; i < l->nmaps; i++)
		if (l->maps[i].offset == l->maps[i - 1].offset)
			return fail(err, errlen, EINVAL,
				    "section 'maps': symbols '%s' and '%s' share offset %zu",
				    l->maps[i - 1].name, l->maps[i].name, l->maps[i].offset);
	return link_inner_maps(l, err, errlen);
}

static int find_map_at(const struct lbpf_legacy *l, size_t offset)
{
	size_t i;

	for (i = 0; i < l->nmaps; i++)
		if (l->maps[i].offset == offset)
			return (int)i;
	return -1;
}

/* ---- programs --------------------------------------------------------------- */

/* Section names of old loaders that libbpf 1.x does not know (prefixes). */
static const struct {
	const char *prefix;
	enum bpf_prog_type type;
} old_sections[] = {
	{ "classifier", BPF_PROG_TYPE_SCHED_CLS },
	{ "action", BPF_PROG_TYPE_SCHED_ACT },
	{ "xdp", BPF_PROG_TYPE_XDP },
	{ "socket", BPF_PROG_TYPE_SOCKET_FILTER },
	{ "kprobe/", BPF_PROG_TYPE_KPROBE },
	{ "kretprobe/", BPF_PROG_TYPE_KPROBE },
	{ "tracepoint/", BPF_PROG_TYPE_TRACEPOINT },
	{ "raw_tracepoint/", BPF_PROG_TYPE_RAW_TRACEPOINT },
	{ "perf_event", BPF_PROG_TYPE_PERF_EVENT },
	{ "cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB },
	{ "cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK },
	{ "sockops", BPF_PROG_TYPE_SOCK_OPS },
	{ "sk_skb", BPF_PROG_TYPE_SK_SKB },
	{ "sk_msg", BPF_PROG_TYPE_SK_MSG },
	{ "lwt_in", BPF_PROG_TYPE_LWT_IN },
	{ "lwt_out", BPF_PROG_TYPE_LWT_OUT },
	{ "lwt_xmit", BPF_PROG_TYPE_LWT_XMIT },
};

/* The type a section name implies: libbpf's table first, then old names. */
static int type_of_section(const char *sec, __u32 *type, __u32 *eat)
{
	enum bpf_prog_type t;
	enum bpf_attach_type a;
	size_t i;

	if (libbpf_prog_type_by_name(sec, &t, &a) == 0) {
		*type = t;
		*eat = a;
		return 0;
	}
	for (i = 0; i < sizeof old_sections / sizeof old_sections[0]; i++)
		if (strncmp(sec, old_sections[i].prefix,
			    strlen(old_sections[i].prefix)) == 0) {
			*type = old_sections[i].type;
			*eat = 0;
			return 0;
		}
	return -1;
}

/* The function at offset 0 of section `idx` names the program; `local`
 * says whether it is static (a subprogram, not a program). */
static const char *prog_func_name(struct elf_ctx *c, size_t idx, int *local)
{
	GElf_Sym sym;
	size_t i;

	*local = 0;
	for (i = 1; i < c->nsyms; i++)
		if (get_sym(c, i, &sym) && sym.st_shndx == idx &&
		    sym.st_value == 0 &&
		    GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
			*local = GELF_ST_BIND(sym.st_info) == STB_LOCAL;
			return sym_name(c, &sym);
		}
	return NULL;
}

static int add_prog(struct lbpf_legacy *l, struct elf_ctx *c, Elf_Scn *scn,
		    const GElf_Shdr *sh, char *err, size_t errlen)
{
	struct lbpf_legacy_prog *p = &l->progs[l->nprogs];
	const char *sec = sec_name(c, sh);
	int local;
	const char *fn = prog_func_name(c, elf_ndxscn(scn), &local);
	Elf_Data *d = sec_data(scn, sh);

	if (fn && local)
		return 0;   /* a static function's own section: not a program */

	if (!d || sh->sh_size % sizeof(struct bpf_insn))
		return fail(err, errlen, EINVAL,
			    "section '%s': %llu bytes of code unreadable or not "
			    "whole instructions", sec, (unsigned long long)sh->sh_size);
	if (type_of_section(sec, &p->type, &p->expected_attach_type) < 0)
		return fail(err, errlen, ENOTSUP,
			    "section '%s': unknown program type (name the section "
			    "like classifier, action, xdp, socket, kprobe/..., "
			    "tracepoint/...)", sec);
	p->fd = -1;
	p->autoload = 1;
	p->section = strdup(sec);
	p->name = strdup(fn && *fn ? fn : sec);
	p->insn_cnt = sh->sh_size / sizeof(struct bpf_insn);
	p->insns = malloc(sh->sh_size);
	l->nprogs++;
	if (!p->section || !p->name || !p->insns)
		return fail(err, errlen, ENOMEM, "out of memory");
	memcpy(p->insns, d->d_buf, sh->sh_size);
	return 0;
}

static int is_code(const GElf_Shdr *sh)
{
	return sh->sh_type == SHT_PROGBITS && (sh->sh_flags & SHF_EXECINSTR) &&
	       sh->sh_size > 0;
}

static int parse_progs(struct lbpf_legacy *l, struct elf_ctx *c, char *err,
		       size_t errlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t n = 0;
	int ret;

	while ((scn = elf_nextscn(c->elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) && is_code(&sh))
			n++;
	l->progs = calloc(n ? n : 1, sizeof *l->progs);
	if (!l->progs)
		return fail(err, errlen, ENOMEM, "out of memory");
	while ((scn = elf_nextscn(c->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh) || !is_code(&sh) ||
		    elf_ndxscn(scn) == c->text_idx)
			continue;
		ret = add_prog(l, c, scn, &sh, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- relocations -------------------------------------------------------------- */

/* r_offset and symbol index of relocation `i` of a REL or RELA section */
static int get_reloc(Elf_Data *d, const GElf_Shdr *sh, size_t i,
		     GElf_Addr *off, size_t *sym)
{
	GElf_Rel rel;
	GElf_Rela rela;

	if (sh->sh_type == SHT_REL) {
		if (!gelf_getrel(d, (int)i, &rel))
			return -1;
		*off = rel.r_offset;
		*sym = GELF_R_SYM(rel.r_info);
	} else {
		if (!gelf_getrela(d, (int)i, &rela))
			return -1;
		*off = rela.r_offset;
		*sym = GELF_R_SYM(rela.r_info);
	}
	return 0;
}

/* Why symbol `sym` cannot be a map reference, as an error. */
static int bad_reloc_target(struct elf_ctx *c, const char *rsec,
			    const GElf_Sym *sym, char *err, size_t errlen)
{
	const char *name = *sym_name(c, sym) ? sym_name(c, sym) : "(section symbol)";
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (sym->st_shndx == SHN_UNDEF)
		return fail(err, errlen, EINVAL,
			    "section '%s': relocation to missing symbol '%s' "
			    "(not defined in this object)", rsec, name);
	if (sym->st_shndx == c->text_idx)
		return fail(err, errlen, ENOTSUP,
			    "section '%s': call to '%s' in .text: calls between "
			    "functions need libbpf (compile with -g and SEC names "
			    "libbpf knows)", rsec, name);
	scn = elf_getscn(c->elf, sym->st_shndx);
	return fail(err, errlen, ENOTSUP,
		    "section '%s': relocation to symbol '%s' in section '%s' "
		    "(only maps in section 'maps' can be referenced)", rsec,
		    name, scn && gelf_getshdr(scn, &sh) ? sec_name(c, &sh) : "?");
}

static int add_reloc(struct lbpf_legacy *l, struct elf_ctx *c,
		     struct lbpf_legacy_prog *p, const char *rsec,
		     GElf_Addr off, size_t symi, char *err, size_t errlen)
{
	struct bpf_insn *insn;
	GElf_Sym sym;
	size_t idx = off / sizeof(struct bpf_insn);
	int map;

	if (!get_sym(c, symi, &sym) || symi == 0)
		return fail(err, errlen, EINVAL,
			    "section '%s': relocation to missing symbol #%zu "
			    "(the symbol table has %zu)", rsec, symi, c->nsyms);
	if (!c->maps_idx || sym.st_shndx != c->maps_idx)
		return bad_reloc_target(c, rsec, &sym, err, errlen);
	if (off % sizeof(struct bpf_insn) || idx + 1 >= p->insn_cnt ||
	    p->insns[idx].code != (BPF_LD | BPF_IMM | BPF_DW))
		return fail(err, errlen, EINVAL,
			    "section '%s': relocation at offset %llu is not on an "
			    "ld_imm64 instruction", rsec, (unsigned long long)off);
	insn = &p->insns[idx];
	/* the addend of a REL relocation lives in imm (section symbols) */
	map = find_map_at(l, sym.st_value + (__u32)insn->imm);
	if (map < 0)
		return fail(err, errlen, EINVAL,
			    "section '%s': relocation to '%s'+%d is not the start "
			    "of a map definition", rsec, sym_name(c, &sym), insn->imm);
	p->relocs[p->nrelocs].insn = idx;
	p->relocs[p->nrelocs].map = map;
	p->nrelocs++;
	return 0;
}

static int parse_reloc_section(struct lbpf_legacy *l, struct elf_ctx *c,
			       Elf_Scn *scn, const GElf_Shdr *sh,
			       struct lbpf_legacy_prog *p, char *err,
			       size_t errlen)
{
	const char *rsec = sec_name(c, sh);
	Elf_Data *d = sec_data(scn, sh);
	GElf_Addr off;
	size_t i, n, symi;
	int ret;

	if (!d || sh->sh_entsize == 0 || sh->sh_link != elf_ndxscn(c->symtab))
		return fail(err, errlen, EINVAL,
			    "section '%s': unreadable relocations", rsec);
	n = sh->sh_size / sh->sh_entsize;
	p->relocs = calloc(n ? n : 1, sizeof *p->relocs);
	if (!p->relocs)
		return fail(err, errlen, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (get_reloc(d, sh, i, &off, &symi) < 0)
			return fail(err, errlen, EINVAL,
				    "section '%s': relocation %zu unreadable", rsec, i);
		ret = add_reloc(l, c, p, rsec, off, symi, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int parse_relocs(struct lbpf_legacy *l, struct elf_ctx *c, char *err,
			size_t errlen)
{
	Elf_Scn *scn = NULL, *target;
	GElf_Shdr sh, tsh;
	int i, ret;

	while ((scn = elf_nextscn(c->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_REL && sh.sh_type != SHT_RELA))
			continue;
		target = elf_getscn(c->elf, sh.sh_info);
		if (!target || !gelf_getshdr(target, &tsh) || !is_code(&tsh))
			continue;       /* relocations of data/debug sections */
		for (i = 0; i < (int)l->nprogs; i++)
			if (strcmp(l->progs[i].section, sec_name(c, &tsh)) == 0)
				break;
		if (i == (int)l->nprogs)
			continue;       /* .rel.text: calls are refused above */
		if (!c->symtab)
			return fail(err, errlen, EINVAL,
				    "section '%s': relocations without a symbol table",
				    sec_name(c, &sh));
		if (l->progs[i].relocs)
			return fail(err, errlen, EINVAL,
				    "section '%s': second relocation section for '%s'",
				    sec_name(c, &sh), l->progs[i].section);
		ret = parse_reloc_section(l, c, scn, &sh, &l->progs[i], err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- license, version, open -------------------------------------------------- */

static int parse_small_sections(struct lbpf_legacy *l, struct elf_ctx *c,
				char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;
	const char *name;

	while ((scn = elf_nextscn(c->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		name = sec_name(c, &sh);
		if (strcmp(name, "license") && strcmp(name, "version"))
			continue;
		if (!(d = sec_data(scn, &sh)))
			return fail(err, errlen, EINVAL,
				    "section '%s': unreadable (truncated ELF?)", name);
		if (name[0] == 'l') {
			size_t n = d->d_size < sizeof l->license ?
				   d->d_size : sizeof l->license - 1;
			memcpy(l->license, d->d_buf, n);
			l->license[n] = '\0';
		} else if (d->d_size != sizeof(__u32)) {
			return fail(err, errlen, EINVAL,
				    "section 'version': %zu bytes, want 4", d->d_size);
		} else {
			memcpy(&l->kern_version, d->d_buf, sizeof(__u32));
		}
	}
	return 0;
}

static int parse_object(struct lbpf_legacy *l, struct elf_ctx *c, char *err,
			size_t errlen)
{
	GElf_Ehdr eh;
	int ret;

	if (!gelf_getehdr(c->elf, &eh))
		return fail(err, errlen, EINVAL, "ELF header unreadable: %s",
			    elf_errmsg(-1));
	if (eh.e_machine != EM_BPF)
		return fail(err, errlen, EINVAL,
			    "not a BPF object (ELF machine %u)", eh.e_machine);
	if (!c->maps_idx || c->btf_maps)
		return fail(err, errlen, EINVAL,
			    "no section 'maps' of an old loader (a libbpf object?)");
	if (!c->symtab)
		return fail(err, errlen, EINVAL,
			    "section 'maps': no symbol table names the maps");
	if ((ret = parse_maps(l, c, err, errlen)) < 0 ||
	    (ret = parse_progs(l, c, err, errlen)) < 0 ||
	    (ret = parse_relocs(l, c, err, errlen)) < 0 ||
	    (ret = parse_small_sections(l, c, err, errlen)) < 0)
		return ret;
	return 0;   /* maps-only objects are fine: tc pins their maps */
}

/* object names go into pin paths: keep them one path component */
static char *pin_safe_name(const char *name)
{
	char *s = strdup(name && *name ? name : "legacy"), *p;

	for (p = s; p && *p; p++)
		if (*p == '/')
			*p = '_';
	if (s && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0))
		s[0] = '_';
	return s;
}

struct lbpf_legacy *lbpf_legacy_open(const void *buf, size_t len,
				     const char *name, const char *pin_root,
				     char *err, size_t errlen)
{
	struct lbpf_legacy *l = calloc(1, sizeof *l);
	struct elf_ctx c;
	int ret;

	if (!l) {
		fail(err, errlen, ENOMEM, "out of memory");
		return NULL;
	}
	ret = elf_ctx_open(&c, buf, len, err, errlen);
	if (ret == 0)
		ret = parse_object(l, &c, err, errlen);
	elf_ctx_close(&c);
	if (ret == 0) {
		l->name = pin_safe_name(name);
		l->pin_root = strdup(pin_root ? pin_root : LBPF_LEGACY_PIN_ROOT);
		if (!l->name || !l->pin_root)
			ret = fail(err, errlen, ENOMEM, "out of memory");
	}
	if (ret < 0) {
		lbpf_legacy_free(l);
		errno = -ret;
		return NULL;
	}
	return l;
}

/* ---- load: maps ------------------------------------------------------------ */

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* pin directory of map `m`, or -errno for pinning values we do not know */
static int pin_dir(const struct lbpf_legacy *l, const struct lbpf_legacy_map *m,
		   char *dir, size_t n)
{
	int w;

	if (m->pinning == 1)
		w = snprintf(dir, n, "%s/%s", l->pin_root, l->name);
	else if (m->pinning == 2)
		w = snprintf(dir, n, "%s/globals", l->pin_root);
	else
		return -ENOTSUP;
	return w < (int)n ? 0 : -ENAMETOOLONG;
}

/* An existing pin is reused only when it is the same kind of map. */
static int check_pinned(int fd, const struct lbpf_legacy_map *m,
			const char *path, char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof info;

	memset(&info, 0, sizeof info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return fail(err, errlen, errno, "map '%s': pinned %s",
			    m->name, path);
#define SAME(field, have) \
	if (info.have != m->field) \
		return fail(err, errlen, EINVAL, \
			    "map '%s': pinned map %s is incompatible: " #field \
			    " is %u there, %u in the object", m->name, path, \
			    (unsigned)info.have, (unsigned)m->field)
	SAME(type, type);
	SAME(key_size, key_size);
	SAME(value_size, value_size);
	SAME(max_entries, max_entries);
	SAME(flags, map_flags);
#undef SAME
	return 0;
}

static int map_create(struct lbpf_legacy *l, struct lbpf_legacy_map *m,
		      char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = m->flags);
	char kname[BPF_OBJ_NAME_LEN];
	int fd;

	snprintf(kname, sizeof kname, "%s", m->name);
	if (m->inner_template >= 0)
		opts.inner_map_fd = l->maps[m->inner_template].fd;
	if (m->flags & BPF_F_NUMA_NODE)
		opts.numa_node = m->numa_node;
	fd = bpf_map_create(m->type, kname, m->key_size, m->value_size,
			    m->max_entries, &opts);
	if (fd < 0)
		return fail(err, errlen, errno,
			    "map '%s': create (type %u, key %u, value %u, max %u, "
			    "flags 0x%x)", m->name, m->type, m->key_size,
			    m->value_size, m->max_entries, m->flags);
	m->fd = fd;
	return 0;
}

static int map_pin(struct lbpf_legacy_map *m, const char *dir,
		   const char *path, char *err, size_t errlen)
{
	int ret = mkdir_p(dir);

	if (ret < 0)
		return fail(err, errlen, -ret, "map '%s': mkdir %s",
			    m->name, dir);
	if (bpf_obj_pin(m->fd, path) < 0)
		return fail(err, errlen, errno, "map '%s': pin %s",
			    m->name, path);
	m->pinned_here = strdup(path);
	if (!m->pinned_here) {
		unlink(path);
		return fail(err, errlen, ENOMEM, "out of memory");
	}
	return 0;
}

/* Reuse the pinned map or create (and pin) a new one. */
static int map_obtain(struct lbpf_legacy *l, struct lbpf_legacy_map *m,
		      char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd, ret;

	if (!m->pinning)
		return map_create(l, m, err, errlen);
	if (strchr(m->name, '/') || strcmp(m->name, "..") == 0 ||
	    strcmp(m->name, ".") == 0)
		return fail(err, errlen, EINVAL,
			    "map '%s': name cannot be pinned (not a file name)",
			    m->name);
	ret = pin_dir(l, m, dir, sizeof dir);
	if (ret == -ENOTSUP)
		return fail(err, errlen, ENOTSUP,
			    "map '%s': pinning %u is not supported (1 = object, "
			    "2 = global namespace)", m->name, m->pinning);
	if (ret < 0 || snprintf(path, sizeof path, "%s/%s", dir, m->name) >=
			       (int)sizeof path)
		return fail(err, errlen, ENAMETOOLONG, "map '%s': pin path too long",
			    m->name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		m->fd = fd;
		m->reused = 1;
		return check_pinned(fd, m, path, err, errlen);
	}
	if (errno != ENOENT)
		return fail(err, errlen, errno, "map '%s': open pinned %s",
			    m->name, path);
	ret = map_create(l, m, err, errlen);
	return ret < 0 ? ret : map_pin(m, dir, path, err, errlen);
}

static int is_map_in_map(const struct lbpf_legacy_map *m)
{
	return m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	       m->type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

/* Plain maps first (they are the inner templates), then maps of maps,
 * then place inner maps into their outer map's slot (iproute2). */
static int create_maps(struct lbpf_legacy *l, char *err, size_t errlen)
{
	size_t pass, i;
	int ret;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < l->nmaps; i++) {
			if (is_map_in_map(&l->maps[i]) != (int)pass)
				continue;
			ret = map_obtain(l, &l->maps[i], err, errlen);
			if (ret < 0)
				return ret;
		}
	for (i = 0; i < l->nmaps; i++) {
		struct lbpf_legacy_map *m = &l->maps[i];

		if (m->outer < 0 || l->maps[m->outer].reused)
			continue;
		if (bpf_map_update_elem(l->maps[m->outer].fd, &m->inner_idx,
					&m->fd, BPF_ANY) < 0)
			return fail(err, errlen, errno,
				    "map '%s': insert into '%s' at %u", m->name,
				    l->maps[m->outer].name, m->inner_idx);
	}
	return 0;
}

/* ---- load: programs ----------------------------------------------------------- */

static void patch_relocs(struct lbpf_legacy *l, struct lbpf_legacy_prog *p)
{
	size_t i;

	for (i = 0; i < p->nrelocs; i++) {
		struct bpf_insn *insn = &p->insns[p->relocs[i].insn];

		insn[0].src_reg = BPF_PSEUDO_MAP_FD;
		insn[0].imm = l->maps[p->relocs[i].map].fd;
		insn[1].imm = 0;
	}
}

static int prog_load_once(struct lbpf_legacy *l, struct lbpf_legacy_prog *p,
			  char *log, size_t log_size)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = p->expected_attach_type,
		    .kern_version = l->kern_version,
		    .log_level = log ? 1 : 0,
		    .log_buf = log,
		    .log_size = (__u32)log_size);
	char kname[BPF_OBJ_NAME_LEN];
	int fd;

	snprintf(kname, sizeof kname, "%s", p->name);
	fd = bpf_prog_load(p->type, kname, l->license, p->insns, p->insn_cnt,
			   &opts);
	return fd < 0 ? -errno : fd;
}

/* Reload with a log buffer that grows until the log fits; keep the log. */
static void prog_fetch_log(struct lbpf_legacy *l, struct lbpf_legacy_prog *p)
{
	size_t size;
	char *buf = NULL, *nb;
	int fd = -ENOSPC;

	for (size = LOG_MIN_SIZE; fd == -ENOSPC && size <= LOG_MAX_SIZE;
	     size = size * 4 > LOG_MAX_SIZE && size < LOG_MAX_SIZE ?
		    LOG_MAX_SIZE : size * 4) {
		nb = realloc(buf, size);
		if (!nb)
			break;
		buf = nb;
		buf[0] = '\0';
		fd = prog_load_once(l, p, buf, size);
		if (fd >= 0)    /* loads with a log: keep the first errno anyway */
			close(fd);
		if (size == LOG_MAX_SIZE)
			break;
	}
	free(p->log);
	p->log = buf;
	p->log_len = buf ? strlen(buf) : 0;
}

static int prog_load(struct lbpf_legacy *l, struct lbpf_legacy_prog *p,
		     char *err, size_t errlen)
{
	int fd;

	patch_relocs(l, p);
	fd = prog_load_once(l, p, NULL, 0);
	if (fd >= 0) {
		p->fd = fd;
		return 0;
	}
	prog_fetch_log(l, p);
	return fail(err, errlen, -fd, "load '%s' (section '%s') failed",
		    p->name, p->section);
}

/* Undo a partial load: close fds, remove pins this load created. */
static void unload(struct lbpf_legacy *l)
{
	size_t i;

	for (i = 0; i < l->nprogs; i++) {
		if (l->progs[i].fd >= 0)
			close(l->progs[i].fd);
		l->progs[i].fd = -1;
	}
	for (i = 0; i < l->nmaps; i++) {
		struct lbpf_legacy_map *m = &l->maps[i];

		if (m->pinned_here)
			unlink(m->pinned_here);
		free(m->pinned_here);
		m->pinned_here = NULL;
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
		m->reused = 0;
	}
}

int lbpf_legacy_load(struct lbpf_legacy *l, char *err, size_t errlen)
{
	size_t i;
	int ret;

	if (l->loaded)
		return fail(err, errlen, EBUSY, "object '%s' is already loaded",
			    l->name);
	for (i = 0; i < l->nprogs; i++) {
		free(l->progs[i].log);
		l->progs[i].log = NULL;
		l->progs[i].log_len = 0;
	}
	ret = create_maps(l, err, errlen);
	for (i = 0; ret == 0 && i < l->nprogs; i++)
		if (l->progs[i].autoload)
			ret = prog_load(l, &l->progs[i], err, errlen);
	if (ret < 0) {
		unload(l);
		return ret;
	}
	for (i = 0; i < l->nmaps; i++) {   /* pins now belong to the system */
		free(l->maps[i].pinned_here);
		l->maps[i].pinned_here = NULL;
	}
	l->loaded = 1;
	return 0;
}

/* ---- accessors, free ------------------------------------------------------------ */

int lbpf_legacy_find_map(const struct lbpf_legacy *l, const char *name)
{
	size_t i;

	for (i = 0; name && i < l->nmaps; i++)
		if (strcmp(l->maps[i].name, name) == 0)
			return (int)i;
	return -1;
}

int lbpf_legacy_find_prog(const struct lbpf_legacy *l, const char *name)
{
	size_t i;

	for (i = 0; name && i < l->nprogs; i++)
		if (strcmp(l->progs[i].name, name) == 0)
			return (int)i;
	return -1;
}

int lbpf_legacy_prog_set_type(struct lbpf_legacy *l, size_t i, __u32 type,
			      __u32 expected_attach_type)
{
	if (l->loaded)
		return -EBUSY;
	if (i >= l->nprogs)
		return -ENOENT;
	l->progs[i].type = type;
	l->progs[i].expected_attach_type = expected_attach_type;
	return 0;
}

int lbpf_legacy_prog_set_autoload(struct lbpf_legacy *l, size_t i, int on)
{
	if (l->loaded)
		return -EBUSY;
	if (i >= l->nprogs)
		return -ENOENT;
	l->progs[i].autoload = on != 0;
	return 0;
}

void lbpf_legacy_free(struct lbpf_legacy *l)
{
	size_t i;

	if (!l)
		return;
	if (l->maps || l->progs)
		unload(l);
	for (i = 0; i < l->nmaps; i++)
		free(l->maps[i].name);
	for (i = 0; i < l->nprogs; i++) {
		free(l->progs[i].name);
		free(l->progs[i].section);
		free(l->progs[i].insns);
		free(l->progs[i].relocs);
		free(l->progs[i].log);
	}
	free(l->maps);
	free(l->progs);
	free(l->name);
	free(l->pin_root);
	free(l);
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

static int fill_sections(struct lbpf_elf_sections *s, struct elf_ctx *c,
			 char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t n = 0;

	if (elf_getshdrnum(c->elf, &n) != 0)
		return fail(err, errlen, EINVAL, "ELF section count unreadable");
	s->sec = calloc(n ? n : 1, sizeof *s->sec);
	if (!s->sec)
		return fail(err, errlen, ENOMEM, "out of memory");
	while ((scn = elf_nextscn(c->elf, scn)) != NULL && s->n < n) {
		struct lbpf_elf_section *e = &s->sec[s->n];

		if (!gelf_getshdr(scn, &sh))
			return fail(err, errlen, EINVAL,
				    "ELF section %zu: header unreadable", elf_ndxscn(scn));
		e->name = strdup(sec_name(c, &sh));
		if (!e->name)
			return fail(err, errlen, ENOMEM, "out of memory");
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
	struct elf_ctx c;
	int ret;

	if (!s) {
		fail(err, errlen, ENOMEM, "out of memory");
		return NULL;
	}
	ret = elf_ctx_open(&c, buf, len, err, errlen);
	if (ret == 0) {
		s->format = ctx_format(&c);
		ret = fill_sections(s, &c, err, errlen);
	}
	elf_ctx_close(&c);
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
