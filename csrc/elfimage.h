/*
 * elfimage.h - reading BPF ELF images (elfcheck.c).
 */
#ifndef LBPF_ELFIMAGE_H
#define LBPF_ELFIMAGE_H

#include <stddef.h>

/* 0 when libbpf can safely parse the ELF in buf, else -1 and a message
 * naming the section at fault */
int lbpf_elf_check(const void *buf, size_t len, char *err, size_t errlen);

#endif
