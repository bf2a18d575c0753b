/*
 * object.c - `libbpf.object`: open an ELF (file or bytes), inspect and change
 * it before load, load it with readable verifier errors, attach everything,
 * close it (links first, then the libbpf object).
 *
 * The object userdata's user value 1 is a table:
 *   maps  = { name -> libbpf.map }      progs = { name -> libbpf.program }
 *   links = { [libbpf.link] = true }    (keeps links alive: no detach on drop)
 *   buf   = the ELF bytes (open_buffer's string, or the file read by open),
 *           kept while the object lives: libbpf's open_mem and
 *           obj:sections() read them
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "btf.h"
#include "codec.h"
#include "elfimage.h"
#include "handles.h"
#include "legacy.h"
#include "link.h"
#include "map.h"
#include "open.h"
#include "pinpath.h"
#include "print.h"
#include "probe.h"
#include "prog.h"
#include "struct_ops.h"
#include "vars.h"

static const char *const open_options[] = {
	"name", "pin_root_path", "kconfig", "btf_custom_path", "token_path", NULL
};

/* Build obj.maps and obj.progs from the libbpf object. */
static void collect_children(lua_State *L, int objidx, struct bpf_object *obj)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	lua_getiuservalue(L, objidx, 1);
	lua_newtable(L);
	bpf_object__for_each_map(map, obj) {
		lbpf_push_map(L, objidx, map);
		lua_setfield(L, -2, bpf_map__name(map));
	}
	lua_setfield(L, -2, "maps");
	lua_newtable(L);
	bpf_object__for_each_program(prog, obj) {
		lbpf_push_prog(L, objidx, prog);
		lua_setfield(L, -2, bpf_program__name(prog));
	}
	lua_setfield(L, -2, "progs");
	lua_pop(L, 1);
}

/* Push an empty object userdata with its user value table. */
static struct lbpf_object *new_object(lua_State *L)
{
	struct lbpf_object *o = lua_newuserdatauv(L, sizeof(*o), 1);

	memset(o, 0, sizeof(*o));
	o->format = "libbpf";
	luaL_setmetatable(L, LBPF_OBJECT);
	lua_createtable(L, 0, 4);
	lua_newtable(L);
	lua_setfield(L, -2, "links");
	lua_setiuservalue(L, -2, 1);
	return o;
}

static const char *object_name(const struct lbpf_object *o)
{
	if (o->obj)
		return bpf_object__name(o->obj);
	return o->legacy ? o->legacy->name : "?";
}

/* obj.maps/obj.progs of an object in another loader's convention: handles
 * backed by the fds of `l` (which owns them), filled in by obj:load(). */
static void collect_legacy_children(lua_State *L, int objidx,
				    struct lbpf_legacy *l)
{
	size_t i;

	lua_getiuservalue(L, objidx, 1);
	lua_newtable(L);
	for (i = 0; i < l->nmaps; i++) {
		const struct lbpf_legacy_map *lm = &l->maps[i];
		struct lbpf_map *m = lbpf_push_fd_map(L, objidx, -1, lm->name);

		m->type = lm->type;
		m->key_size = lm->key_size;
		m->value_size = lm->value_size;
		m->max_entries = lm->max_entries;
		m->flags = lm->flags;
		lua_setfield(L, -2, lm->name);
	}
	lua_setfield(L, -2, "maps");
	lua_newtable(L);
	for (i = 0; i < l->nprogs; i++) {
		struct lbpf_prog *p = lbpf_push_prog(L, objidx, NULL);

		p->name = l->progs[i].name;       /* borrowed from `l` */
		p->section = l->progs[i].section;
		p->type = l->progs[i].type;
		lua_setfield(L, -2, l->progs[i].name);
	}
	lua_setfield(L, -2, "progs");
	lua_pop(L, 1);
}

/* libbpf's object name: the file's base name up to its first dot */
static void default_name(char *out, size_t n, const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;

	base = base ? base + 1 : (path ? path : "legacy");
	snprintf(out, n, "%.*s", (int)strcspn(base, "."), base);
	if (!*out)
		snprintf(out, n, "legacy");
}

/* Parse the open image with legacy_parse.c (another loader's
 * convention). */
