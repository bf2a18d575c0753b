/*
 * cc.c - what bpf.compile (lua/libbpf/compile.lua) needs from C: running
 * clang without a shell and reading its output, private cache files, the
 * kernel BTF's hash, and vmlinux.h (btf_dump.c).
 *
 * Loaded from the same shared object as libbpf.core with
 * package.loadlib(path, "luaopen_libbpf_cc"), as the REPL's sigint helper
 * is: these are internals of compile.lua, not part of the `bpf` table.
 *
 * LBPF_BPF_INCLUDE is the directory holding the bpf/ headers of the libbpf
 * this module was built with (the Makefile sets it); LUA_LIBBPF_INCLUDE
 * overrides it at run time (compile.lua).
 */
#define _GNU_SOURCE   /* pipe2, mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "btf_dump.h"
#include "lbpf.h"

#ifndef LBPF_BPF_INCLUDE
#define LBPF_BPF_INCLUDE "/usr/include"
#endif

extern char **environ;

/* ---- output of a child -------------------------------------------------- */

/* Past this much a stream is read and dropped: clang's diagnostics for a
 * broken file are long, never this long. */
#define OUT_MAX (1 << 20)

struct out_buf {
	char *p;
	size_t len, cap;
};

static void out_add(struct out_buf *b, const char *s, size_t n)
{
	if (b->len + n > OUT_MAX)
		n = OUT_MAX - b->len;
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return;   /* keep what we have; the rest is lost */
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Read the child's stdout and stderr (fds[0], fds[1]) to their ends; both
 * at once, so a child filling one pipe never blocks on it. */
static void read_both(int fds[2], struct out_buf out[2])
{
	struct pollfd pf[2];
	char chunk[8192];
	int open_n = 2, i;

	for (i = 0; i < 2; i++) {
		pf[i].fd = fds[i];
		pf[i].events = POLLIN;
	}
	while (open_n > 0) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			n = read(pf[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				out_add(&out[i], chunk, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				pf[i].fd = -1;
				open_n--;
			}
		}
	}
}

/* Start argv[0] (a path: compile.lua searched PATH) with stdin from
 * /dev/null and stdout, stderr into pipes[*][1]; returns 0 or an errno. */
static int start_child(char *const argv[], int pipes[2][2], pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int err;

	err = posix_spawn_file_actions_init(&fa);
	if (err)
		return err;
	err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, pipes[0][1], 1);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, pipes[1][1], 2);
	if (!err)
		err = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return err;
}

/* cc.spawn({path, arg...}) -> exit status (128+signal if killed), stdout,
 * stderr; or nil, message, errno when it could not start. No shell: the
 * arguments reach the program as they are. */
static int cc_spawn(lua_State *L)
{
	struct out_buf out[2] = {{0}};
	int pipes[2][2] = {{-1, -1}, {-1, -1}};
	int fds[2], i, err = 0, status = 0;
	lua_Integer n, k;
	char **argv;
	pid_t pid;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = luaL_len(L, 1);
	luaL_argcheck(L, n >= 1 && n < INT_MAX, 1, "needs the program's path");
	/* a userdata: freed by the GC even if a check below raises */
	argv = lua_newuserdatauv(L, sizeof(char *) * ((size_t)n + 1), 0);
	for (k = 1; k <= n; k++) {
		if (lua_geti(L, 1, k) != LUA_TSTRING)
			luaL_error(L, "spawn: argument %d is not a string", (int)k);
		argv[k - 1] = (char *)lua_tostring(L, -1);   /* kept by table 1 */
		lua_pop(L, 1);
	}
	argv[n] = NULL;
	for (i = 0; i < 2 && !err; i++)
		if (pipe2(pipes[i], O_CLOEXEC))
			err = errno;
	if (!err)
		err = start_child(argv, pipes, &pid);
	for (i = 0; i < 2; i++) {
		if (pipes[i][1] >= 0)
			close(pipes[i][1]);
		fds[i] = pipes[i][0];
	}
	if (!err) {
		read_both(fds, out);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (err) {
		free(out[0].p);
		free(out[1].p);
		return lbpf_push_error(L, err, "cannot run '%s'", argv[0]);
	}
	lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status)
			 : 128 + WTERMSIG(status));
	for (i = 0; i < 2; i++) {
		/* a memory error here leaks the buffers: the process is failing */
		lua_pushlstring(L, out[i].p ? out[i].p : "", out[i].len);
		free(out[i].p);
		out[i].p = NULL;
	}
	return 3;
}

