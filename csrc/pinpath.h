/*
 * pinpath.h - pins in bpffs that never follow a symbolic link (pinpath.c),
 * for every file that pins, reuses or removes a pin (links, maps, objects,
 * the legacy loader).
 *
 * The rule: every directory on the way is opened with O_NOFOLLOW relative to
 * the one before it, must be owned by root or by us and must not be writable
 * by other users (unless sticky, where they cannot move our entries); the
 * last one must be on bpffs. A pin is then made, opened or removed relative
 * to that directory, and an existing pin is used only when it is not a link
 * and is owned by root or by us. Missing directories are made with mode 0700.
 */
#ifndef LBPF_PINPATH_H
#define LBPF_PINPATH_H

#include <stddef.h>

/* The functions return 0 (or an fd) or -errno; on failure `msg` (of `len`
 * bytes) says why in words that name the path component at fault. */

/* Check the directories of `path` (making missing ones when `create`);
 * libbpf may then pin at `path` itself. */
int lbpf_pin_check_dir(const char *path, int create, char *msg, size_t len);
/* Pin `fd` at `path` (directories made when `create`). */
int lbpf_pin_fd(int fd, const char *path, int create, char *msg, size_t len);
/* Open the pin at `path`: an fd (taken by the caller) or -errno; -ENOENT
 * when there is no pin (msg says so too). */
int lbpf_pin_get(const char *path, char *msg, size_t len);
/* Check the pin at `path` (if any) could be reused: not a link, ours; 0,
 * -ENOENT when absent, or -errno. */
int lbpf_pin_check_existing(const char *path, char *msg, size_t len);
/* Remove the pin at `path` (not a directory, not following links). */
int lbpf_pin_unlink(const char *path, char *msg, size_t len);

#endif
