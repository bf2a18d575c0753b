/*
 * struct_ops.c - struct_ops maps (a kernel struct of BPF callbacks, e.g. a
 * tcp_congestion_ops) attached as links: m:attach_struct_ops() and the part
 * of obj:attach() that registers them, as a libbpf skeleton's attach does.
 *
 * A map from a `.struct_ops.link` section (BPF_F_LINK) gets a kernel
 * bpf_link (it can be pinned and switched with link:update_map); one from
 * `.struct_ops` is registered by writing the map's value and unregistered
 * by deleting it, so its link handle only destroys.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "link.h"
#include "struct_ops.h"

/* BPF_F_LINK by number: the uapi headers of the system's libbpf 1.1
 * (bookworm's, Linux 6.1) predate it */
#define STRUCT_OPS_F_LINK (1U << 13)

/* "struct_ops.link lbpf_reno" / "struct_ops lbpf_reno" */
static void struct_ops_kind(const struct bpf_map *map, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", bpf_map__map_flags(map) & STRUCT_OPS_F_LINK ?
		 "struct_ops.link" : "struct_ops", bpf_map__name(map));
}

/* The libbpf struct_ops map at idx, its object loaded, or raise. */
static struct bpf_map *struct_ops_check(lua_State *L, int idx,
					const char *what)
{
	struct lbpf_map *m = lbpf_check_map(L, idx);

	if (!m->map || bpf_map__type(m->map) != BPF_MAP_TYPE_STRUCT_OPS)
		luaL_error(L, "libbpf.map: %s: map '%s' is not a struct_ops map "
			   "of a libbpf object", what, m->map ?
			   bpf_map__name(m->map) : m->name);
	lbpf_require_loaded(L, m->owner, "libbpf.map: attach_struct_ops", 1);
	return m->map;
}

/* Register the map at idx; pushes the link, or returns the errno. The
 * handle is made first: an attached map never lacks one. */
static int struct_ops_attach_map(lua_State *L, int idx, struct bpf_map *map)
{
	struct lbpf_link *l = lbpf_link_new(L, idx);
	int lidx = lua_gettop(L);
	struct bpf_link *link;
	char kind[96];
	long err;

	errno = 0;
	link = bpf_map__attach_struct_ops(map);
	err = libbpf_get_error(link);
	if (!link || err) {
		err = err ? -err : (errno ? errno : EINVAL);
		lbpf_link_discard(L, lidx);
		lua_pop(L, 1);
		return (int)err;
	}
	struct_ops_kind(map, kind, sizeof(kind));
	lbpf_link_set(l, link, -1, kind);
	l->map_only = !(bpf_map__map_flags(map) & STRUCT_OPS_F_LINK);
	return 0;
}

/* m:attach_struct_ops() -> link | nil, msg, errno */
static int struct_ops_attach(lua_State *L)
{
	struct bpf_map *map = struct_ops_check(L, 1, "attach_struct_ops");
	int err = struct_ops_attach_map(L, 1, map);

	if (err)
		return lbpf_push_error(L, err, "attach_struct_ops of map '%s' "
				       "failed", bpf_map__name(map));
	return 1;
}

int lbpf_attach_struct_ops_maps(lua_State *L, int objidx, int result,
				const char **name)
{
	int maps;

	lbpf_object_field(L, objidx, "maps");
	maps = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, maps)) {
		/* obj.maps is the user's table too: check what is there */
		struct lbpf_map *m = lbpf_test_class(L, -1, LBPF_MAP);
		int err;

		/* libbpf >= 1.5 lets bpf_map__set_autoattach(false) opt out;
		 * maps not created (autocreate off) have nothing to attach */
		if (!m || !m->map ||
		    bpf_map__type(m->map) != BPF_MAP_TYPE_STRUCT_OPS ||
		    bpf_map__fd(m->map) < 0
#if __LIBBPF_CURRENT_VERSION_GEQ(1, 5)
		    || !bpf_map__autoattach(m->map)
#endif
		    ) {
			lua_pop(L, 1);
			continue;
		}
		err = struct_ops_attach_map(L, lua_gettop(L), m->map);
		if (err) {
			*name = bpf_map__name(m->map);
			lua_settop(L, maps - 1);
			return err;
		}
		lua_setfield(L, result, bpf_map__name(m->map));
		lua_pop(L, 1);
	}
	lua_settop(L, maps - 1);
	return 0;
}

const luaL_Reg lbpf_map_struct_ops_methods[] = {
	{"attach_struct_ops", struct_ops_attach},
	{NULL, NULL}
};