/* ---- files ---------------------------------------------------------------- */

static const char *file_type(mode_t m)
{
	if (S_ISDIR(m))
		return "dir";
	if (S_ISREG(m))
		return "file";
	if (S_ISLNK(m))
		return "link";
	return "other";
}

/* cc.lstat(path) -> {type=, uid=, mode= (permission bits), size=, mtime=,
 * ino=, dev=} of the path itself (a symlink is "link"), or nil, msg, errno */
static int cc_lstat(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;

	if (lstat(path, &st))
		return lbpf_push_error(L, errno, "%s", path);
	lua_createtable(L, 0, 7);
	lbpf_set_str(L, "type", file_type(st.st_mode));
	lbpf_set_int(L, "uid", st.st_uid);
	lbpf_set_int(L, "mode", st.st_mode & 07777);
	lbpf_set_int(L, "size", st.st_size);
	lbpf_set_int(L, "mtime", st.st_mtime);
	lbpf_set_int(L, "ino", (lua_Integer)st.st_ino);
	lbpf_set_int(L, "dev", (lua_Integer)st.st_dev);
	return 1;
}

/* cc.realpath(path) -> the canonical path, or nil, msg, errno */
static int cc_realpath(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char *r = realpath(path, NULL);

	if (!r)
		return lbpf_push_error(L, errno, "%s", path);
	lua_pushstring(L, r);
	free(r);
	return 1;
}

/* cc.executable(path) -> true if path is a regular file we may execute */
static int cc_executable(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;

	lua_pushboolean(L, stat(path, &st) == 0 && S_ISREG(st.st_mode)
			&& access(path, X_OK) == 0);
	return 1;
}

/* cc.mkdir(path) -> true (mode 0700), or nil, msg, errno (EEXIST too) */
static int cc_mkdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);

	if (mkdir(path, 0700))
		return lbpf_push_error(L, errno, "mkdir '%s' failed", path);
	lua_pushboolean(L, 1);
	return 1;
}

/* cc.mkdtemp(prefix) -> a new directory prefix..XXXXXX (mode 0700) */
static int cc_mkdtemp(lua_State *L)
{
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	luaL_addstring(&b, luaL_checkstring(L, 1));
	luaL_addstring(&b, "XXXXXX");
	luaL_pushresult(&b);
	/* the string's bytes are ours until it is popped: mkdtemp fills
	 * them in place, as liolib's tmpname does with its buffer */
	if (!mkdtemp((char *)lua_tostring(L, -1)))
		return lbpf_push_error(L, errno, "mkdtemp '%s' failed",
				       luaL_checkstring(L, 1));
	return 1;
}

/* Is `st` a regular file that only this user can have written? */
static int private_file(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == geteuid()
	       && !(st->st_mode & 022);
}

/* cc.read_private(path) -> the bytes of a file this user owns and only
 * this user may write (not a symlink); else nil, msg, errno */
static int cc_read_private(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct out_buf b = {0};
	char chunk[65536];
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return lbpf_push_error(L, errno, "%s", path);
	if (fstat(fd, &st) || !private_file(&st)) {
		close(fd);
		return lbpf_push_error(L, EPERM, "%s: not a private file of this user",
				       path);
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (b.len + (size_t)n > b.cap) {
			size_t cap = b.cap ? b.cap * 2 : (size_t)st.st_size + 1;
			char *p;

			while (cap < b.len + (size_t)n)
				cap *= 2;
			p = realloc(b.p, cap);
			if (!p) {
				err = ENOMEM;
				break;
			}
			b.p = p;
			b.cap = cap;
		}
		memcpy(b.p + b.len, chunk, (size_t)n);
		b.len += (size_t)n;
	}
	close(fd);
	if (err) {
		free(b.p);
		return lbpf_push_error(L, err, "reading '%s' failed", path);
	}
	lua_pushlstring(L, b.p ? b.p : "", b.len);
	free(b.p);
	return 1;
}

