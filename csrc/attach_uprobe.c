/*
 * attach_uprobe.c - the user-space family of program attach methods:
 * uprobes (one or many: uprobe_multi), USDT probes and iterators. prog.c lists
 * `lbpf_attach_uprobe_methods`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "attach.h"
#include "handles.h"

#if defined(__x86_64__)
#define LBPF_ARCH_TRIPLE "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define LBPF_ARCH_TRIPLE "aarch64-linux-gnu"
#else
#define LBPF_ARCH_TRIPLE "."
#endif

/* ---- uprobes ------------------------------------------------------------------ */

/* The file libbpf 1.1 will probe for `file`: a name without '/' is searched
 * for as libbpf does (libraries in LD_LIBRARY_PATH and the lib dirs,
 * programs in PATH). 0, or -1 when not found. */
static int uprobe_resolve(const char *file, char *out, size_t n)
{
	const int lib = strstr(file, ".so") != NULL;
	const char *dirs[2] = {lib ? getenv("LD_LIBRARY_PATH") : getenv("PATH"),
		lib ? "/usr/lib64:/usr/lib:/lib64:/lib:/usr/lib/" LBPF_ARCH_TRIPLE
		":/lib/" LBPF_ARCH_TRIPLE : "/usr/bin:/usr/sbin"};
	int i;

	if (strchr(file, '/')) {
		snprintf(out, n, "%s", file);
		return 0;
	}
	for (i = 0; i < 2; i++) { /* the variable may be unset */
		const char *s = dirs[i] ? dirs[i] : "", *e;

		for (; *s; s = *e ? e + 1 : e) {
			e = strchrnul(s, ':');
			if ((size_t)snprintf(out, n, "%.*s/%s", (int)(e - s), s,
					     file) < n && access(out, R_OK) == 0)
				return 0;
		}
	}
	return -1;
}

/* Size of the function symbol `func` ("func" or a versioned "func@...")
 * in the ELF file `path`, from .symtab or .dynsym: >0, 0 when the file
 * has no such symbol with a size, -errno when it cannot be read. */
static long uprobe_func_size(const char *path, const char *func)
{
	size_t flen = strlen(func);
	Elf_Scn *scn = NULL;
	long size = 0;
	Elf *elf;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (elf && !size && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB &&
		    sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		n = data->d_size / sh.sh_entsize;
		for (i = 0; i < n && !size; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym) ||
			    (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
			     GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC))
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && strncmp(name, func, flen) == 0 &&
			    (name[flen] == '\0' || name[flen] == '@'))
				size = (long)sym.st_size;
		}
	}
	if (!elf)
		size = -ENOEXEC;
	elf_end(elf);
	close(fd);
	return size;
}

/* A non-zero offset into `func` must land on an instruction: one in the
 * middle of an instruction makes the breakpoint corrupt the code of every
 * process probed. Refuses (raises) an offset past the function's end, or
 * one this module cannot check (unknown size; x86 instructions have no
 * fixed length) unless `unchecked` (opts.unchecked_offset). */
static void uprobe_check_offset(lua_State *L, const char *path,
				const char *func, lua_Integer offset,
				int unchecked)
{
	char file[4096];
	long size;

	if (!func || !offset)
		return;
	luaL_argcheck(L, offset > 0, 2, "attach_uprobe: 'offset' must not be "
		      "negative");
	if (uprobe_resolve(path, file, sizeof(file)) < 0) {
		if (unchecked)
			return; /* libbpf searches on its own */
		luaL_error(L, "attach_uprobe: cannot find '%s' to check offset %I "
			   "into '%s' (give the full path, or unchecked_offset = "
			   "true)", path, offset, func);
	}
	size = uprobe_func_size(file, func);
	if (size > 0 && offset >= size)
		luaL_error(L, "attach_uprobe: offset %I is past the end of '%s' in "
			   "%s (%I bytes)", offset, func, file, (lua_Integer)size);
	if (unchecked)
		return;
	if (size <= 0)
		luaL_error(L, "attach_uprobe: offset %I into '%s': %s has no "
			   "sized symbol for it, so the offset cannot be checked "
			   "(give unchecked_offset = true to probe anyway)", offset,
			   func, file);
#if defined(__aarch64__) || defined(__powerpc64__) || defined(__mips__)
	if (offset % 4)
		luaL_error(L, "attach_uprobe: offset %I into '%s' is not on an "
			   "instruction (instructions are 4 bytes)", offset, func);
#else
	luaL_error(L, "attach_uprobe: offset %I into '%s' may split an "
		   "instruction, which corrupts the probed code, and "
		   "instruction boundaries cannot be checked on this "
		   "architecture (give unchecked_offset = true when the "
		   "offset is known to start an instruction)", offset, func);
#endif
}

