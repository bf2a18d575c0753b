/*
 * sys.c - the system view, like bpftool's `prog/map/link list`: every BPF
 * program, map and link loaded in the kernel, by id, and handles for
 * programs and links opened by id or pinned path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf_version.h>

#include "link.h"
#include "names.h"
#include "open.h"
#include "prog.h"

typedef int (*next_id_fn)(__u32, __u32 *);
typedef int (*fd_by_id_fn)(__u32);
/* push the info table of the object behind fd, or return 0 */
typedef int (*push_info_fn)(lua_State *L, int fd);

/* the map ids a program uses (a second info call with room for them) */
static void push_prog_map_ids(lua_State *L, int fd, __u32 n)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), i;
	__u32 *ids = calloc(n ? n : 1, sizeof(*ids));

	lua_createtable(L, (int)n, 0);
	if (!ids)
		return;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = n;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		for (i = 0; i < info.nr_map_ids && i < n; i++) {
			lua_pushinteger(L, ids[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	free(ids);
}

static int push_prog_info(lua_State *L, int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	char tag[BPF_TAG_SIZE * 2 + 1];
	int i;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	for (i = 0; i < BPF_TAG_SIZE; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	lua_createtable(L, 0, 12);
	lbpf_set_int(L, "id", info.id);
	lbpf_set_str(L, "name", info.name);
	lbpf_set_str(L, "type", lbpf_prog_type_name(info.type));
	lbpf_set_str(L, "tag", tag);
	lbpf_set_int(L, "uid", info.created_by_uid);
	lbpf_set_int(L, "load_time", (lua_Integer)info.load_time);
	lbpf_set_int(L, "run_cnt", (lua_Integer)info.run_cnt);
	lbpf_set_int(L, "run_time_ns", (lua_Integer)info.run_time_ns);
	lbpf_set_int(L, "xlated_len", info.xlated_prog_len);
	lbpf_set_int(L, "jited_len", info.jited_prog_len);
	lbpf_set_int(L, "verified_insns", info.verified_insns);
	lbpf_set_int(L, "btf_id", info.btf_id);
	push_prog_map_ids(L, fd, info.nr_map_ids);
	lua_setfield(L, -2, "map_ids");
	return 1;
}

static int push_map_info(lua_State *L, int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	lua_createtable(L, 0, 8);
	lbpf_set_int(L, "id", info.id);
	lbpf_set_str(L, "name", info.name);
	lbpf_set_str(L, "type", lbpf_map_type_name(info.type));
	lbpf_set_int(L, "key_size", info.key_size);
	lbpf_set_int(L, "value_size", info.value_size);
	lbpf_set_int(L, "max_entries", info.max_entries);
	lbpf_set_int(L, "flags", info.map_flags);
	lbpf_set_int(L, "btf_id", info.btf_id);
	return 1;
}

static int push_link_info(lua_State *L, int fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	const char *type;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	type = libbpf_bpf_link_type_str(info.type);
	lua_createtable(L, 0, 4);
	lbpf_set_int(L, "id", info.id);
	lbpf_set_str(L, "type", type ? type : "unknown");
	lbpf_set_int(L, "prog_id", info.prog_id);
	switch (info.type) {
	case BPF_LINK_TYPE_CGROUP:
		lbpf_set_int(L, "cgroup_id", (lua_Integer)info.cgroup.cgroup_id);
		break;
	case BPF_LINK_TYPE_NETNS:
		lbpf_set_int(L, "netns_ino", info.netns.netns_ino);
		break;
	case BPF_LINK_TYPE_XDP:
		lbpf_set_int(L, "ifindex", info.xdp.ifindex);
		break;
	case BPF_LINK_TYPE_TRACING:
		lbpf_set_int(L, "target_btf_id", info.tracing.target_btf_id);
		break;
	default:
		break;
	}
	return 1;
}

/* Walk every id of one kind; objects that vanish mid-walk are skipped. */
static int list_all(lua_State *L, next_id_fn next, fd_by_id_fn get,
		    push_info_fn push, const char *what)
{
	__u32 id = 0;
	int n = 0;

	lua_newtable(L);
	for (;;) {
		int fd;

		if (next(id, &id)) {
			if (errno == ENOENT)
				break;
			return lbpf_push_error(L, errno, "listing %s failed", what);
		}
		fd = get(id);
		if (fd < 0) {
			/* gone since its id was read (ENOENT), or a link being
			 * created or released right now (EAGAIN) */
			if (errno == ENOENT || errno == EAGAIN)
				continue;
			return lbpf_push_error(L, errno, "opening %s id %d failed",
					       what, (int)id);
		}
		if (push(L, fd))
			lua_rawseti(L, -2, ++n);
		close(fd);
	}
	return 1;
}

/* bpf.progs() -> {{id=, name=, type=, tag=, map_ids=, ...}, ...} */
static int sys_progs(lua_State *L)
{
	return list_all(L, bpf_prog_get_next_id, bpf_prog_get_fd_by_id,
			push_prog_info, "programs");
}

/* bpf.maps() -> {{id=, name=, type=, key_size=, ...}, ...} */
static int sys_maps(lua_State *L)
{
	return list_all(L, bpf_map_get_next_id, bpf_map_get_fd_by_id,
			push_map_info, "maps");
}

/* bpf.links() -> {{id=, type=, prog_id=, ...}, ...} */
static int sys_links(lua_State *L)
{
	return list_all(L, bpf_link_get_next_id, bpf_link_get_fd_by_id,
			push_link_info, "links");
}

/* bpf.prog_from_id(id) -> libbpf.program (fd-backed, owns its fd) */
static int sys_prog_from_id(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct lbpf_prog *p;
	int fd = bpf_prog_get_fd_by_id((__u32)id);

	if (fd < 0)
		return lbpf_push_error(L, errno, "program id %d", (int)id);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int err = errno;

		close(fd);
		return lbpf_push_error(L, err, "info of program id %d", (int)id);
	}
	p = lbpf_push_prog(L, 0, NULL);
	p->fd = fd;
	p->type = info.type;
	p->name = strdup(info.name);
	return 1;
}

/* bpf.link_from_id(id) -> libbpf.link; destroy() closes it (the kernel
 * link stays while others hold it) */
static int sys_link_from_id(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	int fd = bpf_link_get_fd_by_id((__u32)id);
	struct bpf_link *link;
	char kind[48];

	if (fd < 0)
		return lbpf_push_error(L, errno, "link id %d", (int)id);
	link = lbpf_link_from_fd(fd);
	if (!link)
		return lbpf_push_error(L, errno, "opening link id %d failed (needs "
				       "bpffs at /sys/fs/bpf)", (int)id);
	snprintf(kind, sizeof(kind), "id %d", (int)id);
	lbpf_push_link(L, 0, link, kind);
	return 1;
}

/* bpf.link_from_pinned(path) -> libbpf.link */
static int sys_link_from_pinned(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct bpf_link *link = bpf_link__open(path);
	long err = libbpf_get_error(link);

	if (!link || err)
		return lbpf_push_error(L, err ? (int)-err : errno,
				       "opening pinned link '%s' failed", path);
	lua_pushfstring(L, "pinned %s", path);
	lbpf_push_link(L, 0, link, lua_tostring(L, -1));
	return 1;
}

/* bpf.num_possible_cpus() -> n | nil, msg, errno (libbpf's count, checked) */
static int sys_num_possible_cpus(lua_State *L)
{
	int n = libbpf_num_possible_cpus();

	if (n < 0)
		return lbpf_push_error(L, -n, "num_possible_cpus failed");
	lua_pushinteger(L, n);
	return 1;
}

void lbpf_open_sys(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"num_possible_cpus", sys_num_possible_cpus},
		{"progs", sys_progs},
		{"maps", sys_maps},
		{"links", sys_links},
		{"prog_from_id", sys_prog_from_id},
		{"link_from_id", sys_link_from_id},
		{"link_from_pinned", sys_link_from_pinned},
		{NULL, NULL}
	};

	luaL_setfuncs(L, funcs, 0);
	lua_pushfstring(L, "%d.%d", LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	lua_setfield(L, -2, "libbpf_version");
	lua_pushfstring(L, "%d.%d", (int)libbpf_major_version(),
			(int)libbpf_minor_version());
	lua_setfield(L, -2, "libbpf_runtime_version");
}