/* cc.write_private(path, bytes) -> true: written to a new 0600 file next
 * to `path`, then renamed over it (readers never see half a file); or
 * nil, msg, errno */
static int cc_write_private(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t len, off = 0;
	const char *data = luaL_checklstring(L, 2, &len);
	const char *tmp;
	int fd, err = 0;

	tmp = lua_pushfstring(L, "%s.XXXXXX", path);
	fd = mkostemp((char *)tmp, O_CLOEXEC);   /* mode 0600 */
	if (fd < 0)
		return lbpf_push_error(L, errno, "creating '%s' failed", path);
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (err) {
		unlink(tmp);
		return lbpf_push_error(L, err, "writing '%s' failed", path);
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- identity ------------------------------------------------------------- */

/* 64-bit FNV-1a and zlib's CRC-32 side by side, with the length: a cache
 * key, not a defence (the cache directory is the user's own). */
struct key_hash {
	uint64_t fnv;
	uLong crc;
	uint64_t len;
};

static void key_hash_init(struct key_hash *h)
{
	h->fnv = 0xcbf29ce484222325ULL;
	h->crc = crc32(0L, Z_NULL, 0);
	h->len = 0;
}

static void key_hash_add(struct key_hash *h, const unsigned char *p, size_t n)
{
	size_t i, n0 = n;

	for (i = 0; i < n; i++)
		h->fnv = (h->fnv ^ p[i]) * 0x100000001b3ULL;
	while (n > 0) {
		uInt part = n > (1u << 30) ? 1u << 30 : (uInt)n;

		h->crc = crc32(h->crc, p, part);
		p += part;
		n -= part;
	}
	h->len += n0;
}

static void key_hash_push(lua_State *L, const struct key_hash *h)
{
	char s[64];

	snprintf(s, sizeof(s), "%016llx%08lx%llx", (unsigned long long)h->fnv,
		 (unsigned long)h->crc, (unsigned long long)h->len);
	lua_pushstring(L, s);
}

/* cc.hash(string) -> a hex key of the bytes */
static int cc_hash(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	struct key_hash h;

	key_hash_init(&h);
	key_hash_add(&h, (const unsigned char *)s, len);
	key_hash_push(L, &h);
	return 1;
}

/* cc.hash_file(path) -> a hex key of the file's bytes (read in pieces: the
 * kernel's BTF is several MB), or nil, msg, errno */
static int cc_hash_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	unsigned char chunk[65536];
	struct key_hash h;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lbpf_push_error(L, errno, "%s", path);
	key_hash_init(&h);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		key_hash_add(&h, chunk, (size_t)n);
	}
	close(fd);
	if (err)
		return lbpf_push_error(L, err, "reading '%s' failed", path);
	key_hash_push(L, &h);
	return 1;
}

/* cc.geteuid() -> the effective user id */
static int cc_geteuid(lua_State *L)
{
	lua_pushinteger(L, geteuid());
	return 1;
}

/* cc.machine() -> uname's machine ("x86_64", "aarch64" ...) */
static int cc_machine(lua_State *L)
{
	struct utsname u;

	if (uname(&u))
		return lbpf_push_error(L, errno, "uname failed");
	lua_pushstring(L, u.machine);
	return 1;
}

static const luaL_Reg cc_functions[] = {
	{"spawn", cc_spawn},
	{"lstat", cc_lstat},
	{"realpath", cc_realpath},
	{"executable", cc_executable},
	{"mkdir", cc_mkdir},
	{"mkdtemp", cc_mkdtemp},
	{"read_private", cc_read_private},
	{"write_private", cc_write_private},
	{"hash", cc_hash},
	{"hash_file", cc_hash_file},
	{"geteuid", cc_geteuid},
	{"machine", cc_machine},
	{"btf_dump_c", lbpf_btf_dump_c},
	{NULL, NULL},
};

LBPF_EXPORT int luaopen_libbpf_cc(lua_State *L)
{
	luaL_newlib(L, cc_functions);
	lua_pushstring(L, LBPF_BPF_INCLUDE);
	lua_setfield(L, -2, "include_dir");
	return 1;
}