static int open_legacy(lua_State *L, struct lbpf_object *o, int objidx,
		       struct lbpf_elf_image *img, const char *path,
		       const char *what)
{
	const char *name = lbpf_opt_string(L, 2, "name", NULL);
	char err[512], defname[64];
	struct lbpf_legacy *l;
	int frame, errnum;

	default_name(defname, sizeof(defname), path);
	/* libbpf_prog_type_by_name says what section names it does not
	 * know: to the bpf.set_print printer (found by the ELF fuzzer) */
	frame = lbpf_print_enter(L);
	l = lbpf_legacy_open(img, name ? name : defname,
			     lbpf_opt_string(L, 2, "pin_root_path", NULL),
			     err, sizeof(err));
	errnum = errno;
	if (l) {   /* the object's before the printer runs (it may raise) */
		o->legacy = l;
		o->format = lbpf_elf_format_name(l->format);
	} else {
		o->closed = 1;
	}
	lbpf_print_leave(L, frame);
	if (!l)
		return lbpf_push_error(L, errnum, "open '%s' failed: %s", what, err);
	collect_legacy_children(L, objidx, l);
	lua_settop(L, objidx);
	return 1;
}

/* Read a whole file into a Lua string (pushed); NULL + errno on failure. */
static const char *read_file(lua_State *L, const char *path, size_t *len)
{
	luaL_Buffer b;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return NULL;
	luaL_buffinit(L, &b);
	do {
		char *p = luaL_prepbuffer(&b);

		n = fread(p, 1, LUAL_BUFFERSIZE, f);
		luaL_addsize(&b, n);
	} while (n == LUAL_BUFFERSIZE);
	if (ferror(f)) {
		int err = errno;

		fclose(f);
		errno = err;
		return NULL;
	}
	fclose(f);
	luaL_pushresult(&b);
	return lua_tolstring(L, -1, len);
}

/* Open the ELF image once (for detection and the legacy parser) and check
 * it: libbpf 1.1 crashes on some corrupt ELFs. 0, or 3 values pushed. */
static int open_image(lua_State *L, struct lbpf_elf_image *img,
		      const char *what, const char *buf, size_t len)
{
	char msg[512];
	int ret = lbpf_elf_image_open(img, buf, len, msg, sizeof(msg));

	if (ret < 0) {
		lbpf_elf_image_close(img);
		return lbpf_push_error(L, -ret, "open '%s' failed: %s", what, msg);
	}
	if (lbpf_elf_check(img, msg, sizeof(msg)) == 0)
		return 0;
	lbpf_elf_image_close(img);
	lua_pushnil(L);
	lua_pushfstring(L, "open '%s' failed: %s", what, msg);
	lua_pushinteger(L, EINVAL);
	return 3;
}

/* Shared tail of open/open_buffer: opts at index 2, source description for
 * messages; `buf` is NULL for a file. */
static int open_common(lua_State *L, const char *path, const char *buf,
		       size_t len, const char *fname)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct lbpf_elf_image img;
	struct lbpf_object *o;
	struct bpf_object *obj;
	const char *what, *bytes;
	char defname[64];
	size_t blen;
	int objidx, bufidx, err, frame;

	lbpf_check_options(L, 2, fname, open_options);
	opts.object_name = lbpf_opt_string(L, 2, "name", NULL);
	opts.pin_root_path = lbpf_opt_string(L, 2, "pin_root_path", NULL);
	opts.kconfig = lbpf_opt_string(L, 2, "kconfig", NULL);
	opts.btf_custom_path = lbpf_opt_string(L, 2, "btf_custom_path", NULL);
	/* a BPF token from a bpffs mounted with delegate options: loading
	 * in a user namespace a privileged parent delegated BPF to */
	if (lbpf_opt_string(L, 2, "token_path", NULL)) {
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 4)
		opts.bpf_token_path = lbpf_opt_string(L, 2, "token_path", NULL);
#else
		lbpf_needs_libbpf(L, "bpf.open{token_path=}", 1, 4);
