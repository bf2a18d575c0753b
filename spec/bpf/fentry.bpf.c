// SPDX-License-Identifier: GPL-2.0
/* fentry and LSM programs: this kernel refuses them; the specs check that the
 * refusal is explained in words. */
#include "common.h"

SEC("fentry/do_nanosleep")
int BPF_PROG(on_nanosleep)
{
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(on_file_open, struct file *file)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
