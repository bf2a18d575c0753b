// SPDX-License-Identifier: GPL-2.0
/* biolatency: block I/O latency, issue (or insert with -Q) to completion,
 * as a log2 histogram, in all or per disk. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "biolatency.h"
#include "cgroup_filter.h"
#include "bits.bpf.h"

#define MINORBITS 20

const volatile bool targ_per_disk = false;
const volatile bool targ_per_flag = false;
const volatile bool targ_ms = false;
const volatile bool targ_queued = false;
const volatile __u32 targ_dev = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);	/* cmd_flags (with -F) << 32 | dev (with -D) */
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero;

static __always_inline __u32 rq_dev(struct request *rq)
{
	struct gendisk *disk = BPF_CORE_READ(rq, q, disk);

	if (!disk)
		return 0;
	return ((__u32)BPF_CORE_READ(disk, major) << MINORBITS) |
	       (__u32)BPF_CORE_READ(disk, first_minor);
}

static __always_inline int trace_rq_start(struct request *rq, bool insert)
{
	__u64 key = (__u64)rq, ts;

	if (insert != targ_queued)
		return 0;
	if (targ_dev && rq_dev(rq) != targ_dev)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &key, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert, struct request *rq)
{
	if (!cgroup_passes())
		return 0;
	return trace_rq_start(rq, true);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue, struct request *rq)
{
	if (!cgroup_passes())
		return 0;
	return trace_rq_start(rq, false);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, int error,
	     unsigned int nr_bytes)
{
	__u64 key = (__u64)rq, *tsp;
	struct gendisk *disk;
	struct hist *histp;
	__s64 delta;
	__u64 hkey;

	if (!cgroup_passes())
		return 0;
	tsp = bpf_map_lookup_elem(&start, &key);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	if (delta < 0)
		goto cleanup;
	hkey = targ_per_disk ? rq_dev(rq) : (__u32)-1;
	if (targ_per_flag)
		hkey |= (__u64)BPF_CORE_READ(rq, cmd_flags) << 32;
	histp = bpf_map_lookup_elem(&hists, &hkey);
	if (!histp) {
		bpf_map_update_elem(&hists, &hkey, &zero, BPF_NOEXIST);
		histp = bpf_map_lookup_elem(&hists, &hkey);
		if (!histp)
			goto cleanup;
		disk = BPF_CORE_READ(rq, q, disk);
		if (targ_per_disk && disk)
			bpf_probe_read_kernel_str(&histp->disk, sizeof(histp->disk),
						  disk->disk_name);
	}
	log2_hist_add(histp->slots, MAX_SLOTS, delta, targ_ms);
cleanup:
	bpf_map_delete_elem(&start, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
