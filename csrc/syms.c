/*
 * syms.c - ELF symbol tables for symbolising user stacks: bpf.elf_symbols.
 *
 * Lua does the rest (sorting, binary search, /proc/PID/maps, kallsyms) in
 * lua/libbpf/syms.lua; only reading ELF needs C: the image reader of
 * elfimage.c opens the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "elfimage.h"
#include "lbpf.h"
#include "open.h"

#define ELF_BOX "libbpf.elf_file"

/* An open ELF file whose fd and libelf handle are released by __close when
 * the Lua function returns or raises (a memory error while building the
 * symbol list must not leak the fd). */
struct elf_box {
	int fd;
	struct lbpf_elf_image img;
};

static int elf_box_close(lua_State *L)
{
	struct elf_box *b = luaL_checkudata(L, 1, ELF_BOX);

	lbpf_elf_image_close(&b->img);
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	return 0;
}

static struct elf_box *push_elf_box(lua_State *L)
{
	struct elf_box *b = lua_newuserdatauv(L, sizeof(*b), 0);

	b->fd = -1;
	memset(&b->img, 0, sizeof(b->img));
	if (luaL_newmetatable(L, ELF_BOX)) {
		lua_pushcfunction(L, elf_box_close);
		lua_setfield(L, -2, "__close");
		lua_pushcfunction(L, elf_box_close);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	lua_toclose(L, -1);
	return b;
}

/* Append every named function symbol of symbol section `scn` to the list at
 * the top of the stack; `*n` counts the entries. */
static void add_section_symbols(lua_State *L, Elf *elf, Elf_Scn *scn,
				const GElf_Shdr *sh, lua_Integer *n)
{
	Elf_Data *data = NULL;

	while ((data = elf_getdata(scn, data)) != NULL) {
		size_t i, count = sh->sh_entsize ? data->d_size / sh->sh_entsize : 0;

		for (i = 0; i < count; i++) {
			GElf_Sym sym;
			const char *name;
			int type;

			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			type = GELF_ST_TYPE(sym.st_info);
			if (type != STT_FUNC && type != STT_GNU_IFUNC)
				continue;
			if (sym.st_value == 0 || sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(elf, sh->sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			lua_createtable(L, 0, 3);
			lua_pushstring(L, name);
			lua_setfield(L, -2, "name");
			lbpf_set_int(L, "addr", (lua_Integer)sym.st_value);
			lbpf_set_int(L, "size", (lua_Integer)sym.st_size);
			lua_rawseti(L, -2, ++*n);
		}
	}
}

static const char *elf_type_name(int type)
{
	switch (type) {
	case ET_EXEC: return "exec";
	case ET_DYN: return "dyn";
	case ET_REL: return "rel";
	case ET_CORE: return "core";
	default: return "none";
	}
}

/* Push {type=, loads={{vaddr=, offset=, filesz=, memsz=, exec=}...}}: what a
 * caller needs to turn a mapped file offset into an ELF virtual address
 * (PIE executables and shared libraries are mapped at a load bias). */
static void push_elf_layout(lua_State *L, Elf *elf, const GElf_Ehdr *eh)
{
	size_t i, nphdr = 0;
	lua_Integer n = 0;

	lua_createtable(L, 0, 2);
	lua_pushstring(L, elf_type_name(eh->e_type));
	lua_setfield(L, -2, "type");
	lua_newtable(L);
	if (elf_getphdrnum(elf, &nphdr) == 0) {
		for (i = 0; i < nphdr; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			lua_createtable(L, 0, 5);
			lbpf_set_int(L, "vaddr", (lua_Integer)ph.p_vaddr);
			lbpf_set_int(L, "offset", (lua_Integer)ph.p_offset);
			lbpf_set_int(L, "filesz", (lua_Integer)ph.p_filesz);
			lbpf_set_int(L, "memsz", (lua_Integer)ph.p_memsz);
			lua_pushboolean(L, (ph.p_flags & PF_X) != 0);
			lua_setfield(L, -2, "exec");
			lua_rawseti(L, -2, ++n);
		}
	}
	lua_setfield(L, -2, "loads");
}

/***
 * Function symbols of an ELF file, from `.symtab` and `.dynsym`.
 * @function elf_symbols
 * @tparam string path ELF file (executable or shared library)
 * @treturn table list of `{name=, addr=, size=}` (STT_FUNC and IFUNC
 *   symbols with an address; a name may appear twice, once per table)
 * @treturn table `{type="exec"|"dyn"|..., loads={{vaddr=, offset=, filesz=,
 *   memsz=, exec=}...}}`, the PT_LOAD segments
 * @return or `nil, message, errno` when the file cannot be read as ELF
 */
/* named l_elf_symbols, not syms_*: spec/syms_spec.lua resolves this
 * function's own address to its symbol name */
static int l_elf_symbols(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct elf_box *b;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	lua_Integer n = 0;
	char err[256];

	b = push_elf_box(L);
	b->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0)
		return lbpf_push_error(L, errno, "open '%s'", path);
	if (lbpf_elf_image_open_fd(&b->img, b->fd, err, sizeof(err)) < 0 ||
	    !gelf_getehdr(b->img.elf, &eh))
		return lbpf_push_error(L, ENOEXEC, "'%s' is not an ELF file", path);

	lua_newtable(L);
	while ((scn = elf_nextscn(b->img.elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			add_section_symbols(L, b->img.elf, scn, &sh, &n);
	}
	push_elf_layout(L, b->img.elf, &eh);
	return 2;
}

static const luaL_Reg syms_funcs[] = {
	{"elf_symbols", l_elf_symbols},
	{NULL, NULL}
};

/* Fill the `bpf` table at the top of the stack. */
void lbpf_open_syms(lua_State *L)
{
	luaL_setfuncs(L, syms_funcs, 0);
}
