/*
 * util.h - the handle structs and helpers shared by every C file of the
 * `libbpf.core` module.
 *
 * Ownership in one paragraph (see README "Lifetimes"):
 *  - an object userdata owns its `struct bpf_object` (or, for objects in
 *    another loader's convention, the fds in its `struct lbpf_legacy`);
 *  - map/program/link userdata hold their object in user value 1, so the
 *    object's memory outlives every child, whatever order finalizers run in;
 *  - a child checks `owner->closed` before every use and raises
 *    "libbpf.map: object is closed";
 *  - links are kept in the object's `links` set (strong refs), so dropping the
 *    Lua variable never detaches; the object destroys them before it frees
 *    its libbpf handle.
 */
#ifndef LBPF_UTIL_H
#define LBPF_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>
#include <lauxlib.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define LBPF_OBJECT "libbpf.object"
#define LBPF_MAP "libbpf.map"
#define LBPF_PROG "libbpf.program"
#define LBPF_LINK "libbpf.link"
#define LBPF_BTF "libbpf.btf"

struct lbpf_legacy; /* objects in iproute2's convention, legacy.c */
struct lbpf_codec;  /* BTF-driven key/value conversion, btf.c */

struct lbpf_object {
	struct bpf_object *obj;       /* libbpf handle; NULL for other formats */
	struct lbpf_legacy *legacy;   /* iproute2-style object, or NULL */
	const char *format;           /* "libbpf" or "iproute2" (static) */
	int closed;
	int loaded;
};

struct lbpf_map {
	struct lbpf_object *owner;    /* NULL for standalone maps */
	struct bpf_map *map;          /* libbpf handle; NULL when fd-backed */
	int fd;                       /* owned fd (standalone/legacy) or -1 */
	int closed;                   /* standalone map closed */
	char name[BPF_OBJ_NAME_LEN];
	/* attributes of fd-backed maps (libbpf maps ask libbpf) */
	__u32 type, key_size, value_size, max_entries, flags;
	/* BTF codecs for key and value, NULL = integers/raw bytes */
	struct lbpf_codec *key_codec, *value_codec;
	const struct btf *btf;        /* BTF the codecs index into, or NULL */
	__u32 btf_key_type_id, btf_value_type_id;
	int typed;                    /* codecs resolved (once, lazily) */
	/* hot path (map.c): once the map exists its fd and attributes are
	 * cached here (type/key_size/... above are then valid for libbpf
	 * maps too) so lookup/update touch no libbpf struct */
	int cached, hot_fd;
	/* plain integer key/value: byte size, negative when signed, 0 when
	 * not (per-CPU, struct, raw...): lookup/update skip the codecs then */
	signed char int_key, int_value;
};

struct lbpf_prog {
	struct lbpf_object *owner;
	struct bpf_program *prog;     /* libbpf handle; NULL when fd-backed */
	int fd;                       /* fd-backed programs (legacy/from_id) or -1 */
	char *log;                    /* verifier log kept from the last load */
	size_t log_len;
	char *name, *section;         /* fd-backed programs only */
	__u32 type;                   /* fd-backed programs only */
};

struct lbpf_link {
	struct lbpf_object *owner;    /* NULL for links opened by id/path */
	struct bpf_link *link;        /* NULL once destroyed */
	int disconnected;
	/* extra teardown run after the link is destroyed (tc qdisc, ...) */
	void (*cleanup)(struct lbpf_link *l);
	void *cleanup_data;
	/* attachments that are not bpf_links (tc and XDP by netlink,
	 * SO_ATTACH_BPF): `link` stays NULL and `detach(l)` undoes them (it
	 * may use cleanup_data); the handle is live while `detach` is set */
	void (*detach)(struct lbpf_link *l);
	char kind[96];                /* "tracepoint sched/sched_process_exec" */
};

/* ---- errors (util.c) -------------------------------------------------- */

/* Push `nil, "<formatted>: <strerror(err)>", err` and return 3; `err` is a
 * positive errno (negative values are accepted and flipped). */