#endif
	}

	what = buf ? (opts.object_name ? opts.object_name : "<buffer>") : path;
	if (!buf) {
		size_t flen;
		const char *bytes = read_file(L, path, &flen);

		if (!bytes)
			return lbpf_push_error(L, errno, "open '%s' failed", path);
	} else {
		lua_pushvalue(L, 1);
	}
	bufidx = lua_gettop(L);   /* the ELF bytes, kept as the "buf" field */
	bytes = lua_tolstring(L, bufidx, &blen);
	/* the pre-check parses .BTF with libbpf, which warns about what it
	 * refuses: to the bpf.set_print printer like libbpf's own open
	 * (found by the ELF fuzzer). A failed check closed the image; a
	 * passing one leaves libbpf nothing to say, so the printer cannot
	 * raise with the image open. */
	frame = lbpf_print_enter(L);
	err = open_image(L, &img, what, bytes, blen);
	lbpf_print_leave(L, frame);
	if (err)
		return 3;
	o = new_object(L);
	objidx = lua_gettop(L);
	lua_getiuservalue(L, objidx, 1);
	lua_pushvalue(L, bufidx);
	lua_setfield(L, -2, "buf");
	lua_pop(L, 1);
	if (lbpf_elf_image_format(&img) != LBPF_FMT_LIBBPF) {
		err = open_legacy(L, o, objidx, &img, path, what);
		lbpf_elf_image_close(&img);
		return err;
	}
	lbpf_elf_image_close(&img);
	/* A file is opened from the bytes read and checked above, never
	 * reopened by path (it may have changed since); named as libbpf
	 * names a file it opens: its base name up to the first dot. */
	if (!buf && !opts.object_name) {
		default_name(defname, sizeof(defname), path);
		opts.object_name = defname;
	}
	(void)len;
	errno = 0;
	frame = lbpf_print_enter(L);
	obj = bpf_object__open_mem(bytes, blen, &opts);
	err = libbpf_get_error(obj);
	if (!obj || err) {
		o->closed = 1;
		err = err ? -err : (errno ? errno : EINVAL);
		/* libbpf says EINVAL/ENOEXEC/... for anything that is not a
		 * usable BPF ELF; keep its errno, say what we opened. */
		lbpf_push_error(L, err, "open '%s' failed", what);
		lbpf_print_leave(L, frame);
		return 3;
	}
	o->obj = obj;
	lbpf_print_leave(L, frame);
	collect_children(L, objidx, obj);
	lua_settop(L, objidx);
	return 1;
}

/* bpf.open(path [, opts]) */
static int object_open(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);

	return open_common(L, path, NULL, 0, "open");
}

/* bpf.open_buffer(bytes [, opts]) */
static int object_open_buffer(lua_State *L)
{
	size_t len;
	const char *buf = luaL_checklstring(L, 1, &len);

	return open_common(L, NULL, buf, len, "open_buffer");
}

/* ---- load ----------------------------------------------------------------- */

/* With an explicit log level libbpf needs a buffer of ours; a large one
 * (the kernel fills only what it writes) so the log is never cut. */
#define LOG_BUF_SIZE (16u * 1024 * 1024 - 1)

/* Give back the log buffers set_prog_log_buffers handed to libbpf. */
static void free_prog_log_buffers(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		size_t size;
		char *buf = (char *)bpf_program__log_buf(prog, &size);

		if (buf) {
			bpf_program__set_log_buf(prog, NULL, 0);
			free(buf);
		}
	}
}

static void set_prog_log_buffers(lua_State *L, struct bpf_object *obj,
				 int level)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		char *buf;

		if (level > 0)
			bpf_program__set_log_level(prog, (__u32)level);
		if (!bpf_program__log_level(prog))
			continue;
		buf = malloc(LOG_BUF_SIZE);
		if (!buf) {
			/* the buffers of the programs before are ours */
			free_prog_log_buffers(obj);
			luaL_error(L, "load: out of memory for the verifier log");
		}
		buf[0] = '\0';
		bpf_program__set_log_buf(prog, buf, LOG_BUF_SIZE);
	}
}

/* Move the logs of successful loads into the program handles. */
static void keep_prog_logs(lua_State *L, int objidx, struct bpf_object *obj)
{
	struct bpf_program *prog;

	lbpf_object_field(L, objidx, "progs");
	bpf_object__for_each_program(prog, obj) {
		size_t size;
		char *buf = (char *)bpf_program__log_buf(prog, &size);
		struct lbpf_prog *p;

		if (!buf)
			continue;
		lua_getfield(L, -1, bpf_program__name(prog));
		/* obj.progs is the user's table too: check what is there */
		if ((p = luaL_testudata(L, -1, LBPF_PROG))) {
			free(p->log);
			p->log = strdup(buf);
			p->log_len = p->log ? strlen(p->log) : 0;
		}
		lua_pop(L, 1);
		bpf_program__set_log_buf(prog, NULL, 0);
		free(buf);
	}
	lua_pop(L, 1);
}

