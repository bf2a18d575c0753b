/* packed.h - packed records, packed members, packed bitfields */
#ifndef __PACKED_H
#define __PACKED_H

struct hdr {
	__u8 type;
	__u32 len;
	__u16 flags;
	__u64 ts;
} __attribute__((packed));

struct __attribute__((__packed__)) wire {
	__u8 a;
	__u16 b;
	__u8 c : 3;
	__u32 d : 20;
	__u64 e : 33;
	char tail[3];
};

struct outer {
	char c;
	struct hdr h;        /* packed struct: alignment 1 */
	int x;
};

struct pm {
	char c;
	int x __attribute__((packed));
	short s;
};

#endif