/* After libbpf's ENOENT: say which was missing, the file or the function
 * in it, in `kind` (the failure message's "to ..." part). */
static void uprobe_enoent_hint(const char *path, const char *func,
			       char *kind, size_t n)
{
	char file[4096];
	size_t len = strlen(kind);

	if (uprobe_resolve(path, file, sizeof(file)) < 0 ||
	    access(file, R_OK) != 0)
		snprintf(kind + len, n - len, " (no file '%.200s'%s)", path,
			 strchr(path, '/') ? "" : " in the library or program "
			 "search paths");
	else if (func && uprobe_func_size(file, func) == 0)
		snprintf(kind + len, n - len, " (no function '%.100s' in %.200s)",
			 func, file);
}

/* prog:attach_uprobe{path=, func= | offset=, pid=, retprobe=, cookie=,
 * unchecked_offset=} `path` may be a library name ("libc.so.6"): libbpf
 * searches for it. */
static int uprobe_attach_uprobe(lua_State *L)
{
	static const char *const keys[] = {"path", "func", "offset", "pid",
					   "retprobe", "cookie",
					   "unchecked_offset", NULL};
	struct bpf_program *prog = lbpf_attachable(L, "attach_uprobe");
	LIBBPF_OPTS(bpf_uprobe_opts, opts);
	const char *path;
	struct bpf_link *link;
	lua_Integer offset, pid;
	char kind[384];
	int lidx;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_uprobe", keys);
	path = lbpf_opt_string(L, 2, "path", NULL);
	if (!path)
		luaL_argerror(L, 2, "attach_uprobe needs 'path'");
	opts.func_name = lbpf_opt_string(L, 2, "func", NULL);
	offset = lbpf_opt_integer(L, 2, "offset", 0);
	if (!opts.func_name && !offset)
		luaL_argerror(L, 2, "attach_uprobe needs 'func' or 'offset'");
	pid = lbpf_opt_integer(L, 2, "pid", -1);
	opts.retprobe = lbpf_opt_boolean(L, 2, "retprobe", 0);
	opts.bpf_cookie = (__u64)lbpf_opt_integer(L, 2, "cookie", 0);
	uprobe_check_offset(L, path, opts.func_name, offset,
			    lbpf_opt_boolean(L, 2, "unchecked_offset", 0));
	snprintf(kind, sizeof(kind), "%s %s:%s", opts.retprobe ? "uretprobe" :
		 "uprobe", path, opts.func_name ? opts.func_name : "offset");
	lidx = lbpf_attach_prepare(L);
	link = bpf_program__attach_uprobe_opts(prog, (pid_t)pid, path,
					       (size_t)offset, &opts);
	if (!link && errno == ENOENT) {
		uprobe_enoent_hint(path, opts.func_name, kind, sizeof(kind));
		errno = ENOENT;
	}
	return lbpf_attach_result(L, lidx, link, kind);
}

#if __LIBBPF_CURRENT_VERSION_GEQ(1, 3)
/* List option `key` of attach_uprobe_multi (a sequence of strings, or of
 * integers when !strings) -> a userdata array (freed by the GC, so a raise
 * leaks nothing), its length in *n; NULL when the option is absent. The
 * list and the array stay on the stack for the call: the strings are the
 * list's own (raw access, no metamethod runs). */
