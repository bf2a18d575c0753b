/* includes.h - #include of a local header (resolved next to this file),
 * system includes ignored, function-like macros and inline functions */
#ifndef __INCLUDES_H
#define __INCLUDES_H

#include <linux/types.h>
#include "included_part.h"
#include "included_part.h"

#define min(a, b) ((a) < (b) ? (a) : (b))
#define ARRAY_LEN(x) (sizeof(x) / sizeof((x)[0]))
#define CAT(a, b) a##b
#define BUF_SIZE min(PART_LEN * 2, 48)

struct with_part {
	struct part p;
	char buf[BUF_SIZE];
	__u32 CAT(fi, eld);
};

static __always_inline int helper(int x)
{
	if (x > 3) {
		return min(x, 10);
	}
	return 0;
}

#endif
