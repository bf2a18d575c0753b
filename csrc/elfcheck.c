/*
 * elfcheck.c - validate a BPF ELF before libbpf parses it.
 *
 * libbpf 1.1 trusts the ELF it opens: a section header pointing past the
 * file, a relocation naming a symbol that does not exist or BTF whose type
 * ids point nowhere crash it (later libbpf releases added these checks after
 * fuzzing). "Bad input gets a clear error, never a crash", so every object
 * goes through this check first (on the image elfimage.c opened); the
 * message names the section at fault.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>

#include "elfimage.h"
#include "lbpf.h"

struct check {
	Elf *elf;
	size_t len, shnum, shstrndx;
	char *err;
	size_t errlen;
};

#define fail(c, ...) lbpf_elf_fail((c)->err, (c)->errlen, EINVAL, __VA_ARGS__)

static const char *check_sec_name(struct check *c, GElf_Shdr *sh)
{
	const char *n = elf_strptr(c->elf, c->shstrndx, sh->sh_name);

	return n ? n : "?";
}

/* Every type a BTF type refers to must exist. */
static int check_btf_type(struct check *c, const struct btf *btf, __u32 id,
			  __u32 n)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	__u16 i, vlen;

	if (!t || !btf__str_by_offset(btf, t->name_off))
		return fail(c, "section '.BTF': type %u is corrupt", id);
	vlen = btf_vlen(t);
	switch (btf_kind(t)) {
	case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST: case BTF_KIND_RESTRICT: case BTF_KIND_FUNC:
	case BTF_KIND_VAR: case BTF_KIND_TYPE_TAG: case BTF_KIND_DECL_TAG:
		if (t->type >= n)
			goto bad;
		break;
	case BTF_KIND_ARRAY:
		if (btf_array(t)->type >= n || btf_array(t)->index_type >= n)
			goto bad;
		break;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		for (i = 0; i < vlen; i++)
			if (btf_members(t)[i].type >= n ||
			    !btf__str_by_offset(btf, btf_members(t)[i].name_off))
				goto bad;
		break;
	case BTF_KIND_FUNC_PROTO:
		if (t->type >= n)
			goto bad;
		for (i = 0; i < vlen; i++)
			if (btf_params(t)[i].type >= n)
				goto bad;
		break;
	case BTF_KIND_DATASEC:
		for (i = 0; i < vlen; i++)
			if (btf_var_secinfos(t)[i].type >= n)
				goto bad;
		break;
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
		break;
	case BTF_KIND_INT: case BTF_KIND_FWD: case BTF_KIND_FLOAT:
		break;
	default:
		return fail(c, "section '.BTF': type %u has unknown kind %u", id,
			    btf_kind(t));
	}
	return 0;
bad:
	return fail(c, "section '.BTF': type %u refers to a missing type", id);
}

static int check_btf(struct check *c, Elf_Data *d)
{
	struct btf *btf = btf__new(d->d_buf, d->d_size);
	__u32 id, n;
	int err = 0;

	if (!btf || libbpf_get_error(btf))
		return fail(c, "section '.BTF' is corrupt");
	n = btf__type_cnt(btf);
	for (id = 1; id < n && !err; id++)
		err = check_btf_type(c, btf, id, n);
	btf__free(btf);
	return err;
}

static int check_symtab(struct check *c, GElf_Shdr *sh, Elf_Data *d)
{
	size_t i, nsyms;

	if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_link >= c->shnum)
		return fail(c, "section '%s' (symbol table) is corrupt",
			    check_sec_name(c, sh));
	nsyms = d->d_size / sizeof(Elf64_Sym);
	for (i = 0; i < nsyms; i++) {
		GElf_Sym sym;

		if (!gelf_getsym(d, (int)i, &sym) ||
		    !elf_strptr(c->elf, sh->sh_link, sym.st_name))
			return fail(c, "section '%s': symbol %zu is corrupt",
				    check_sec_name(c, sh), i);
		if (sym.st_shndx >= c->shnum && sym.st_shndx < SHN_LORESERVE)
			return fail(c, "section '%s': symbol %zu names section "
				    "%u, which does not exist", check_sec_name(c, sh),
				    i, sym.st_shndx);
		if (sym.st_shndx > 0 && sym.st_shndx < c->shnum) {
			GElf_Shdr tsh;
			Elf_Scn *t = elf_getscn(c->elf, sym.st_shndx);

			if (!t || !gelf_getshdr(t, &tsh) ||
			    (tsh.sh_type != SHT_NOBITS && tsh.sh_type != SHT_NULL &&
			     (sym.st_value > tsh.sh_size ||
			      sym.st_size > tsh.sh_size - sym.st_value)))
				return fail(c, "section '%s': symbol %zu lies "
					    "outside its section", check_sec_name(c, sh), i);
		}
	}
	return 0;
}