int lbpf_push_error(lua_State *L, int err, const char *fmt, ...);
/* Same, with an extra text block (a verifier log tail) after the message. */
int lbpf_push_error_detail(lua_State *L, int err, const char *detail,
			   const char *fmt, ...);
/* libbpf returns -errno or NULL+errno; normalise to a positive errno. */
int lbpf_errno(long ret);

/* ---- argument checking (util.c) ------------------------------------- */

/* Raise unless every key of the option table at `idx` is in `allowed`
 * (NULL-terminated). `fname` names the function in the message. */
void lbpf_check_options(lua_State *L, int idx, const char *fname,
			const char *const allowed[]);
/* Optional fields of an option table (absent/nil -> default). */
const char *lbpf_opt_string(lua_State *L, int idx, const char *key,
			    const char *def);
lua_Integer lbpf_opt_integer(lua_State *L, int idx, const char *key,
			     lua_Integer def);
int lbpf_opt_boolean(lua_State *L, int idx, const char *key, int def);

/* checkers: raise on wrong type, on closed handle */
struct lbpf_object *lbpf_check_object(lua_State *L, int idx);
struct lbpf_map *lbpf_check_map(lua_State *L, int idx);
struct lbpf_prog *lbpf_check_prog(lua_State *L, int idx);
struct lbpf_link *lbpf_check_link(lua_State *L, int idx);
/* accessors that are valid after the checkers above */
int lbpf_map_fd(const struct lbpf_map *m);
int lbpf_prog_fd(const struct lbpf_prog *p);
/* raise "<what>: object is not loaded"/"... is already loaded" */
void lbpf_require_loaded(lua_State *L, struct lbpf_object *o, const char *what,
			 int want_loaded);

/* Create a metatable `name` with methods, __index dispatching to `getter`
 * for fields, and __name. `getter(L)` is called with (ud, key) and returns
 * 1 value or 0 if it does not know the key. */
void lbpf_new_class(lua_State *L, const char *name, const luaL_Reg *meta,
		    const luaL_Reg *methods, lua_CFunction getter);
/* the default __index installed by lbpf_new_class */
int lbpf_index(lua_State *L);

/* ---- libbpf print routing (util.c) ---------------------------------- */
void lbpf_print_init(lua_State *L);
/* While a load runs, verifier logs that libbpf prints are captured here
 * instead of printed; returns the log of program `name` or NULL. */
void lbpf_capture_begin(lua_State *L);
void lbpf_capture_end(void);
char *lbpf_capture_take_log(const char *prog, size_t *len);
const char *lbpf_capture_failed_prog(void);
int l_set_print(lua_State *L);

/* elfcheck.c: 0 when libbpf can safely parse the ELF in buf, else -1 and
 * a message naming the section at fault */
int lbpf_elf_check(const void *buf, size_t len, char *err, size_t errlen);

/* ---- per-file registration (each file fills `bpf` at -1) ------------- */
void lbpf_open_object(lua_State *L);
void lbpf_open_map(lua_State *L);
void lbpf_open_prog(lua_State *L);
void lbpf_open_link(lua_State *L);
void lbpf_open_btf(lua_State *L);
void lbpf_open_events(lua_State *L);
void lbpf_open_attach(lua_State *L);   /* attach.c */
void lbpf_open_probe(lua_State *L);    /* probe.c */
void lbpf_open_sys(lua_State *L);      /* sys.c */
/* sys.c: wrap kernel link fd `fd` (taken) as a libbpf bpf_link (pins it in
 * bpffs for a moment); NULL with errno set */
struct bpf_link *lbpf_link_from_fd(int fd);
void lbpf_open_btfinfo(lua_State *L);  /* btfinfo.c */
/* attach.c: prog:attach() of a loaded fd-backed program, by its section
 * name; NULL with errno set (EOPNOTSUPP: the section does not say where) */
struct bpf_link *lbpf_attach_by_section(const struct lbpf_prog *p);
/* attach.c: NULL when kprobes look available, else the reason in words */
const char *lbpf_kprobe_unavailable(void);
/* probe.c: " (fentry/fexit/LSM programs are not available ...: why)" when
 * `prog`'s hook is missing on this kernel, else "" (for load errors) */
