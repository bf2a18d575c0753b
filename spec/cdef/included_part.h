/* included_part.h - included twice by includes.h (guarded) */
#ifndef __INCLUDED_PART_H
#define __INCLUDED_PART_H

#define PART_LEN 20

struct part {
	__u16 kind;
	char name[PART_LEN];
};

#endif
