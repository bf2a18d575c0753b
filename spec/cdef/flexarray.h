/* flexarray.h - flexible and zero-length arrays */
#ifndef __FLEXARRAY_H
#define __FLEXARRAY_H

struct buf {
	__u32 len;
	__u8 data[];
};

struct msg {
	__u64 id;
	__u16 n;
	__u32 items[];
};

struct gnu_zero {
	int count;
	char payload[0];
};

struct records {
	__u8 kind;
	struct {
		__u32 a;
		__u16 b;
	} rec[];
};

#endif