const char *lbpf_load_hint(const struct bpf_program *prog);
/* add `methods` to the method table of class `name` */
void lbpf_add_methods(lua_State *L, const char *name, const luaL_Reg *methods);
void lbpf_open_syms(lua_State *L);    /* syms.c: bpf.elf_symbols */

/* ---- constructors used across files ---------------------------------- */
/* push a new map userdata that wraps libbpf map `map` of object at `objidx` */
struct lbpf_map *lbpf_push_map(lua_State *L, int objidx, struct bpf_map *map);
/* push a fd-backed map userdata; takes ownership of `fd` */
struct lbpf_map *lbpf_push_fd_map(lua_State *L, int objidx, int fd,
				  const char *name);
struct lbpf_prog *lbpf_push_prog(lua_State *L, int objidx,
				 struct bpf_program *prog);
/* wrap a new libbpf link for program at `progidx`; registers it with the
 * program's object so that it stays attached until destroyed */
struct lbpf_link *lbpf_push_link(lua_State *L, int progidx,
				 struct bpf_link *link, const char *kind);
/* link.c: destroy a link (detach unless disconnected), run its cleanup */
void lbpf_link_release(struct lbpf_link *l);
/* object's user value table field (maps, progs, links...) pushed on the stack */
void lbpf_object_field(lua_State *L, int objidx, const char *field);

/* map keys/values (map.c): encode a Lua value into exactly `size` bytes */
void lbpf_encode(lua_State *L, int idx, struct lbpf_codec *c, void *buf,
		 size_t size, const char *what);
void lbpf_decode(lua_State *L, struct lbpf_codec *c, const void *buf,
		 size_t size);
/* btf.c: the codec of BTF type `type_id` of `btf`, compiled once and cached
 * per (btf, type); NULL when the type is not decodable (raw bytes then). */
struct lbpf_codec *lbpf_codec_get(lua_State *L, const struct btf *btf,
				  __u32 type_id);
/* encode the Lua value at idx into `size` bytes (raises on misuse) */
void lbpf_codec_encode(lua_State *L, int idx, const struct lbpf_codec *c,
		       void *buf, size_t size, const char *what);
/* push the Lua value of `size` bytes at buf */
void lbpf_codec_decode(lua_State *L, const struct lbpf_codec *c,
		       const void *buf, size_t size);
/* forget every codec compiled for `btf` (its owner is being freed) */
void lbpf_codec_forget(lua_State *L, const struct btf *btf);
/* bytes the codec's type occupies */
size_t lbpf_codec_size(const struct lbpf_codec *c);
/* a plain integer type: its size, negated when signed; else 0 */
int lbpf_codec_int(const struct lbpf_codec *c);
/* type id of a name like "struct event", "u32", "int" in `btf`, or <0 */
__s32 lbpf_btf_find(const struct btf *btf, const char *name);
/* codec of a type name: looked up in `btf` (may be NULL), then among the
 * builtin integer names (u32, __u64, int, ...), then in the kernel's BTF;
 * raises "unknown type" when none has it */
const struct lbpf_codec *lbpf_codec_by_name(lua_State *L,
					    const struct btf *btf,
					    const char *name);
/* push a libbpf.btf handle; `owned`: free btf with the handle, else keep the
 * value at `owneridx` (an object userdata, or 0) alive while it is used */
/* btfinfo.c: the libbpf.btf handle */
const struct btf *lbpf_check_btf(lua_State *L, int idx);
void lbpf_push_btf(lua_State *L, int owneridx, const struct btf *btf,
		   int owned);
/* push obj.vars (libbpf.vars) for the object at `objidx`: its .rodata,
 * .data, .bss, .kconfig and custom section globals by name */
void lbpf_push_vars(lua_State *L, int objidx);

/* type names: libbpf's strings without the BPF_*_TYPE_ prefix */
const char *lbpf_map_type_name(__u32 type);
const char *lbpf_prog_type_name(__u32 type);
int lbpf_map_type_from_name(const char *name);
int lbpf_prog_type_from_name(const char *name);

#endif
