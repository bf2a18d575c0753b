/* biolatency.h - the histogram biolatency.bpf.c fills for biolatency.lua. */
#ifndef EXAMPLES_BIOLATENCY_H
#define EXAMPLES_BIOLATENCY_H

#define MAX_SLOTS 27
#define DISK_NAME_LEN 32

struct hist {
	unsigned int slots[MAX_SLOTS];
	char disk[DISK_NAME_LEN];
};

#endif
