/* exitsnoop.h - the event exitsnoop.bpf.c sends to exitsnoop.lua. */
#ifndef EXAMPLES_EXITSNOOP_H
#define EXAMPLES_EXITSNOOP_H

#define TASK_COMM_LEN 16

struct event {
	unsigned long long start_time;   /* ns since boot */
	unsigned long long exit_time;    /* ns since boot */
	int pid;
	int tid;
	int ppid;
	int sig;
	int exit_code;
	char comm[TASK_COMM_LEN];
};

#endif
