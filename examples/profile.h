/* profile.h - the key profile.bpf.c counts stacks under, for profile.lua. */
#ifndef EXAMPLES_PROFILE_H
#define EXAMPLES_PROFILE_H

#define TASK_COMM_LEN 16
#define MAX_STACK_DEPTH 127

struct key_t {
	unsigned int pid;
	int user_stack_id;   /* -errno when the stack could not be taken */
	int kern_stack_id;
	char name[TASK_COMM_LEN];
};

#endif
