/* filelife.h - libbpf-tools/filelife.h */
#ifndef __FILELIFE_H
#define __FILELIFE_H

#define DNAME_INLINE_LEN	32
#define TASK_COMM_LEN		16

struct event {
	char file[DNAME_INLINE_LEN];
	char task[TASK_COMM_LEN];
	__u64 delta_ns;
	pid_t tgid;
	/* private */
	void *dentry;
};

struct create_arg {
	__u64 ts;
	void *cwd_vfsmnt;
};

#endif /* __FILELIFE_H */
