/* macros.h - array sizes from macro arithmetic, shifts, casts, sizeof */
#ifndef __MACROS_H
#define __MACROS_H

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define MAX_ENTRIES	(PAGE_SIZE / 512)
#define NR		((int)(MAX_ENTRIES - 1) * 2 + 3)
#define HALF(x)		((x) / 2)
#define STR_LEN		HALF(64)
#define MASK		(~0U >> 28)
#define NEG		(-(4))
#define POS		(NEG * NEG)
#define TERNARY		(NR > 10 ? 3 : 7)
#define CHARV		('A' - 60)
#define SZ		(sizeof(struct base) * 2)
#define SZ_PTR		sizeof(void *)
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((a) - 1))

struct base {
	__u32 a;
	__u16 b;
};

struct sized {
	char a[MAX_ENTRIES];
	char b[NR];
	char c[STR_LEN];
	char d[MASK];
	char e[POS];
	char f[TERNARY];
	char g[CHARV];
	char h[SZ];
	char i[SZ_PTR];
	char j[ALIGN_UP(13, 8)];
	char k[(unsigned char)300];
	char l[1 << 3 | 1];
	char m[(7 ^ 2) % 4 + !0];
	__u64 n[sizeof(struct base) / sizeof(__u16)];
};

#endif
