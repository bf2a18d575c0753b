/* tcpstates.h - the event tcpstates.bpf.c sends to tcpstates.lua. */
#ifndef EXAMPLES_TCPSTATES_H
#define EXAMPLES_TCPSTATES_H

#define TASK_COMM_LEN 16

struct event {
	unsigned long long skaddr;
	unsigned long long ts_us;
	unsigned long long delta_us;   /* time in the old state */
	int pid;
	int oldstate;
	int newstate;
	unsigned short family;
	unsigned short sport;
	unsigned short dport;
	/* address bytes in network order, 4 used for AF_INET; u32 words, not
	 * unsigned char, because BTF decoding reads char arrays as C strings */
	unsigned int saddr[4];
	unsigned int daddr[4];
	char task[TASK_COMM_LEN];
};

#endif
