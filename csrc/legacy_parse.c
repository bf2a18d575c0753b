/*
 * legacy_parse.c - objects in iproute2's and the old bpf_map_def
 * conventions, parsed from an open ELF image (elfimage.c): their maps,
 * programs (one per code section), ld_imm64 map relocations, license and
 * version. Pure: no system calls; legacy_load.c loads what this finds.
 * See legacy.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "legacy.h"

#define MAP_SECTION "maps"

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

static int add_map(struct lbpf_legacy *l, struct lbpf_elf_image *c, Elf_Data *d,
		   const GElf_Sym *sym, char *err, size_t errlen)
{
	struct lbpf_legacy_map *m = &l->maps[l->nmaps];
	const char *name = lbpf_elf_sym_name(c, sym);
	__u32 f[9] = {0};

	if (sym->st_value % l->map_def_size ||
	    sym->st_value + l->map_def_size > d->d_size)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section 'maps': symbol '%s' at offset %llu is not "
			    "on a %zu-byte map definition", name,
			    (unsigned long long)sym->st_value, l->map_def_size);
	memcpy(f, (const char *)d->d_buf + sym->st_value, l->map_def_size);
	read_map_def(l, m, f);
	m->offset = sym->st_value;
	m->name = strdup(*name ? name : "map");
	if (!m->name)
		return lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
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
				return lbpf_elf_fail(err, errlen, EINVAL,
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
			return lbpf_elf_fail(err, errlen, EINVAL,
				    "section 'maps': map '%s': inner_id %u names no map",
				    m->name, m->inner_id);
		m->inner_template = (int)j;
		if (l->maps[j].inner_idx < m->max_entries)
			l->maps[j].outer = (int)i;
	}
	return 0;
}

static int parse_maps(struct lbpf_legacy *l, struct lbpf_elf_image *c, char *err,
		      size_t errlen)
{
	Elf_Scn *scn = elf_getscn(c->elf, c->maps_idx);
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Data *d;
	size_t i, n = lbpf_elf_count_map_syms(c);
	int ret;

	if (!scn || !gelf_getshdr(scn, &sh) || !(d = lbpf_elf_sec_data(scn, &sh)))
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section 'maps': unreadable (truncated ELF?)");
	l->map_def_size = map_def_size(sh.sh_size, n);
	if (!l->map_def_size)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section 'maps': %llu bytes for %zu map symbols match no "
			    "known layout (bpf_elf_map: up to 36 bytes, bpf_map_def: "
			    "16, 20 or 28)",
			    (unsigned long long)sh.sh_size, n);
	l->format = lbpf_elf_layout_format(c);
	l->maps = calloc(n, sizeof *l->maps);
	if (!l->maps)
		return lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
	for (i = 1; i < c->nsyms; i++) {
		if (!lbpf_elf_get_sym(c, i, &sym) || sym.st_shndx != c->maps_idx ||
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
			return lbpf_elf_fail(err, errlen, EINVAL,
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
static const char *prog_func_name(struct lbpf_elf_image *c, size_t idx, int *local)
{
	GElf_Sym sym;
	size_t i;

	*local = 0;
	for (i = 1; i < c->nsyms; i++)
		if (lbpf_elf_get_sym(c, i, &sym) && sym.st_shndx == idx &&
		    sym.st_value == 0 &&
		    GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
			*local = GELF_ST_BIND(sym.st_info) == STB_LOCAL;
			return lbpf_elf_sym_name(c, &sym);
		}
	return NULL;
}

static int add_prog(struct lbpf_legacy *l, struct lbpf_elf_image *c, Elf_Scn *scn,
		    const GElf_Shdr *sh, char *err, size_t errlen)
{
	struct lbpf_legacy_prog *p = &l->progs[l->nprogs];
	const char *sec = lbpf_elf_sec_name(c, sh);
	int local;
	const char *fn = prog_func_name(c, elf_ndxscn(scn), &local);
	Elf_Data *d = lbpf_elf_sec_data(scn, sh);

	if (fn && local)
		return 0;   /* a static function's own section: not a program */

	if (!d || sh->sh_size % sizeof(struct bpf_insn))
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section '%s': %llu bytes of code unreadable or not "
			    "whole instructions", sec, (unsigned long long)sh->sh_size);
	if (type_of_section(sec, &p->type, &p->expected_attach_type) < 0)
		return lbpf_elf_fail(err, errlen, ENOTSUP,
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
		return lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
	memcpy(p->insns, d->d_buf, sh->sh_size);
	return 0;
}

