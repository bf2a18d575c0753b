/* bashreadline.h - the event bashreadline.bpf.c sends to bashreadline.lua. */
#ifndef EXAMPLES_BASHREADLINE_H
#define EXAMPLES_BASHREADLINE_H

#define TASK_COMM_LEN 16
#define MAX_LINE_SIZE 80

struct event {
	int pid;
	char comm[TASK_COMM_LEN];
	char str[MAX_LINE_SIZE];
};

#endif
