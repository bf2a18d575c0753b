/* funclatency.h - libbpf-tools/funclatency.h with its units enum */
#ifndef __FUNCLATENCY_H
#define __FUNCLATENCY_H

#define MAX_SLOTS	25

enum units {
	NSEC,
	USEC,
	MSEC,
};

struct hist {
	__u32 slots[MAX_SLOTS];
};

struct args {
	enum units units;
	__u32 targ_tgid;
	__u64 start;
	bool filter_by_tgid;
};

#endif /* __FUNCLATENCY_H */
