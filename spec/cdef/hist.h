/* hist.h - histograms in the style of libbpf-tools (biolatency, funclatency) */
#ifndef __HIST_H
#define __HIST_H

#define MAX_SLOTS	27
#define MAX_CPU_NR	128
#define DISK_NAME_LEN	32

enum units {
	NSEC,
	USEC,
	MSEC,
};

struct hist_key {
	__u32 cmd_flags;
	__u32 dev;
};

struct hist {
	__u32 slots[MAX_SLOTS];
	char comm[16];
};

struct cpu_hist {
	__u64 slots[MAX_SLOTS * 2 - 1];
	__u32 cpu;
	enum units unit;
};

struct percpu_hists {
	struct hist h[4];
	__u64 total;
};

#endif
