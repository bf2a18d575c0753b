/* ksnoop.h - in the style of bpftool/libbpf-tools ksnoop.h: nested arrays
 * of records with bitfields and a 64-bit enum of flags */
#ifndef __KSNOOP_H
#define __KSNOOP_H

#define MAX_NAME	96
#define MAX_STR		256
#define MAX_VALUES	6
#define MAX_ARGS	(MAX_VALUES - 1)
#define KSNOOP_F_PTR	(1ULL << 0)
#define KSNOOP_F_MEMBER	(1ULL << 1)

enum arg {
	KSNOOP_ARG1,
	KSNOOP_ARG2,
	KSNOOP_ARG3,
	KSNOOP_ARG4,
	KSNOOP_ARG5,
	KSNOOP_RETURN,
};

enum ksnoop_flags {
	KSNOOP_F_RETURN = 1ULL << 35,
	KSNOOP_F_ENTRY = 1ULL << 36,
	KSNOOP_F_CUSTOM = 0x8000000000000000ULL,
};

struct value {
	char name[MAX_STR];
	enum arg base_arg;
	__u32 size;
	__u64 offset;
	__u64 flags;
	__u32 type_id;
	__s32 member_offset : 24;
	__u32 bit_size : 8;
	int predicate_op;
	__u64 predicate_value;
};

struct func {
	char name[MAX_NAME];
	char mod[MAX_NAME];
	__s32 id;
	__u8 nr_args;
	__u64 ip;
};

struct trace {
	int pid;
	__u32 filter_pid;
	__u64 prog_fd;
	__u64 flags;
	struct func func;
	__u8 nr_traces;
	struct value traces[MAX_VALUES];
	__u64 buf_len;
	__u8 buf[MAX_VALUES * MAX_STR];
	enum ksnoop_flags kf;
};

#endif
