/* enums.h - enums of every size, 64-bit values, negative values */
#ifndef __ENUMS_H
#define __ENUMS_H

enum state {
	ST_NONE,
	ST_RUNNING = 5,
	ST_DONE,
	ST_LAST = ST_DONE + 10,
};

enum neg { N_MINUS = -1, N_ZERO, N_BIG = 0x7fffffff };

enum u32vals { U_HIGH = 0x80000000, U_MAX = 0xffffffffU };

enum big64 {
	B_ONE = 1ULL << 40,
	B_TWO = 1ULL << 63,
	B_ALL = ~0ULL,
};

enum sbig { SB_NEG = -5, SB_HUGE = 1LL << 40 };

struct uses_enums {
	enum state s;
	enum big64 b;
	enum neg n : 8;
	enum u32vals u : 32;
	enum sbig sb;
	char tail;
};

#endif