/* The last `lines` lines of a log: the verifier's verdict is at the end. */
static const char *log_tail(const char *log, size_t len, int lines)
{
	const char *p = log + len;

	while (p > log && (p[-1] == '\n'))
		p--;
	while (p > log) {
		if (p[-1] == '\n' && --lines == 0)
			break;
		p--;
	}
	return p;
}

/* A failed load: find the program libbpf names, keep its log on the handle,
 * return nil, "load 'prog' failed: <strerror>\n<log tail>", errno. */
static int load_failure(lua_State *L, int objidx, int err)
{
	const char *name = lbpf_capture_failed_prog();
	struct lbpf_prog *p = NULL;
	size_t len = 0;
	char *log;

	if (!name)
		return lbpf_push_error(L, err, "load of object '%s' failed%s",
			bpf_object__name(((struct lbpf_object *)
					  lua_touserdata(L, objidx))->obj),
			lbpf_privilege_hint(err));
	log = lbpf_capture_take_log(name, &len);
	lbpf_object_field(L, objidx, "progs");
	lua_getfield(L, -1, name);
	p = luaL_testudata(L, -1, LBPF_PROG);
	lua_pop(L, 2);
	if (p && log) {
		free(p->log);
		p->log = log;
		p->log_len = len;
	}
	if (p && p->log)
		return lbpf_push_error_detail(L, err,
			log_tail(p->log, p->log_len, 12),
			"load '%s' failed%s%s", name, lbpf_load_hint(p->prog),
			lbpf_privilege_hint(err));
	if (log)
		free(log);
	return lbpf_push_error(L, err, "load '%s' failed%s%s", name,
			       p ? lbpf_load_hint(p->prog) : "",
			       lbpf_privilege_hint(err));
}