static int is_code(const GElf_Shdr *sh)
{
	return sh->sh_type == SHT_PROGBITS && (sh->sh_flags & SHF_EXECINSTR) &&
	       sh->sh_size > 0;
}

static int parse_progs(struct lbpf_legacy *l, struct lbpf_elf_image *c, char *err,
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
		return lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
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
static int bad_reloc_target(struct lbpf_elf_image *c, const char *rsec,
			    const GElf_Sym *sym, char *err, size_t errlen)
{
	const char *name = *lbpf_elf_sym_name(c, sym) ? lbpf_elf_sym_name(c, sym) : "(section symbol)";
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (sym->st_shndx == SHN_UNDEF)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section '%s': relocation to missing symbol '%s' "
			    "(not defined in this object)", rsec, name);
	if (sym->st_shndx == c->text_idx)
		return lbpf_elf_fail(err, errlen, ENOTSUP,
			    "section '%s': call to '%s' in .text: calls between "
			    "functions need libbpf (compile with -g and SEC names "
			    "libbpf knows)", rsec, name);
	scn = elf_getscn(c->elf, sym->st_shndx);
	return lbpf_elf_fail(err, errlen, ENOTSUP,
		    "section '%s': relocation to symbol '%s' in section '%s' "
		    "(only maps in section 'maps' can be referenced)", rsec,
		    name, scn && gelf_getshdr(scn, &sh) ? lbpf_elf_sec_name(c, &sh) : "?");
}

static int add_reloc(struct lbpf_legacy *l, struct lbpf_elf_image *c,
		     struct lbpf_legacy_prog *p, const char *rsec,
		     GElf_Addr off, size_t symi, char *err, size_t errlen)
{
	struct bpf_insn *insn;
	GElf_Sym sym;
	size_t idx = off / sizeof(struct bpf_insn);
	int map;

	if (!lbpf_elf_get_sym(c, symi, &sym) || symi == 0)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section '%s': relocation to missing symbol #%zu "
			    "(the symbol table has %zu)", rsec, symi, c->nsyms);
	if (!c->maps_idx || sym.st_shndx != c->maps_idx)
		return bad_reloc_target(c, rsec, &sym, err, errlen);
	if (off % sizeof(struct bpf_insn) || idx + 1 >= p->insn_cnt ||
	    p->insns[idx].code != (BPF_LD | BPF_IMM | BPF_DW))
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section '%s': relocation at offset %llu is not on an "
			    "ld_imm64 instruction", rsec, (unsigned long long)off);
	insn = &p->insns[idx];
	/* the addend of a REL relocation lives in imm (section symbols) */
	map = find_map_at(l, sym.st_value + (__u32)insn->imm);
	if (map < 0)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section '%s': relocation to '%s'+%d is not the start "
			    "of a map definition", rsec, lbpf_elf_sym_name(c, &sym), insn->imm);
	p->relocs[p->nrelocs].insn = idx;
	p->relocs[p->nrelocs].map = map;
	p->nrelocs++;
	return 0;
}

