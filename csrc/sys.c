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
#include "pinpath.h"
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
	/* the handle first: it owns the fd from the moment it exists */
	struct lbpf_prog *p = lbpf_push_prog(L, 0, NULL);

	p->fd = bpf_prog_get_fd_by_id((__u32)id);
	if (p->fd < 0)
		return lbpf_push_error(L, errno, "program id %d", (int)id);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(p->fd, &info, &len))
		return lbpf_push_error(L, errno, "info of program id %d", (int)id);
	p->type = info.type;
	p->name = strdup(info.name);
	if (!p->name)
		return luaL_error(L, "bpf.prog_from_id: out of memory");
	return 1;
}

/* bpf.link_from_id(id) -> libbpf.link; destroy() closes it (the kernel
 * link stays while others hold it). The handle owns the link's fd: no
 * libbpf handle, no temporary pin. */
static int sys_link_from_id(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	struct lbpf_link *l = lbpf_link_new(L, 0); /* before the fd */
	int fd = bpf_link_get_fd_by_id((__u32)id);
	char kind[48];

	if (fd < 0)
		return lbpf_push_error(L, errno, "link id %d", (int)id);
	snprintf(kind, sizeof(kind), "id %d", (int)id);
	lbpf_link_set(l, NULL, fd, kind);
	return 1;
}

/* Is `fd` a kernel link (not a map or program pinned at a link's path)? */
static int is_link_fd(int fd)
{
	char proc[64], target[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	/* "bpf_link" when made, "bpf-link" when opened from a pin */
	return strcmp(target, "anon_inode:bpf_link") == 0 ||
	       strcmp(target, "anon_inode:bpf-link") == 0;
}

/* bpf.link_from_pinned(path) -> libbpf.link; opened without following a
 * symbolic link (pinpath.c), and only when it is a link */
static int sys_link_from_pinned(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct lbpf_link *l = lbpf_link_new(L, 0); /* before the fd */
	char msg[512], kind[96];
	int fd;

	l->pin_path = strdup(path);
	if (!l->pin_path)
		return luaL_error(L, "bpf.link_from_pinned: out of memory");
	fd = lbpf_pin_get(path, msg, sizeof(msg));
	if (fd < 0)
		return lbpf_push_error(L, -fd, "opening pinned link '%s' failed: "
				       "%s", path, msg);
	if (!is_link_fd(fd)) {
		close(fd);
		return lbpf_push_error(L, EINVAL, "opening pinned link '%s' "
				       "failed: it is not a link", path);
	}
	snprintf(kind, sizeof(kind), "pinned %s", path);
	lbpf_link_set(l, NULL, fd, kind);
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

/* bpf.libbpf_version: "1.5.0". libbpf's headers carry only major.minor; the
 * Makefile passes the full version from libbpf's pkg-config file
 * (LBPF_LIBBPF_VERSION), used when it agrees with the headers. */
static void sys_push_libbpf_version(lua_State *L)
{
#ifdef LBPF_LIBBPF_VERSION
	const char *full = LBPF_LIBBPF_VERSION;
	char mm[32];
	size_t n = (size_t)snprintf(mm, sizeof(mm), "%d.%d.",
				    LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);

	if (strncmp(full, mm, n) == 0) {
		lua_pushstring(L, full);
		return;
	}
#endif
	lua_pushfstring(L, "%d.%d", LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
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
	sys_push_libbpf_version(L);
	lua_setfield(L, -2, "libbpf_version");
	lua_pushfstring(L, "%d.%d", (int)libbpf_major_version(),
			(int)libbpf_minor_version());
	lua_setfield(L, -2, "libbpf_runtime_version");
}
