/* execsnoop.h - the event execsnoop.bpf.c sends to execsnoop.lua. */
#ifndef EXAMPLES_EXECSNOOP_H
#define EXAMPLES_EXECSNOOP_H

#define TASK_COMM_LEN 16
#define ARGSIZE 128
#define DEFAULT_MAXARGS 20
#define TOTAL_MAX_ARGS 60
#define FULL_MAX_ARGS_ARR (TOTAL_MAX_ARGS * ARGSIZE)
#define LAST_ARG (FULL_MAX_ARGS_ARR - ARGSIZE)

/* args holds args_count NUL-terminated strings back to back, args_size bytes
 * in all: the Lua side reads the record raw and splits on NUL. */
struct event {
	int pid;
	int ppid;
	unsigned int uid;
	int retval;
	int args_count;
	unsigned int args_size;
	char comm[TASK_COMM_LEN];
	char args[FULL_MAX_ARGS_ARR];
};

#endif
