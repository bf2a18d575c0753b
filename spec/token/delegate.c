// SPDX-License-Identifier: GPL-2.0
/*
 * delegate - run a command in a new user namespace that a privileged parent
 * (this process, root) delegated BPF to, the way a container manager does
 * (see the kernel's BPF token docs and libbpf's selftests token tests):
 *
 *   delegate [--no-delegate] MOUNTPOINT -- CMD [ARG...]
 *
 * The child unshares a user namespace (its root mapped to root, but with
 * capabilities in that namespace only, so bpf() refuses it without a
 * token) and a mount namespace, and opens a bpffs context there (fsopen),
 * which makes the bpffs belong to its namespace. It hands the context to
 * the parent over a socket; the parent, privileged in the initial
 * namespace, sets delegate_cmds/maps/progs/attachs=any (--no-delegate: none),
 * creates the superblock and fsmounts it; the child mounts it on MOUNTPOINT
 * in its own mount namespace and execs CMD, which can then load BPF with a
 * token made from MOUNTPOINT (bpf.open(path, {token_path = MOUNTPOINT})).
 * Exits with CMD's status; 125 when the setup failed (message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FSCONFIG_SET_STRING
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

#define SETUP_FAILED 125

static void die(const char *what)
{
	fprintf(stderr, "delegate: %s: %s\n", what, strerror(errno));
	exit(SETUP_FAILED);
}

/* one fd (or, with fd < 0, just a byte) over the unix socket */
static void send_fd(int sock, int fd)
{
	char byte = 'x', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sock, &msg, 0) != 1)
		die("recvmsg (the other side failed)");
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(path);
	close(fd);
}

static void child(int sock, const char *mountpoint, char **cmd)
{
	int fs_fd, mnt_fd;

	if (unshare(CLONE_NEWUSER))
		die("unshare(CLONE_NEWUSER)");
	send_fd(sock, -1);	/* parent: write my uid/gid maps */
	recv_fd(sock);
	if (unshare(CLONE_NEWNS))
		die("unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("make / private");
	fs_fd = syscall(SYS_fsopen, "bpf", 0);
	if (fs_fd < 0)
		die("fsopen(bpf) in the user namespace");
	send_fd(sock, fs_fd);
	mnt_fd = recv_fd(sock);
	if (mnt_fd < 0)
		die("no mount from the parent");
	if (syscall(SYS_move_mount, mnt_fd, "", AT_FDCWD, mountpoint,
		    MOVE_MOUNT_F_EMPTY_PATH))
		die("move_mount onto the mountpoint");
	close(mnt_fd);
	close(fs_fd);
	close(sock);
	execvp(cmd[0], cmd);
	die(cmd[0]);
}

static void parent(int sock, pid_t pid, int delegate)
{
	static const char *const opts[] = {
		"delegate_cmds", "delegate_maps", "delegate_progs",
		"delegate_attachs"
	};
	char path[64];
	int fs_fd, mnt_fd;
	size_t i;

	recv_fd(sock);
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	write_file(path, "deny");
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	write_file(path, "0 0 1");
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	write_file(path, "0 0 1");
	send_fd(sock, -1);
	fs_fd = recv_fd(sock);
	if (fs_fd < 0)
		die("no bpffs context from the child");
	for (i = 0; delegate && i < sizeof(opts) / sizeof(opts[0]); i++)
		if (syscall(SYS_fsconfig, fs_fd, FSCONFIG_SET_STRING, opts[i],
			    "any", 0))
			die(opts[i]);
	if (syscall(SYS_fsconfig, fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		die("fsconfig(FSCONFIG_CMD_CREATE)");
	mnt_fd = syscall(SYS_fsmount, fs_fd, 0, 0);
	if (mnt_fd < 0)
		die("fsmount");
	send_fd(sock, mnt_fd);
	close(mnt_fd);
	close(fs_fd);
}

int main(int argc, char **argv)
{
	int delegate = 1, sv[2], status;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "--no-delegate") == 0) {
		delegate = 0;
		argv++;
		argc--;
	}
	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: delegate [--no-delegate] MOUNTPOINT -- CMD [ARG...]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		child(sv[1], argv[1], argv + 3);
	}
	close(sv[1]);
	parent(sv[0], pid, delegate);
	close(sv[0]);
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