static void *umulti_list(lua_State *L, const char *key, int strings,
			 size_t *n)
{
	size_t i, len, elem = strings ? sizeof(char *) : sizeof(__u64);
	void *arr;

	if (lua_getfield(L, 2, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return NULL;
	}
	if (!lua_istable(L, -1) || (len = lua_rawlen(L, -1)) == 0)
		luaL_argerror(L, 2, lua_pushfstring(L, "attach_uprobe_multi: "
			      "'%s' must be a non-empty list", key));
	arr = lua_newuserdatauv(L, len * elem, 0);
	for (i = 0; i < len; i++) {
		int t = lua_rawgeti(L, -2, (lua_Integer)i + 1);

		if (strings && t == LUA_TSTRING)
			((const char **)arr)[i] = lua_tostring(L, -1);
		else if (!strings && lua_isinteger(L, -1))
			((__u64 *)arr)[i] = (__u64)lua_tointeger(L, -1);
		else
			luaL_argerror(L, 2, lua_pushfstring(L, "attach_uprobe_multi: "
				      "%s[%d] must be %s", key, (int)i + 1,
				      strings ? "a string" : "an integer"));
		lua_pop(L, 1);
	}
	*n = len;
	return arr;
}

/* String option `key`, kept on the stack for the call (an __index
 * metamethod's answer is anchored nowhere else); NULL when absent. */
static const char *umulti_string(lua_State *L, const char *key)
{
	const char *s = lbpf_opt_string(L, 2, key, NULL);

	if (!s)
		return NULL;
	lua_pushstring(L, s);
	return lua_tostring(L, -1);
}
#endif

/* prog:attach_uprobe_multi{path=, pattern= | syms= | offsets=, pid=,
 * retprobe=, cookies=}: one link, many uprobes (uprobe_multi, kernel 6.6):
 * every function of `path` matching the glob `pattern`, or the listed
 * symbols or file offsets, each with its cookie. */
static int uprobe_attach_uprobe_multi(lua_State *L)
{
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 3)
	static const char *const keys[] = {"path", "pattern", "syms", "offsets",
					   "pid", "retprobe", "cookies", NULL};
	struct bpf_program *prog;
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
	const char *path, *pattern, *kind;
	size_t nsyms = 0, noffs = 0, ncookies = 0;
	pid_t pid;
	int lidx;

	lbpf_check_prog(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_uprobe_multi", keys);
	path = umulti_string(L, "path");
	if (!path)
		luaL_argerror(L, 2, "attach_uprobe_multi needs 'path'");
	pattern = umulti_string(L, "pattern");
	opts.syms = umulti_list(L, "syms", 1, &nsyms);
	opts.offsets = umulti_list(L, "offsets", 0, &noffs);
	opts.cookies = umulti_list(L, "cookies", 0, &ncookies);
	if (!!pattern + !!nsyms + !!noffs != 1)
		luaL_argerror(L, 2, "attach_uprobe_multi needs one of 'pattern', "
			      "'syms' or 'offsets'");
	opts.cnt = nsyms + noffs;
	if (ncookies && (pattern || ncookies != opts.cnt))
		luaL_argerror(L, 2, "attach_uprobe_multi: 'cookies' needs 'syms' "
			      "or 'offsets' of the same length");
	pid = (pid_t)lbpf_opt_integer(L, 2, "pid", -1);
	opts.retprobe = lbpf_opt_boolean(L, 2, "retprobe", 0);
	/* after the options: reading them may run code that closes it */
	prog = lbpf_attachable(L, "attach_uprobe_multi");
	if (pattern)
		lua_pushfstring(L, "%s %s:%s", opts.retprobe ? "uretprobe_multi" :
				"uprobe_multi", path, pattern);
	else
		lua_pushfstring(L, "%s %s (%d %s)", opts.retprobe ?
				"uretprobe_multi" : "uprobe_multi", path,
				(int)opts.cnt, nsyms ? "symbols" : "offsets");
	kind = lua_tostring(L, -1);
	lidx = lbpf_attach_prepare(L);
	return lbpf_attach_result(L, lidx, bpf_program__attach_uprobe_multi(prog,
				  pid, path, pattern, &opts), kind);
#else
	return lbpf_needs_libbpf(L, "attach_uprobe_multi", 1, 3);
#endif
}

/* prog:attach_usdt{path=, provider=, name=, pid=, cookie=} */
static int uprobe_attach_usdt(lua_State *L)
{
	static const char *const keys[] = {"path", "provider", "name", "pid",
					   "cookie", NULL};
	struct bpf_program *prog = lbpf_attachable(L, "attach_usdt");
	LIBBPF_OPTS(bpf_usdt_opts, opts);
	const char *path, *provider, *name, *why;
	char kind[96], buf[256];
	pid_t pid;
	int lidx;

	luaL_checktype(L, 2, LUA_TTABLE);
	lbpf_check_options(L, 2, "attach_usdt", keys);
	path = lbpf_opt_string(L, 2, "path", NULL);
	provider = lbpf_opt_string(L, 2, "provider", NULL);
	name = lbpf_opt_string(L, 2, "name", NULL);
	if (!path || !provider || !name)
		luaL_argerror(L, 2, "attach_usdt needs 'path', 'provider' and "
			      "'name'");
	pid = (pid_t)lbpf_opt_integer(L, 2, "pid", -1);
	opts.usdt_cookie = (__u64)lbpf_opt_integer(L, 2, "cookie", 0);
	if ((why = lbpf_usdt_mismatch(lbpf_check_prog(L, 1), 1, buf,
				      sizeof(buf))))
		return lbpf_push_error(L, EINVAL, "usdt %s:%s:%s failed: %s",
				       path, provider, name, why);
	snprintf(kind, sizeof(kind), "usdt %s:%s:%s", path, provider, name);
	lidx = lbpf_attach_prepare(L);
	return lbpf_attach_result(L, lidx, bpf_program__attach_usdt(prog, pid,
				  path, provider, name, &opts), kind);
}

/* ---- auto-attach uprobes retargeted: obj:attach{uprobe_path=} -------------- */

/* Split auto-attach uprobe section `sec` ("uprobe/BINARY:FUNC[+OFF]", also
 * uretprobe, uprobe.s, uretprobe.s) as libbpf's attach_uprobe does: FUNC
 * into `func`, OFF, and whether it is a return probe. 0, or -1 when `sec`
 * is not of that form (not a uprobe, or no BINARY:FUNC to attach to). */
static int uprobe_parse_section(const char *sec, char *func, size_t n,
				long *offset, int *retprobe)
{
	static const char *const types[] = {"uprobe/", "uretprobe/",
					    "uprobe.s/", "uretprobe.s/", NULL};
	const char *bin, *colon;
	char *plus;
	int i, end;

	for (i = 0; types[i]; i++)
		if (strncmp(sec, types[i], strlen(types[i])) == 0)
			break;
	if (!types[i])
		return -1;
	*retprobe = i % 2;
	bin = sec + strlen(types[i]);
	colon = strchr(bin, ':');
	if (!colon || colon == bin || !colon[1] ||
	    (size_t)snprintf(func, n, "%s", colon + 1) >= n)
		return -1;
	*offset = 0;
	plus = strrchr(func, '+');
	if (plus && sscanf(plus, "+%li%n", offset, &end) == 1 && !plus[end])
		*plus = '\0';
	else
		*offset = 0;
	return 0;
}

/* The program handle `name` of the progs table at `progsidx`, if it is an
 * auto-attach uprobe; raises naming it otherwise. */
static void uprobe_check_retargetable(lua_State *L, int progsidx,
				      const char *name)
{
	struct lbpf_prog *p;
	char func[256];
	long off;
	int ret;

	lua_getfield(L, progsidx, name);
	p = luaL_testudata(L, -1, LBPF_PROG);
	if (!p)
		luaL_error(L, "libbpf.object: attach: uprobe_path: no program "
			   "'%s'", name);
	if (!p->prog || uprobe_parse_section(bpf_program__section_name(p->prog),
					     func, sizeof(func), &off, &ret))
		luaL_error(L, "libbpf.object: attach: uprobe_path: program '%s' "
			   "(%s) is not an auto-attach uprobe (uprobe/PATH:FUNC)",
			   name, p->prog ? bpf_program__section_name(p->prog)
			   : p->section);
	lua_pop(L, 1);
}

void lbpf_check_uprobe_paths(lua_State *L, int optidx, int progsidx)
{
	static const char *const keys[] = {"uprobe_path", NULL};
	int t;

	lbpf_check_options(L, optidx, "libbpf.object: attach", keys);
	if (lua_isnoneornil(L, optidx))
		return;
	t = lua_getfield(L, optidx, "uprobe_path");
	if (t == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			if (lua_type(L, -2) != LUA_TSTRING ||
			    lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "libbpf.object: attach: uprobe_path: "
					   "give {program name = path}, got a %s "
					   "key with a %s", luaL_typename(L, -2),
					   luaL_typename(L, -1));
			uprobe_check_retargetable(L, progsidx, lua_tostring(L, -2));
			lua_pop(L, 1);
		}
	} else if (t != LUA_TNIL && t != LUA_TSTRING) {
		luaL_error(L, "libbpf.object: attach: uprobe_path must be a path "
			   "or {program name = path}, got %s", lua_typename(L, t));
	}
	lua_pop(L, 1);
}

