/* ints.h - every predeclared and builtin integer spelling */
#ifndef __INTS_H
#define __INTS_H

struct all_ints {
	char c;
	signed char sc;
	unsigned char uc;
	short s;
	short int si;
	unsigned short us;
	int i;
	unsigned u;
	signed sgn;
	long l;
	long int li;
	unsigned long ul;
	long long ll;
	unsigned long long ull;
	long unsigned int lui;
	_Bool b1;
	bool b2;
	__u8 a1; __s8 a2; __u16 a3; __s16 a4; __u32 a5; __s32 a6; __u64 a7; __s64 a8;
	u8 b_1; s8 b_2; u16 b_3; s16 b_4; u32 b_5; s32 b_6; u64 b_7; s64 b_8;
	size_t sz;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	__be16 be16;
	__be32 be32;
	float fl;
	double db;
};

#endif
