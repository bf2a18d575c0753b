/*
 * probe.h - what probe.c (bpf.probe, bpf.features) tells the other files
 * about this kernel.
 */
#ifndef LBPF_PROBE_H
#define LBPF_PROBE_H

#include "lbpf.h"

/* NULL when kprobes look available, else the reason in words */
const char *lbpf_kprobe_unavailable(void);
/* NULL, or why programs of section `sec` cannot attach here (kprobes) */
const char *lbpf_section_unavailable(const char *sec);
/* " (fentry/fexit/LSM programs are not available ...: why)" when `prog`'s
 * hook is missing on this kernel, else "" (for load errors) */
const char *lbpf_load_hint(const struct bpf_program *prog);
/* " (what privileges are missing)" after an EPERM, else "" */
const char *lbpf_privilege_hint(int err);
void lbpf_open_probe(lua_State *L);

#endif
