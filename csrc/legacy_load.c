/*
 * legacy_load.c - load a parsed legacy object (legacy_parse.c) the way its
 * loader did: maps first, honouring pinning, then ld_imm64 map relocations
 * patched to BPF_PSEUDO_MAP_FD, then one program per code section. See
 * legacy.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "legacy.h"
#include "pinpath.h"

#define LOG_MIN_SIZE (64u * 1024)
#define LOG_MAX_SIZE (16u * 1024 * 1024 - 1)   /* the kernel's limit */

/* ---- load: maps ------------------------------------------------------------ */

/* pin directory of map `m`, or -errno for pinning values we do not know */
static int pin_dir(const struct lbpf_legacy *l, const struct lbpf_legacy_map *m,
		   char *dir, size_t n)
{
	int w;

	if (m->pinning == 1)
		w = snprintf(dir, n, "%s/%s", l->pin_root, l->name);
	else if (m->pinning == 2)
		w = snprintf(dir, n, "%s/globals", l->pin_root);
	else
		return -ENOTSUP;
	return w < (int)n ? 0 : -ENAMETOOLONG;
}

/* An existing pin is reused only when it is the same kind of map. */
static int check_pinned(int fd, const struct lbpf_legacy_map *m,
			const char *path, char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof info;

	memset(&info, 0, sizeof info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return lbpf_elf_fail(err, errlen, errno, "map '%s': pinned %s",
			    m->name, path);
#define SAME(field, have) \
	if (info.have != m->field) \
		return lbpf_elf_fail(err, errlen, EINVAL, \
			    "map '%s': pinned map %s is incompatible: " #field \
			    " is %u there, %u in the object", m->name, path, \
			    (unsigned)info.have, (unsigned)m->field)
	SAME(type, type);
	SAME(key_size, key_size);
	SAME(value_size, value_size);
	SAME(max_entries, max_entries);
	SAME(flags, map_flags);
#undef SAME
	return 0;
}

static int legacy_map_create(struct lbpf_legacy *l, struct lbpf_legacy_map *m,
		      char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = m->flags);
	char kname[BPF_OBJ_NAME_LEN];
	int fd;

	snprintf(kname, sizeof kname, "%s", m->name);
	if (m->inner_template >= 0)
		opts.inner_map_fd = l->maps[m->inner_template].fd;
	if (m->flags & BPF_F_NUMA_NODE)
		opts.numa_node = m->numa_node;
	fd = bpf_map_create(m->type, kname, m->key_size, m->value_size,
			    m->max_entries, &opts);
	if (fd < 0)
		return lbpf_elf_fail(err, errlen, errno,
			    "map '%s': create (type %u, key %u, value %u, max %u, "
			    "flags 0x%x)", m->name, m->type, m->key_size,
			    m->value_size, m->max_entries, m->flags);
	m->fd = fd;
	return 0;
}

/* Pin the new map at `path`, its directories made 0700, never through a
 * symbolic link (pinpath.c). */
static int legacy_map_pin(struct lbpf_legacy_map *m, const char *path,
			  char *err, size_t errlen)
{
	char msg[512];
	int ret;

	m->pinned_here = strdup(path); /* the record before the pin */
	if (!m->pinned_here)
		return lbpf_elf_fail(err, errlen, ENOMEM, "out of memory");
	ret = lbpf_pin_fd(m->fd, path, 1, msg, sizeof msg);
	if (ret < 0) {
		free(m->pinned_here);
		m->pinned_here = NULL;
		return lbpf_elf_fail(err, errlen, -ret, "map '%s': %s", m->name,
				     msg);
	}
	return 0;
}

/* Reuse the pinned map or create (and pin) a new one. */
static int map_obtain(struct lbpf_legacy *l, struct lbpf_legacy_map *m,
		      char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX], msg[512];
	int fd, ret;

	if (!m->pinning)
		return legacy_map_create(l, m, err, errlen);
	if (strchr(m->name, '/') || strcmp(m->name, "..") == 0 ||
	    strcmp(m->name, ".") == 0)
		return lbpf_elf_fail(err, errlen, EINVAL,
			    "map '%s': name cannot be pinned (not a file name)",
			    m->name);
	ret = pin_dir(l, m, dir, sizeof dir);
	if (ret == -ENOTSUP)
		return lbpf_elf_fail(err, errlen, ENOTSUP,
			    "map '%s': pinning %u is not supported (1 = object, "
			    "2 = global namespace)", m->name, m->pinning);
	if (ret < 0 || snprintf(path, sizeof path, "%s/%s", dir, m->name) >=
			       (int)sizeof path)
		return lbpf_elf_fail(err, errlen, ENAMETOOLONG, "map '%s': pin path too long",
			    m->name);
	/* no symbolic link followed, no other user's pin reused */
	fd = lbpf_pin_get(path, msg, sizeof msg);
	if (fd >= 0) {
		m->fd = fd;
		m->reused = 1;
		return check_pinned(fd, m, path, err, errlen);
	}
	if (fd != -ENOENT)
		return lbpf_elf_fail(err, errlen, -fd, "map '%s': %s", m->name,
				     msg);
	ret = legacy_map_create(l, m, err, errlen);
	return ret < 0 ? ret : legacy_map_pin(m, path, err, errlen);
}

