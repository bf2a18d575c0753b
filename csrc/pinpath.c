/*
 * pinpath.c - pins in bpffs that never follow a symbolic link: a root
 * script pinning under a directory another user can write to must not pin,
 * reuse or remove at a path of that user's choosing (issue 13 items 14, 16).
 * The rule is in pinpath.h. A leaf: it calls only libc and the bpf syscall.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "pinpath.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef BPF_F_PATH_FD
#define BPF_F_PATH_FD (1U << 14)   /* linux 6.5: pathname relative to path_fd */
#endif

static int fail(char *msg, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -err;
}

/* Directories are made only inside bpffs, never elsewhere on the way. */
static int on_bpffs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC;
}

/* Owned by root or us, not writable by others unless sticky. */
static int dir_trusted(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return 0;
	return !(st->st_mode & (S_IWGRP | S_IWOTH)) || (st->st_mode & S_ISVTX);
}

/* Why component `comp` (in `dfd`) could not be opened as a directory. */
static int open_failed(int dfd, const char *path, const char *comp, int err,
		       char *msg, size_t len)
{
	struct stat st;

	if ((err == ELOOP || err == ENOTDIR) &&
	    fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return fail(msg, len, ELOOP, "pin path '%s': '%s' is a symbolic "
			    "link (pins never follow links)", path, comp);
	return fail(msg, len, err, "pin path '%s': cannot open directory '%s'",
		    path, comp);
}

/* Open directory component `comp` of `path` under `dfd` (made 0700 when
 * missing and `create`) and check who owns it; fd or -errno. */
static int open_component(int dfd, const char *path, const char *comp,
			  int create, char *msg, size_t len)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	int fd = openat(dfd, comp, flags);

	if (fd < 0 && errno == ENOENT && create && on_bpffs(dfd)) {
		if (mkdirat(dfd, comp, 0700) < 0 && errno != EEXIST)
			return fail(msg, len, errno, "pin path '%s': cannot make "
				    "directory '%s'", path, comp);
		fd = openat(dfd, comp, flags);
	}
	if (fd < 0)
		return open_failed(dfd, path, comp, errno, msg, len);
	if (fstat(fd, &st) < 0 || !dir_trusted(&st)) {
		int err = errno;

		close(fd);
		if (!dir_trusted(&st))
			return fail(msg, len, EPERM, "pin path '%s': directory '%s' "
				    "belongs to uid %u or is writable by other users "
				    "(mode %03o)", path, comp, (unsigned)st.st_uid,
				    (unsigned)(st.st_mode & 07777));
		return fail(msg, len, err, "pin path '%s': stat of '%s'", path,
			    comp);
	}
	return fd;
}

/* Open the directory holding `path` safely; `*name` is set to the last
 * component. fd or -errno. */
static int open_parent(const char *path, int create, const char **name,
		       char *msg, size_t len)
{
	char comp[256];
	const char *p = path, *slash;
	int dfd = open(*path == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY |
		       O_CLOEXEC);

	if (dfd < 0)
		return fail(msg, len, errno, "pin path '%s'", path);
	while ((slash = strchr(p, '/'))) {
		size_t n = (size_t)(slash - p);
		int fd;

		if (n == 0 || (n == 1 && *p == '.')) {
			p = slash + 1;
			continue;
		}
		if (n >= sizeof(comp) || (n == 2 && p[0] == '.' && p[1] == '.')) {
			close(dfd);
			return fail(msg, len, EINVAL, "pin path '%s': component "
				    "'%.*s' refused", path, (int)(n < 64 ? n : 64), p);
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		fd = open_component(dfd, path, comp, create, msg, len);
		close(dfd);
		if (fd < 0)
			return fd;
		dfd = fd;
		p = slash + 1;
	}
	if (!*p || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
		close(dfd);
		return fail(msg, len, EINVAL, "pin path '%s': no file name", path);
	}
	if (!on_bpffs(dfd)) {
		close(dfd);
		return fail(msg, len, EINVAL, "pin path '%s': not on bpffs", path);
	}
	*name = p;
	return dfd;
}

/* BPF_OBJ_PIN / BPF_OBJ_GET relative to `dfd` (linux 6.5 path_fd), else
 * through /proc/self/fd/<dfd>, which names the very directory we opened. */
static int obj_at(int cmd, int dfd, const char *name, int fd)
{
	union bpf_attr attr;
	char proc[4096 + 64];
	int ret;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (__u64)(unsigned long)name;
	attr.bpf_fd = (__u32)fd;
	attr.file_flags = BPF_F_PATH_FD;
	/* path_fd follows file_flags in the obj attrs (not in older headers) */
	memcpy((char *)&attr.file_flags + sizeof(attr.file_flags), &dfd,
	       sizeof(dfd));
	ret = (int)syscall(__NR_bpf, cmd, &attr, sizeof(attr));
	if (ret >= 0 || errno != EINVAL)
		return ret;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dfd, name);
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (__u64)(unsigned long)proc;
	attr.bpf_fd = (__u32)fd;
	return (int)syscall(__NR_bpf, cmd, &attr, sizeof(attr));
}

