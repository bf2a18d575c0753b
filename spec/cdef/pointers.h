/* pointers.h - pointers, pointers to functions, to incomplete types */
#ifndef __POINTERS_H
#define __POINTERS_H

struct task_struct;
struct sock;

struct ctx {
	struct task_struct *task;
	struct sock **socks;
	void *data;
	const char *name;
	int (*callback)(void *ctx, int arg);
	void (*handlers[4])(void);
	char (*row)[16];
	__u8 flag;
};

typedef struct ctx ctx_t;
typedef ctx_t *ctx_p;

struct chain {
	ctx_p cur;
	struct chain *next;
	short n;
};

#endif
