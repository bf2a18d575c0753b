/* bitfields.h - bitfields of every width and type, as clang packs them */
#ifndef __BITFIELDS_H
#define __BITFIELDS_H

struct flags {
	unsigned int a : 1;
	unsigned int b : 2;
	unsigned int c : 29;
	unsigned int d : 4;
	int e : 31;          /* does not fit after d: next unit */
	char f : 3;
	char g : 6;          /* straddles a char: next byte */
	unsigned long long h : 40;
	unsigned long long i : 30;
	unsigned short j : 9;
	_Bool k : 1;
};

struct zero_width {
	char a;
	int : 0;             /* aligns the next field to int */
	char b;
	long long : 0;
	char c : 2;
	unsigned : 3;        /* unnamed: not in BTF, does not align */
	char d : 2;
};

struct mixed {
	__u8 kind : 4, ver : 4;
	__u16 len;
	__u32 id : 20, frag : 12;
	__u64 seq : 48;
	__u16 flags;
};

union bits_u {
	__u32 raw;
	struct {
		__u32 lo : 16;
		__u32 hi : 16;
	};
	__u8 b : 3;
};

#endif
