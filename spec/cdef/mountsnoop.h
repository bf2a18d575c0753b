/* mountsnoop.h - libbpf-tools/mountsnoop.h: enums, a union of two records */
#ifndef __MOUNTSNOOP_H
#define __MOUNTSNOOP_H

#define TASK_COMM_LEN	16
#define FS_NAME_LEN	8
#define DATA_LEN	512
#define PATH_MAX	4096

enum op {
	MOUNT,
	UMOUNT,
	FSOPEN,
	FSCONFIG,
	FSMOUNT,
	MOVE_MOUNT,
};

struct arg {
	__u64 ts;
	enum op op;
	union {
		struct {
			const char *src;
			const char *dest;
			const char *fs;
			__u64 flags;
			const char *data;
		} mount;
		struct {
			const char *dest;
			__u64 flags;
		} umount;
	};
};

struct event {
	__u64 delta;
	__u64 flags;
	__u32 pid;
	__u32 tid;
	unsigned int mnt_ns;
	int ret;
	char comm[TASK_COMM_LEN];
	char fs[FS_NAME_LEN];
	char src[PATH_MAX];
	char dest[PATH_MAX];
	char data[DATA_LEN];
	enum op op;
};

#endif /* __MOUNTSNOOP_H */
