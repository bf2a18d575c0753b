/* Shared by the spec BPF programs. */
#ifndef SPEC_COMMON_H
#define SPEC_COMMON_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#endif