/* The entry `name` in `dfd` must be a pin we may use: not a link, owned by
 * root or us. 0, -ENOENT, or -errno. */
static int check_entry(int dfd, const char *path, const char *name,
		       char *msg, size_t len)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(msg, len, errno, "pin '%s'", path);
	if (S_ISLNK(st.st_mode))
		return fail(msg, len, ELOOP, "pin '%s' is a symbolic link (pins "
			    "never follow links)", path);
	if (S_ISDIR(st.st_mode))
		return fail(msg, len, EISDIR, "pin '%s' is a directory", path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return fail(msg, len, EPERM, "pin '%s' belongs to uid %u (not "
			    "reused)", path, (unsigned)st.st_uid);
	return 0;
}

int lbpf_pin_check_dir(const char *path, int create, char *msg, size_t len)
{
	const char *name;
	int dfd = open_parent(path, create, &name, msg, len);

	if (dfd < 0)
		return dfd;
	close(dfd);
	return 0;
}

int lbpf_pin_fd(int fd, const char *path, int create, char *msg, size_t len)
{
	const char *name;
	int dfd = open_parent(path, create, &name, msg, len), ret;

	if (dfd < 0)
		return dfd;
	ret = obj_at(BPF_OBJ_PIN, dfd, name, fd);
	ret = ret < 0 ? fail(msg, len, errno, "pin at '%s'", path) : 0;
	close(dfd);
	return ret;
}

int lbpf_pin_get(const char *path, char *msg, size_t len)
{
	const char *name;
	int dfd = open_parent(path, 0, &name, msg, len), fd;

	if (dfd < 0)
		return dfd;
	fd = check_entry(dfd, path, name, msg, len);
	if (fd == 0) {
		fd = obj_at(BPF_OBJ_GET, dfd, name, 0);
		if (fd < 0)
			fd = fail(msg, len, errno, "open pin '%s'", path);
	}
	close(dfd);
	return fd;
}

int lbpf_pin_check_existing(const char *path, char *msg, size_t len)
{
	const char *name;
	int dfd = open_parent(path, 0, &name, msg, len), ret;

	if (dfd < 0)
		return dfd;
	ret = check_entry(dfd, path, name, msg, len);
	close(dfd);
	return ret;
}

int lbpf_pin_unlink(const char *path, char *msg, size_t len)
{
	const char *name;
	struct stat st;
	int dfd = open_parent(path, 0, &name, msg, len), ret = 0;

	if (dfd < 0)
		return dfd;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		ret = fail(msg, len, errno, "unpin '%s'", path);
	else if (S_ISDIR(st.st_mode))
		ret = fail(msg, len, EISDIR, "unpin '%s': a directory", path);
	else if (unlinkat(dfd, name, 0) < 0)
		ret = fail(msg, len, errno, "unpin '%s'", path);
	close(dfd);
	return ret;
}
