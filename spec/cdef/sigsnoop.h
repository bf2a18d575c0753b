/* sigsnoop.h - libbpf-tools/sigsnoop.h, with a conditional member */
#ifndef __SIGSNOOP_H
#define __SIGSNOOP_H

#define TASK_COMM_LEN	16
#define WITH_SIG_NAME	1

struct event {
	__u32 pid;
	__u32 tpid;
	int sig;
	int ret;
#if WITH_SIG_NAME && defined(TASK_COMM_LEN)
	char sig_name[8];
#else
	char unused[100];
#endif
#ifdef NOT_DEFINED
	long removed;
#elif TASK_COMM_LEN > 8
	char comm[TASK_COMM_LEN];
#endif
};

#endif /* __SIGSNOOP_H */
