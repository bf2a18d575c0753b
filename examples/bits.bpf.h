/* bits.bpf.h - small helpers shared by the example BPF programs. */
#ifndef EXAMPLES_BITS_BPF_H
#define EXAMPLES_BITS_BPF_H

/* floor(log2(v)) for the histogram slot of a latency, 0 for v <= 1 */
static __always_inline __u64 log2l(__u64 v)
{
	__u64 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8)  { v >>= 8;  r += 8; }
	if (v >> 4)  { v >>= 4;  r += 4; }
	if (v >> 2)  { v >>= 2;  r += 2; }
	if (v >> 1)  { r += 1; }
	return r;
}

/* Count a latency of `delta_ns` in a log2 histogram of `nslots` slots, in
 * milliseconds or microseconds; the last slot takes everything above. */
static __always_inline void log2_hist_add(unsigned int *slots, __u32 nslots,
					  __u64 delta_ns, bool ms)
{
	__u64 slot = log2l(delta_ns / (ms ? 1000000U : 1000U));

	if (slot >= nslots)
		slot = nslots - 1;
	__sync_fetch_and_add(&slots[slot], 1);
}

#endif
