/* nested.h - nested anonymous unions and structs, several levels deep */
#ifndef __NESTED_H
#define __NESTED_H

struct key {
	union {
		struct {
			__u32 pid;
			__u32 tgid;
		};
		__u64 id;
	};
	union {
		struct {
			__u8 v4[4];
			__u8 pad[12];
		} in4;
		__u8 v6[16];
		struct {
			__u16 w[8];
		};
	} addr;
	struct {
		__u8 proto;
		union {
			__u16 port;
			struct {
				__u8 type;
				__u8 code;
			} icmp;
		};
	} l4;
};

struct tree {
	struct tree_node {
		int value;
		struct tree_node *left, *right;
	} root;
	int count;
};

#endif
