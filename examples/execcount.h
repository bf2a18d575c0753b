/* execcount.h - what execcount.bpf.c shares with exporter configs. */
#ifndef EXAMPLES_EXECCOUNT_H
#define EXAMPLES_EXECCOUNT_H

#define TASK_COMM_LEN 16

/* key of exec_counts: one series per command name */
struct exec_key {
	char comm[TASK_COMM_LEN];
};

/* one ring buffer record per exec */
struct exec_event {
	__u32 pid;
	__u32 uid;
	char comm[TASK_COMM_LEN];
};

#endif
