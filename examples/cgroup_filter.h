/* SPDX-License-Identifier: GPL-2.0 */
/* The -c/--cgroup filter of the examples (libbpf-tools' option): a task
 * passes when the cgroup v2 it runs in is the given cgroup or below it.
 * libbpf-tools puts the cgroup's fd into a CGROUP_ARRAY and asks
 * bpf_current_task_under_cgroup; here the Lua side sets the cgroup's id (its
 * directory's inode) and depth, and the ancestor of the current task's
 * cgroup at that depth is compared: the same answer without passing an fd. */
#ifndef CGROUP_FILTER_H
#define CGROUP_FILTER_H

const volatile bool filter_cg = false;
const volatile __u64 targ_cgid = 0;
const volatile int targ_cg_level = 0;

static __always_inline bool cgroup_passes(void)
{
	if (!filter_cg)
		return true;
	return bpf_get_current_ancestor_cgroup_id(targ_cg_level) == targ_cgid;
}

#endif
