/* opensnoop.h - the event opensnoop.bpf.c sends to opensnoop.lua. */
#ifndef EXAMPLES_OPENSNOOP_H
#define EXAMPLES_OPENSNOOP_H

#define TASK_COMM_LEN 16
#define NAME_MAX 255

struct event {
	unsigned long long ts;
	int pid;
	unsigned int uid;
	int ret;
	int flags;
	char comm[TASK_COMM_LEN];
	char fname[NAME_MAX];
};

#endif
