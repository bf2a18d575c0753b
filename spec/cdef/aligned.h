/* aligned.h - aligned(N) on records, members and typedefs */
#ifndef __ALIGNED_H
#define __ALIGNED_H

#define CACHELINE 64

typedef __u64 aligned_u64 __attribute__((aligned(8)));
typedef int int16a __attribute__((aligned(16)));

struct counters {
	__u64 hits;
	__u64 misses;
} __attribute__((aligned(CACHELINE)));

struct percpu_slot {
	char tag;
	struct counters c;
	__u32 n __attribute__((aligned(16)));
	int16a w;
};

struct small_aligned {
	char c;
} __attribute__((__aligned__(4)));

struct packed_but_aligned {
	char c;
	int x __attribute__((aligned(4)));
	char d;
} __attribute__((packed));

struct use_typedefs {
	__u32 a;
	aligned_u64 b;
	char c;
};

/* a bare aligned: clang's default for the target (16 on BPF) */
struct default_aligned {
	char c;
} __attribute__((aligned));

struct wide {
	char c;
	__int128 x;
	struct default_aligned da;
};

#endif
