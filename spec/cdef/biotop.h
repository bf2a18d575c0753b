/* biotop.h - in the style of libbpf-tools/biotop.h */
#ifndef __BIOTOP_H
#define __BIOTOP_H

#define REQ_OP_BITS	8
#define REQ_OP_MASK	((1 << REQ_OP_BITS) - 1)
#define TASK_COMM_LEN	16

struct info_t {
	__u32 pid;
	int rwflag;
	int major;
	int minor;
	char name[TASK_COMM_LEN];
};

struct val_t {
	__u64 bytes;
	__u64 us;
	__u32 io;
};

struct start_req_t {
	__u64 ts;
	__u64 data_len;
};

struct who_t {
	__u32 pid;
	char name[TASK_COMM_LEN];
};

#endif /* __BIOTOP_H */