const char *lbpf_uprobe_path(lua_State *L, int optidx,
			     const struct lbpf_prog *p, char *buf, size_t n)
{
	const char *path = NULL;
	char func[256];
	long off;
	int ret;

	if (!lua_istable(L, optidx) || !p->prog ||
	    uprobe_parse_section(bpf_program__section_name(p->prog), func,
				 sizeof(func), &off, &ret))
		return NULL;
	/* raw: no metamethod runs between two attaches */
	lua_pushliteral(L, "uprobe_path");
	lua_rawget(L, optidx);
	if (lua_istable(L, -1)) {
		lua_pushstring(L, bpf_program__name(p->prog));
		lua_rawget(L, -2);
	} else
		lua_pushvalue(L, -1);
	if (lua_type(L, -1) == LUA_TSTRING) {
		snprintf(buf, n, "%s", lua_tostring(L, -1));
		path = buf;
	}
	lua_pop(L, 2);
	return path;
}

struct bpf_link *lbpf_attach_uprobe_section(struct bpf_program *prog,
					    const char *path, char *kind,
					    size_t n)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts);
	struct bpf_link *link;
	char func[256];
	long offset;
	int retprobe;

	if (uprobe_parse_section(bpf_program__section_name(prog), func,
				 sizeof(func), &offset, &retprobe) < 0) {
		errno = EINVAL;
		return NULL;
	}
	opts.retprobe = retprobe;
	opts.func_name = func;
	snprintf(kind, n, "%s %s:%s", retprobe ? "uretprobe" : "uprobe", path,
		 func);
	if (retprobe && offset) { /* as libbpf's auto-attach refuses it */
		errno = EINVAL;
		return NULL;
	}
	link = bpf_program__attach_uprobe_opts(prog, -1, path, (size_t)offset,
					       &opts);
	if (!link && errno == ENOENT) {
		uprobe_enoent_hint(path, func, kind, n);
		errno = ENOENT;
	}
	return link;
}