static int parse_reloc_section(struct lbpf_legacy *l, struct lbpf_elf_image *c,
			       Elf_Scn *scn, const GElf_Shdr *sh,
			       struct lbpf_legacy_prog *p, char *err,
			       size_t errlen)
{
	const char *rsec = lbpf_elf_sec_name(c, sh);
	Elf_Data *d = lbpf_elf_sec_data(scn, sh);
	GElf_Addr off;
	size_t i, n, symi;
	int ret;

	if (!d || sh->sh_entsize == 0 || sh->sh_link != elf_ndxscn(c->symtab))
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "section '%s': unreadable relocations", rsec);
	n = sh->sh_size / sh->sh_entsize;
	p->relocs = calloc(n ? n : 1, sizeof *p->relocs);
	if (!p->relocs)
		return lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (get_reloc(d, sh, i, &off, &symi) < 0)
			return lbpf_elf_fail(err, errlen, EINVAL,
				    "section '%s': relocation %zu unreadable", rsec, i);
		ret = add_reloc(l, c, p, rsec, off, symi, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int parse_relocs(struct lbpf_legacy *l, struct lbpf_elf_image *c, char *err,
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
			if (strcmp(l->progs[i].section, lbpf_elf_sec_name(c, &tsh)) == 0)
				break;
		if (i == (int)l->nprogs)
			continue;       /* .rel.text: calls are refused above */
		if (!c->symtab)
			return lbpf_elf_fail(err, errlen, EINVAL,
				    "section '%s': relocations without a symbol table",
				    lbpf_elf_sec_name(c, &sh));
		if (l->progs[i].relocs)
			return lbpf_elf_fail(err, errlen, EINVAL,
				    "section '%s': second relocation section for '%s'",
				    lbpf_elf_sec_name(c, &sh), l->progs[i].section);
		ret = parse_reloc_section(l, c, scn, &sh, &l->progs[i], err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- license, version, open -------------------------------------------------- */

static int parse_small_sections(struct lbpf_legacy *l, struct lbpf_elf_image *c,
				char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;
	const char *name;

	while ((scn = elf_nextscn(c->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		name = lbpf_elf_sec_name(c, &sh);
		if (strcmp(name, "license") && strcmp(name, "version"))
			continue;
		if (!(d = lbpf_elf_sec_data(scn, &sh)))
			return lbpf_elf_fail(err, errlen, EINVAL,
				    "section '%s': unreadable (truncated ELF?)", name);
		if (name[0] == 'l') {
			size_t n = d->d_size < sizeof l->license ?
				   d->d_size : sizeof l->license - 1;
			memcpy(l->license, d->d_buf, n);
			l->license[n] = '\0';
		} else if (d->d_size != sizeof(__u32)) {
			return lbpf_elf_fail(err, errlen, EINVAL,
				    "section 'version': %zu bytes, want 4", d->d_size);
		} else {
			memcpy(&l->kern_version, d->d_buf, sizeof(__u32));
		}
	}
	return 0;
}

static int parse_object(struct lbpf_legacy *l, struct lbpf_elf_image *c, char *err,
			size_t errlen)
{
	GElf_Ehdr eh;
	int ret;

	if (!gelf_getehdr(c->elf, &eh))
		return lbpf_elf_fail(err, errlen, EINVAL, "ELF header unreadable: %s",
			    elf_errmsg(-1));
	if (eh.e_machine != EM_BPF)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "not a BPF object (ELF machine %u)", eh.e_machine);
	if (!c->maps_idx || c->btf_maps)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "no section 'maps' of an old loader (a libbpf object?)");
	if (!c->symtab)
		return lbpf_elf_fail(err, errlen, EINVAL,
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

struct lbpf_legacy *lbpf_legacy_open(struct lbpf_elf_image *c,
				     const char *name, const char *pin_root,
				     char *err, size_t errlen)
{
	struct lbpf_legacy *l = calloc(1, sizeof *l);
	int ret;

	if (!l) {
		lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
		return NULL;
	}
	ret = parse_object(l, c, err, errlen);
	if (ret == 0) {
		l->name = pin_safe_name(name);
		l->pin_root = strdup(pin_root ? pin_root : LBPF_LEGACY_PIN_ROOT);
		if (!l->name || !l->pin_root)
			ret = lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
	}
	if (ret < 0) {
		lbpf_legacy_release(l);  /* nothing is loaded: memory only */
		errno = -ret;
		return NULL;
	}
	return l;
}

/* ---- accessors, memory ------------------------------------------------------------ */

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

void lbpf_legacy_release(struct lbpf_legacy *l)
{
	size_t i;

	if (!l)
		return;
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

