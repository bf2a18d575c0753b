/*
 * handles.h - the handle structs and their checkers (handles.c).
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
#ifndef LBPF_HANDLES_H
#define LBPF_HANDLES_H

#include "lbpf.h"

struct lbpf_legacy; /* objects in iproute2's convention, legacy.h */
struct lbpf_codec;  /* BTF-driven key/value conversion, codec.h */

struct lbpf_object {
	struct bpf_object *obj;       /* libbpf handle; NULL for other formats */
	struct lbpf_legacy *legacy;   /* iproute2-style object, or NULL */
	const char *format;           /* "libbpf" or "iproute2" (static) */
	int closed;
	int loaded;
	int load_failed;              /* loaded, but the load failed: reopen */
	/* calls running Lua code (metamethods, printers) while they hold
	 * pointers into the object: obj:close() raises meanwhile */
	int busy;
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
	/* standalone maps: calls running Lua code while they hold its fd or
	 * its views' memory (lbpf_map_busy): m:close() raises meanwhile */
	int busy;
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
	struct bpf_link *link;        /* libbpf link, or NULL */
	/* a kernel link without a libbpf handle (programs opened by id or in
	 * another loader's convention, bpf.link_from_id/_pinned): the handle
	 * owns `fd` and closing it detaches (unless pinned); else -1 */
	int fd;
	char *pin_path;               /* where it is pinned (by us), or NULL */
	int disconnected;
	/* a `.struct_ops` map's registration (struct_ops.c): `link` is
	 * libbpf's, but its fd is the map's, not a kernel bpf_link's */
	int map_only;
	/* extra teardown run after the link is destroyed (tc qdisc, ...) */
	void (*cleanup)(struct lbpf_link *l);
	void *cleanup_data;
	/* attachments that are not bpf_links (tc and XDP by netlink,
	 * SO_ATTACH_BPF): `link` stays NULL and `detach(l)` undoes them (it
	 * may use cleanup_data); the handle is live while `detach` is set */
	void (*detach)(struct lbpf_link *l);
	char kind[96];                /* "tracepoint sched/sched_process_exec" */
};

/* a link handle is live (attached or holding an attachment) until destroyed */
static inline int lbpf_link_live(const struct lbpf_link *l)
{
	return l->link || l->detach || l->fd >= 0;
}

/* checkers: raise on wrong type, on closed handle */
struct lbpf_object *lbpf_check_object(lua_State *L, int idx);
struct lbpf_map *lbpf_check_map(lua_State *L, int idx);
struct lbpf_prog *lbpf_check_prog(lua_State *L, int idx);
struct lbpf_link *lbpf_check_link(lua_State *L, int idx);
/* accessors that are valid after the checkers above */
int lbpf_map_fd(const struct lbpf_map *m);
int lbpf_prog_fd(const struct lbpf_prog *p);
/* a program's name (libbpf's, or the fd-backed program's own) */
const char *lbpf_prog_name(const struct lbpf_prog *p);
/* the fd of a loaded program; raises "<what>: program 'x' is not loaded" */
int lbpf_prog_loaded_fd(lua_State *L, const struct lbpf_prog *p,
			const char *what);
/* raise "<what>: object is not loaded"/"... is already loaded" */
void lbpf_require_loaded(lua_State *L, struct lbpf_object *o, const char *what,
			 int want_loaded);
/* Raise unless a pre-load setter `what` may change the handle `name` of
 * class `cls` (LBPF_MAP, LBPF_PROG): it needs a libbpf handle
 * (`has_handle`) and its object must not be loaded (`done`: what the load
 * did to it, "created" or "loaded"). */
void lbpf_check_settable(lua_State *L, const struct lbpf_object *owner,
			 int has_handle, const char *cls, const char *what,
			 const char *name, const char *done);
/* Mark `o` in use until the calling C function returns or raises: pushes a
 * to-be-closed guard (nothing when `o` is NULL) that holds the value at
 * `keepidx` (a handle keeping the object alive). obj:close() raises
 * "object is in use" meanwhile. Never lua_settop/lua_pop below the guard
 * afterwards: Lua 5.4.4 may corrupt its stack closing it that way; return
 * (or raise) instead. */
void lbpf_object_busy(lua_State *L, struct lbpf_object *o, int keepidx);
/* raise "libbpf.object: object is in use ..." when it is */
void lbpf_check_not_busy(lua_State *L, const struct lbpf_object *o);
/* lbpf_object_busy for a map: its object's count, or a standalone map's
 * own (always a guard); m:close() then raises "map 'x' is in use" */
void lbpf_map_busy(lua_State *L, struct lbpf_map *m, int keepidx);
/* raise "libbpf.map: map 'x' is in use ..." when a standalone map is */
void lbpf_check_map_not_busy(lua_State *L, const struct lbpf_map *m);
/* object's user value table field (maps, progs, links...) pushed on the stack */
void lbpf_object_field(lua_State *L, int objidx, const char *field);

#endif