/* ---- iterators ----------------------------------------------------------------- */

/* prog:attach_iter([{map=, pid=, tid=}]) */
static int uprobe_attach_iter(lua_State *L)
{
	static const char *const keys[] = {"map", "pid", "tid", NULL};
	struct bpf_program *prog = lbpf_attachable(L, "attach_iter");
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info;
	lua_Integer pid, tid;
	char kind[96];
	int lidx;

	lbpf_check_options(L, 2, "attach_iter", keys);
	memset(&info, 0, sizeof(info));
	pid = lbpf_opt_integer(L, 2, "pid", 0);
	tid = lbpf_opt_integer(L, 2, "tid", 0);
	if (pid || tid) {
		info.task.pid = (__u32)pid;
		info.task.tid = (__u32)tid;
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	/* map= last: reading pid/tid may run the options' __index, which
	 * could close a standalone map and let another take its fd number */
	if (lua_istable(L, 2) && lua_getfield(L, 2, "map") != LUA_TNIL) {
		/* `map` and `task` share the union */
		if (opts.link_info)
			luaL_argerror(L, 2, "attach_iter: give 'map' or "
				      "'pid'/'tid', not both");
		if (lua_type(L, -1) == LUA_TNUMBER)
			info.map.map_fd = (__u32)lua_tointeger(L, -1);
		else
			info.map.map_fd = (__u32)lbpf_map_fd(lbpf_check_map(L, -1));
		lua_pop(L, 1);
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	snprintf(kind, sizeof(kind), "iter %s", bpf_program__section_name(prog));
	lidx = lbpf_attach_prepare(L);
	return lbpf_attach_result(L, lidx, bpf_program__attach_iter(prog, &opts),
				  kind);
}

const luaL_Reg lbpf_attach_uprobe_methods[] = {
	{"attach_uprobe", uprobe_attach_uprobe},
	{"attach_uprobe_multi", uprobe_attach_uprobe_multi},
	{"attach_usdt", uprobe_attach_usdt},
	{"attach_iter", uprobe_attach_iter},
	{NULL, NULL}
};
