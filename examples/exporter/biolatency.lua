-- Block I/O latency by disk, as ebpf_exporter's "biolatency" example: issue
-- to completion, a log2 histogram of microseconds per disk filled by
-- examples/biolatency.bpf.c (tp_btf block_rq_issue, block_rq_complete),
-- exported in seconds. The key is the kernel's dev_t (major << 20 | minor),
-- named by the "dev" decoder from /sys/dev/block ("vda", "nvme0n1").
return {
  objects = {
    biolatency = {
      file = "../biolatency.bpf.o",
      vars = { targ_per_disk = true, targ_ms = false },
      metrics = {
        histograms = {
          { name = "bio_latency_seconds", help = "Block I/O latency (issue to completion) by disk.",
            map = "hists", bucket_type = "log2", slots = "slots", bucket_multiplier = 1e-6,
            overflow = true, labels = { { name = "device", decode = "dev" } } },
        },
      },
    },
  },
}