static int check_rel(struct check *c, GElf_Shdr *sh, Elf_Data *d)
{
	GElf_Shdr tsh, ssh;
	Elf_Scn *target, *symtab;
	size_t i, nrels, nsyms;
	int code;

	target = sh->sh_info < c->shnum ? elf_getscn(c->elf, sh->sh_info) : NULL;
	symtab = sh->sh_link < c->shnum ? elf_getscn(c->elf, sh->sh_link) : NULL;
	if (sh->sh_entsize != sizeof(Elf64_Rel) || !target || !symtab ||
	    !gelf_getshdr(target, &tsh) || !gelf_getshdr(symtab, &ssh) ||
	    ssh.sh_type != SHT_SYMTAB || !ssh.sh_entsize)
		return fail(c, "section '%s' (relocations) is corrupt",
			    check_sec_name(c, sh));
	code = (tsh.sh_flags & SHF_EXECINSTR) != 0;
	nsyms = ssh.sh_size / ssh.sh_entsize;
	nrels = d->d_size / sizeof(Elf64_Rel);
	for (i = 0; i < nrels; i++) {
		GElf_Rel rel;

		if (!gelf_getrel(d, (int)i, &rel))
			return fail(c, "section '%s': relocation %zu is corrupt",
				    check_sec_name(c, sh), i);
		if (GELF_R_SYM(rel.r_info) >= nsyms)
			return fail(c, "section '%s': relocation %zu refers to "
				    "missing symbol %zu", check_sec_name(c, sh), i,
				    (size_t)GELF_R_SYM(rel.r_info));
		/* code relocations patch whole 8-byte instructions, data
		 * ones (debug info) 4 or 8 bytes */
		if (tsh.sh_type != SHT_NOBITS &&
		    (rel.r_offset >= tsh.sh_size ||
		     tsh.sh_size - rel.r_offset < (code ? 8 : 4) ||
		     (code && rel.r_offset % 8)))
			return fail(c, "section '%s': relocation %zu points "
				    "outside section '%s'", check_sec_name(c, sh), i,
				    check_sec_name(c, &tsh));
	}
	return 0;
}

static int check_section(struct check *c, Elf_Scn *scn)
{
	GElf_Shdr sh;
	Elf_Data *d;

	if (!gelf_getshdr(scn, &sh))
		return fail(c, "a section header is corrupt");
	if (!elf_strptr(c->elf, c->shstrndx, sh.sh_name))
		return fail(c, "section %zu has a corrupt name", elf_ndxscn(scn));
	if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL)
		return 0;
	if (sh.sh_offset > c->len || sh.sh_size > c->len - sh.sh_offset)
		return fail(c, "section '%s' lies outside the file (truncated?)",
			    check_sec_name(c, &sh));
	d = elf_getdata(scn, NULL);
	if (!d && sh.sh_size)
		return fail(c, "section '%s' has no readable data", check_sec_name(c, &sh));
	if (!d)
		return 0;
	if (sh.sh_type == SHT_SYMTAB)
		return check_symtab(c, &sh, d);
	if (sh.sh_type == SHT_REL)
		return check_rel(c, &sh, d);
	if (strcmp(check_sec_name(c, &sh), ".BTF") == 0)
		return check_btf(c, d);
	return 0;
}

/* 0 when the image is an ELF that libbpf can parse safely; otherwise <0
 * with a message in err. */
int lbpf_elf_check(struct lbpf_elf_image *img, char *err, size_t errlen)
{
	struct check c = {.elf = img->elf, .len = img->len, .err = err,
			  .errlen = errlen};
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	int rc = 0;

	if (!gelf_getehdr(c.elf, &eh))
		return fail(&c, "not an ELF file");
	if (gelf_getclass(c.elf) != ELFCLASS64 || eh.e_machine != EM_BPF)
		return fail(&c, "not a BPF ELF object (machine %u)", eh.e_machine);
	if (elf_getshdrnum(c.elf, &c.shnum) || elf_getshdrstrndx(c.elf, &c.shstrndx) ||
	    c.shstrndx >= c.shnum || eh.e_shoff > c.len ||
	    (size_t)eh.e_shnum * sizeof(Elf64_Shdr) > c.len - eh.e_shoff)
		return fail(&c, "section headers are corrupt or truncated");
	while (!rc && (scn = elf_nextscn(c.elf, scn)) != NULL)
		rc = check_section(&c, scn);
	return rc;
}