static int is_map_in_map(const struct lbpf_legacy_map *m)
{
	return m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	       m->type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

/* Plain maps first (they are the inner templates), then maps of maps,
 * then place inner maps into their outer map's slot (iproute2). */
static int create_maps(struct lbpf_legacy *l, char *err, size_t errlen)
{
	size_t pass, i;
	int ret;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < l->nmaps; i++) {
			if (is_map_in_map(&l->maps[i]) != (int)pass)
				continue;
			ret = map_obtain(l, &l->maps[i], err, errlen);
			if (ret < 0)
				return ret;
		}
	for (i = 0; i < l->nmaps; i++) {
		struct lbpf_legacy_map *m = &l->maps[i];

		if (m->outer < 0 || l->maps[m->outer].reused)
			continue;
		/* iproute2's slot index is a __u32: the outer map's key must
		 * be one (its size comes from the ELF) */
		if (l->maps[m->outer].key_size != sizeof(m->inner_idx))
			return lbpf_elf_fail(err, errlen, EINVAL,
				    "map '%s': cannot insert into '%s': its key "
				    "is %u bytes, the slot index (inner_idx) is %zu",
				    m->name, l->maps[m->outer].name,
				    l->maps[m->outer].key_size,
				    sizeof(m->inner_idx));
		if (bpf_map_update_elem(l->maps[m->outer].fd, &m->inner_idx,
					&m->fd, BPF_ANY) < 0)
			return lbpf_elf_fail(err, errlen, errno,
				    "map '%s': insert into '%s' at %u", m->name,
				    l->maps[m->outer].name, m->inner_idx);
	}
	return 0;
}

/* ---- load: programs ----------------------------------------------------------- */

static void patch_relocs(struct lbpf_legacy *l, struct lbpf_legacy_prog *p)
{
	size_t i;

	for (i = 0; i < p->nrelocs; i++) {
		struct bpf_insn *insn = &p->insns[p->relocs[i].insn];

		insn[0].src_reg = BPF_PSEUDO_MAP_FD;
		insn[0].imm = l->maps[p->relocs[i].map].fd;
		insn[1].imm = 0;
	}
}

static int prog_load_once(struct lbpf_legacy *l, struct lbpf_legacy_prog *p,
			  char *log, size_t log_size)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = p->expected_attach_type,
		    .kern_version = l->kern_version,
		    .log_level = log ? 1 : 0,
		    .log_buf = log,
		    .log_size = (__u32)log_size);
	char kname[BPF_OBJ_NAME_LEN];
	int fd;

	snprintf(kname, sizeof kname, "%s", p->name);
	fd = bpf_prog_load(p->type, kname, l->license, p->insns, p->insn_cnt,
			   &opts);
	return fd < 0 ? -errno : fd;
}

/* Reload with a log buffer that grows until the log fits; keep the log. */
static void prog_fetch_log(struct lbpf_legacy *l, struct lbpf_legacy_prog *p)
{
	size_t size;
	char *buf = NULL, *nb;
	int fd = -ENOSPC;

	for (size = LOG_MIN_SIZE; fd == -ENOSPC && size <= LOG_MAX_SIZE;
	     size = size * 4 > LOG_MAX_SIZE && size < LOG_MAX_SIZE ?
		    LOG_MAX_SIZE : size * 4) {
		nb = realloc(buf, size);
		if (!nb)
			break;
		buf = nb;
		buf[0] = '\0';
		fd = prog_load_once(l, p, buf, size);
		if (fd >= 0)    /* loads with a log: keep the first errno anyway */
			close(fd);
		if (size == LOG_MAX_SIZE)
			break;
	}
	free(p->log);
	p->log = buf;
	p->log_len = buf ? strlen(buf) : 0;
}

static int prog_load(struct lbpf_legacy *l, struct lbpf_legacy_prog *p,
		     char *err, size_t errlen)
{
	int fd;

	patch_relocs(l, p);
	fd = prog_load_once(l, p, NULL, 0);
	if (fd >= 0) {
		p->fd = fd;
		return 0;
	}
	prog_fetch_log(l, p);
	return lbpf_elf_fail(err, errlen, -fd, "load '%s' (section '%s') failed",
		    p->name, p->section);
}

/* Undo a partial load: close fds, remove pins this load created. */
static void unload(struct lbpf_legacy *l)
{
	char msg[512];
	size_t i;

	for (i = 0; i < l->nprogs; i++) {
		if (l->progs[i].fd >= 0)
			close(l->progs[i].fd);
		l->progs[i].fd = -1;
	}
	for (i = 0; i < l->nmaps; i++) {
		struct lbpf_legacy_map *m = &l->maps[i];

		if (m->pinned_here)
			lbpf_pin_unlink(m->pinned_here, msg, sizeof msg);
		free(m->pinned_here);
		m->pinned_here = NULL;
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
		m->reused = 0;
	}
}

int lbpf_legacy_load(struct lbpf_legacy *l, char *err, size_t errlen)
{
	size_t i;
	int ret;

	if (l->loaded)
		return lbpf_elf_fail(err, errlen, EBUSY, "object '%s' is already loaded",
			    l->name);
	for (i = 0; i < l->nprogs; i++) {
		free(l->progs[i].log);
		l->progs[i].log = NULL;
		l->progs[i].log_len = 0;
	}
	ret = create_maps(l, err, errlen);
	for (i = 0; ret == 0 && i < l->nprogs; i++)
		if (l->progs[i].autoload)
			ret = prog_load(l, &l->progs[i], err, errlen);
	if (ret < 0) {
		unload(l);
		return ret;
	}
	for (i = 0; i < l->nmaps; i++) {   /* pins now belong to the system */
		free(l->maps[i].pinned_here);
		l->maps[i].pinned_here = NULL;
	}
	l->loaded = 1;
	return 0;
}

void lbpf_legacy_free(struct lbpf_legacy *l)
{
	if (!l)
		return;
	if (l->maps || l->progs)
		unload(l);
	lbpf_legacy_release(l);
}