/* prog:set_type() on a legacy program changes its handle; tell legacy_parse.c */
static void sync_legacy_types(lua_State *L, int objidx, struct lbpf_legacy *l)
{
	lbpf_object_field(L, objidx, "progs");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		struct lbpf_prog *p = luaL_testudata(L, -1, LBPF_PROG);
		int i = p ? lbpf_legacy_find_prog(l, p->name) : -1;

		if (i >= 0 && p->type != l->progs[i].type)
			lbpf_legacy_prog_set_type(l, (size_t)i, p->type, 0);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* After a legacy load: hand fds (still owned by `l`) and logs to handles;
 * returns the failed program's log or NULL. */
static const char *publish_legacy(lua_State *L, int objidx,
				  struct lbpf_legacy *l)
{
	const char *failed_log = NULL;
	size_t i;

	lbpf_object_field(L, objidx, "maps");
	for (i = 0; i < l->nmaps; i++) {
		struct lbpf_map *m;

		lua_getfield(L, -1, l->maps[i].name);
		if ((m = lbpf_test_class(L, -1, LBPF_MAP)))
			m->fd = l->maps[i].fd;
		lua_pop(L, 1);
	}
	lbpf_object_field(L, objidx, "progs");
	for (i = 0; i < l->nprogs; i++) {
		struct lbpf_prog *p;

		lua_getfield(L, -1, l->progs[i].name);
		if (!(p = luaL_testudata(L, -1, LBPF_PROG))) {
			lua_pop(L, 1);
			continue;
		}
		p->fd = l->progs[i].fd;
		if (l->progs[i].log) {
			free(p->log);
			p->log = strdup(l->progs[i].log);
			p->log_len = p->log ? strlen(p->log) : 0;
			failed_log = p->log;
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	return failed_log;
}

/* Load an object in another loader's convention. A failed load leaves it
 * unloaded (and closes what it created): fix it (set_type) and retry. */
static int load_legacy(lua_State *L, struct lbpf_object *o)
{
	char err[512];
	const char *log;
	int ret, frame;

	sync_legacy_types(L, 1, o->legacy);
	frame = lbpf_print_enter(L);
	ret = lbpf_legacy_load(o->legacy, err, sizeof(err));
	log = publish_legacy(L, 1, o->legacy);
	if (ret < 0) {
		lbpf_push_error_detail(L, -ret,
			log ? log_tail(log, strlen(log), 12) : NULL, "%s", err);
		lbpf_print_leave(L, frame);
		return 3;
	}
	o->loaded = 1;
	lbpf_print_leave(L, frame);
	lua_pushvalue(L, 1);   /* no settop: the busy guard is below */
	return 1;
}

/* libbpf reuses (bpf_obj_get) and pins the maps that have a pin path at
 * load, following symbolic links: check each path first (pinpath.c: its
 * directories ours and made 0700, an existing pin no link and ours), so
 * that libbpf only meets paths nobody else can change. 0, or pushes
 * `nil, msg, errno` and returns 3. */
static int check_pin_paths(lua_State *L, struct bpf_object *obj)
{
	struct bpf_map *map;
	char msg[512];

	bpf_object__for_each_map(map, obj) {
		const char *path = bpf_map__pin_path(map);
		int err;

		if (!path || !bpf_map__autocreate(map))
			continue;
		err = lbpf_pin_check_dir(path, 1, msg, sizeof(msg));
		if (!err)
			err = lbpf_pin_check_existing(path, msg, sizeof(msg));
		if (err && err != -ENOENT)
			return lbpf_push_error(L, -err, "load refused: map '%s': %s",
					       bpf_map__name(map), msg);
	}
	return 0;
}

/* obj:load([{log_level=}]) -> obj | nil, msg, errno */
static int object_load(lua_State *L)
{
	static const char *const opts[] = {"log_level", NULL};
	struct lbpf_object *o = lbpf_check_object(L, 1);
	int level, err, frame, n;

	/* the options' metamethods and the printer must not close it */
	lua_settop(L, 2);
	lbpf_object_busy(L, o, 1);
	lbpf_check_options(L, 2, "load", opts);
	level = (int)lbpf_opt_integer(L, 2, "log_level", 0);
	if (o->load_failed)
		luaL_error(L, "libbpf.object: load: the last load failed: open "
			   "the object again (bpf.open) to retry");
	if (o->loaded)
		luaL_error(L, "libbpf.object: load: object is already loaded");
	if (o->legacy)
		return load_legacy(L, o);
	if (!o->obj)
		luaL_error(L, "libbpf.object: load: format '%s' cannot load",
			   o->format);
	if (check_pin_paths(L, o->obj))
		return 3;
	set_prog_log_buffers(L, o->obj, level);
	frame = lbpf_print_enter(L);
	lbpf_capture_begin(L);
	err = bpf_object__load(o->obj);
	lbpf_capture_end();
	/* libbpf marks the object loaded even when a program failed: it
	 * cannot be loaded twice either way. */
	o->loaded = 1;
	keep_prog_logs(L, 1, o->obj);
	if (err) {
		o->load_failed = 1;
		n = load_failure(L, 1, lbpf_errno(err));
		lbpf_print_leave(L, frame);
		return n;
	}
	lbpf_print_leave(L, frame);
	lua_pushvalue(L, 1);   /* no settop: the busy guard is below */
	return 1;
}

/* ---- attach --------------------------------------------------------------- */

/* obj:attach()'s second half: struct_ops maps (struct_ops.c), result[map
 * name] = link; on failure every link made is released */
static int attach_struct_ops(lua_State *L, int result)
{
	const char *name = NULL;
	int err = lbpf_attach_struct_ops_maps(L, 1, result, &name);

	if (!err)
		return 1;
	lua_pushnil(L);
	while (lua_next(L, result)) {
		lbpf_link_release(lua_touserdata(L, -1));
		lua_pop(L, 1);
	}
	return lbpf_push_error(L, err, "attach of struct_ops map '%s' failed",
			       name);
}

/* obj:attach([{uprobe_path=}]) -> { prog or map name -> link } for every
 * auto-attachable program and struct_ops map, like a skeleton's attach;
 * all or nothing. uprobe_path retargets auto-attach uprobes
 * (attach_uprobe.c). */
static int object_attach(lua_State *L)
{
	struct lbpf_object *o = lbpf_check_object(L, 1);
	int progs, result, frame, n;

	lbpf_require_loaded(L, o, "libbpf.object: attach", 1);
	lua_settop(L, 2);
	lbpf_object_busy(L, o, 1);
	lua_newtable(L);
	result = lua_gettop(L);
	lbpf_object_field(L, 1, "progs");
	progs = lua_gettop(L);
	lbpf_check_uprobe_paths(L, 2, progs);
	lbpf_check_object(L, 1); /* the options' metamethods may close it */
	frame = lbpf_print_enter(L);
	lua_pushnil(L);
	while (lua_next(L, progs)) {
		struct lbpf_prog *p = luaL_testudata(L, -1, LBPF_PROG);
		struct bpf_link *link = NULL;
		char buf[256], upath[4096], ukind[384] = "";
		int err = 0, fd = -1, lidx;

		if (!p || lbpf_prog_fd(p) < 0 || (p->prog &&
		    (!bpf_program__autoload(p->prog) ||
		     !bpf_program__autoattach(p->prog)))) {
			lua_pop(L, 1);
			continue;
		}
		const char *sec = p->prog ? bpf_program__section_name(p->prog)
					  : p->section;
		const char *why = lbpf_section_unavailable(sec);
		const char *usdt = why ? NULL : lbpf_usdt_mismatch(p, 0, buf,
								sizeof(buf));

		/* the handle first: an attached link never lacks one */
		lbpf_link_new(L, -1);
		lidx = lua_gettop(L);
		/* fd-backed (iproute2-style) programs: attach_trace.c */
		if (why)
			err = EOPNOTSUPP;
		else if (usdt)
			err = EINVAL;
		else if (lbpf_uprobe_path(L, 2, p, upath, sizeof(upath)))
			link = lbpf_attach_uprobe_section(p->prog, upath,
							  ukind, sizeof(ukind));
		else if (p->prog)
			link = bpf_program__attach(p->prog);
		else
			fd = lbpf_attach_by_section(p);
		if (link)
			err = (int)-libbpf_get_error(link);
		if (ukind[0])
			sec = ukind;
		if (why || usdt || (p->prog ? !link || err : fd < 0)) {
			err = err ? err : errno;
			lbpf_link_discard(L, lidx);
			if (err == EOPNOTSUPP && !why) { /* no auto-attach */
				lua_pop(L, 2);
				continue;
			}
			lua_pushnil(L);
			while (lua_next(L, result)) {
				lbpf_link_release(lua_touserdata(L, -1));
				lua_pop(L, 1);
			}
			n = lbpf_push_error(L, err, "attach '%s' (%s) failed%s%s",
					    p->prog ? bpf_program__name(p->prog) : p->name,
					    sec, why ? ": kprobes are not available: " :
					    usdt ? ": " : "", why ? why : usdt ? usdt : "");
			lbpf_print_leave(L, frame);
			return n;
		}
		lbpf_link_set(lua_touserdata(L, lidx), link, fd, sec);
		lua_setfield(L, result, p->prog ? bpf_program__name(p->prog) : p->name);
		lua_pop(L, 1);
	}
	lbpf_print_leave(L, frame);
	lua_settop(L, result);
	return o->obj ? attach_struct_ops(L, result) : 1;
}

/* ---- close / gc ----------------------------------------------------------- */

/* Destroy links first (a link may reference the object's programs and, for
 * USDT, its memory), then the libbpf object. Safe to call twice. */
static int object_release(lua_State *L, struct lbpf_object *o)
{
	if (o->closed)
		return 0;
	o->closed = 1;
	lua_getiuservalue(L, 1, 1);
	if (lua_getfield(L, -1, "links") == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			lua_pop(L, 1);
			lbpf_link_release(luaL_checkudata(L, -1, LBPF_LINK));
		}
	}
	lua_pop(L, 2);
	lbpf_map_mmap_release(L, 1);   /* before the maps' fds close */
	if (o->obj) {
		lbpf_codec_forget(L, bpf_object__btf(o->obj));
		bpf_object__close(o->obj);
		o->obj = NULL;
	}
	lbpf_legacy_free(o->legacy);   /* closes the maps' and programs' fds */
	o->legacy = NULL;
	return 0;
}

/* obj:close(), __close: not while a call is using the object */
static int object_close(lua_State *L)
{
	struct lbpf_object *o = luaL_checkudata(L, 1, LBPF_OBJECT);

	if (!o->closed)
		lbpf_check_not_busy(L, o);
	return object_release(L, o);
}

/* __gc: no call can be using an object being collected (a busy mark left
 * by a coroutine that raised is stale) */
static int object_gc(lua_State *L)
{
	return object_release(L, luaL_checkudata(L, 1, LBPF_OBJECT));
}

static int object_tostring(lua_State *L)
{
	struct lbpf_object *o = luaL_checkudata(L, 1, LBPF_OBJECT);
	int nmaps = 0, nprogs = 0;

	if (o->closed) {
		lua_pushstring(L, "libbpf.object (closed)");
		return 1;
	}
	lbpf_object_field(L, 1, "maps");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		nmaps++;
		lua_pop(L, 1);
	}
	lbpf_object_field(L, 1, "progs");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		nprogs++;
		lua_pop(L, 1);
	}
	lua_pushfstring(L, "libbpf.object(%s, %s, %s, %d maps, %d programs)",
			object_name(o), o->format,
			o->load_failed ? "load failed" : o->loaded ? "loaded" :
			"not loaded", nmaps, nprogs);
	return 1;
}

