-- Execs by command name, as ebpf_exporter's "execsnoop" example: a per-CPU
-- hash keyed by struct exec_key {char comm[16]} (summed over CPUs), and a
-- ring buffer with one record per exec, counted by comm as its records are
-- consumed; ring buffer records the kernel had no room for are counted by
-- the BPF side in ringbuf_drops and reported as lost samples.
return {
  objects = {
    execs = {
      file = "../execcount.bpf.o",   -- relative to this file
      metrics = {
        counters = {
          { name = "exec_total", help = "Execs by command name (tracepoint sched/sched_process_exec).",
            map = "exec_counts", labels = { { name = "comm", field = "comm", decode = "string" } } },
        },
      },
      ringbufs = {
        { map = "exec_events", type = "struct exec_event", lost_map = "ringbuf_drops",
          count = { name = "exec_events_total", help = "Exec records read from the ring buffer, by command name.",
                    labels = { { name = "comm", field = "comm", decode = "string" } } } },
      },
    },
  },
}
