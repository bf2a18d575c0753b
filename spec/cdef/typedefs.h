/* typedefs.h - typedef'd anonymous records, chains of typedefs, arrays */
#ifndef __TYPEDEFS_H
#define __TYPEDEFS_H

typedef unsigned int my_u32;
typedef my_u32 count_t;
typedef char name_t[24];
typedef count_t counts_t[3];

typedef struct {
	count_t n;
	name_t name;
	counts_t c;
} rec_t;

typedef union {
	__u64 v;
	double d;
	float f[2];
} num_t;

typedef struct pair {
	rec_t first, second;
	num_t values[2][3];
} pair_t;

#endif