/* obj.vars: created once, kept in the object's user value table */
static int object_vars(lua_State *L)
{
	lua_getiuservalue(L, 1, 1);
	if (lua_getfield(L, -1, "vars") == LUA_TNIL) {
		lua_pop(L, 1);
		lbpf_push_vars(L, 1);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, "vars");
	}
	return 1;
}

/* obj:btf() -> libbpf.btf | nil when the object has no BTF */
static int object_btf(lua_State *L)
{
	struct lbpf_object *o = lbpf_check_object(L, 1);
	struct btf *btf = o->obj ? bpf_object__btf(o->obj) : NULL;

	if (!btf)
		return 0;
	lbpf_push_btf(L, 1, btf, 0); /* the BTF lives in the object */
	return 1;
}

static int object_get(lua_State *L)
{
	struct lbpf_object *o = lbpf_check_object(L, 1);
	const char *k = lua_tostring(L, 2);

	if (!k)
		return 0;
	if (strcmp(k, "maps") == 0 || strcmp(k, "progs") == 0) {
		lbpf_object_field(L, 1, k);
		return 1;
	}
	if (strcmp(k, "name") == 0) {
		lua_pushstring(L, object_name(o));
		return 1;
	}
	if (strcmp(k, "format") == 0) {
		lua_pushstring(L, o->format);
		return 1;
	}
	if (strcmp(k, "loaded") == 0) {
		lua_pushboolean(L, o->loaded && !o->load_failed);
		return 1;
	}
	if (strcmp(k, "vars") == 0)   /* vars.c, cached in the user value */
		return object_vars(L);
	return 0;
}

