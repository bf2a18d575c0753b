/* runqlat.h - the histogram runqlat.bpf.c fills for runqlat.lua. */
#ifndef EXAMPLES_RUNQLAT_H
#define EXAMPLES_RUNQLAT_H

#define TASK_COMM_LEN 16
#define MAX_SLOTS 26

struct hist {
	unsigned int slots[MAX_SLOTS];
	char comm[TASK_COMM_LEN];
};

#endif
