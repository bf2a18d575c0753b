-- Run-queue latency, as ebpf_exporter's "runqlat" example: the time from a
-- wakeup to the task running, a log2 histogram of microseconds filled by
-- examples/runqlat.bpf.c (tp_btf sched_wakeup, sched_wakeup_new,
-- sched_switch), exported in seconds. The key is -1 (one histogram for
-- everything) and gives no label; the last slot takes everything above.
return {
  objects = {
    runqlat = {
      file = "../runqlat.bpf.o",
      vars = { targ_ms = false },
      metrics = {
        histograms = {
          { name = "run_queue_latency_seconds", help = "Run queue latency (wakeup to running).",
            map = "hists", bucket_type = "log2", slots = "slots", bucket_multiplier = 1e-6,
            overflow = true },
        },
      },
    },
  },
}