/* obj:sections() -> { {name=, size=, type=, flags=, index=}, ... }, format
 * The ELF view of any object, before or after load. */
static int object_sections(lua_State *L)
{
	struct lbpf_elf_sections *s;
	const char *buf;
	char err[256];
	size_t len, i;

	lbpf_check_object(L, 1);
	lbpf_object_field(L, 1, "buf");
	buf = lua_tolstring(L, -1, &len);
	if (!buf)
		return luaL_error(L, "libbpf.object: sections: no ELF bytes kept");
	s = lbpf_elf_sections(buf, len, err, sizeof(err));
	if (!s)
		return lbpf_push_error(L, errno ? errno : EINVAL, "sections: %s", err);
	lua_createtable(L, (int)s->n, 0);
	for (i = 0; i < s->n; i++) {
		lua_createtable(L, 0, 5);
		lua_pushstring(L, s->sec[i].name);
		lua_setfield(L, -2, "name");
		lua_pushinteger(L, (lua_Integer)s->sec[i].size);
		lua_setfield(L, -2, "size");
		lua_pushstring(L, s->sec[i].type);
		lua_setfield(L, -2, "type");
		lua_pushinteger(L, (lua_Integer)s->sec[i].flags);
		lua_setfield(L, -2, "flags");
		lua_pushinteger(L, (lua_Integer)s->sec[i].index);
		lua_setfield(L, -2, "index");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_pushstring(L, lbpf_elf_format_name(s->format));
	lbpf_elf_sections_free(s);
	return 2;
}

void lbpf_open_object(lua_State *L)
{
	static const char *const fields[] = {
		"name", "format", "loaded", "maps", "progs", "vars", NULL
	};
	static const luaL_Reg meta[] = {
		{"__gc", object_gc},
		{"__close", object_close},
		{"__tostring", object_tostring},
		{NULL, NULL}
	};
	static const luaL_Reg methods[] = {
		{"load", object_load},
		{"attach", object_attach},
		{"sections", object_sections},
		{"btf", object_btf},
		{"close", object_close},
		{NULL, NULL}
	};
	static const luaL_Reg funcs[] = {
		{"open", object_open},
		{"open_buffer", object_open_buffer},
		{NULL, NULL}
	};

	lbpf_new_class(L, LBPF_OBJECT, meta, methods, object_get);
	lbpf_class_fields(L, LBPF_OBJECT, fields);
	luaL_setfuncs(L, funcs, 0);
}
