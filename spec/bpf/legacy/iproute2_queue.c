/*
 * A queue and a stack in iproute2's convention, with no BTF at all (these
 * objects are built without -g): their values stay raw bytes and integers
 * (spec/qstack_spec.lua). XDP pushes the packet's length to both.
 */
#include "bpf_elf.h"

static long (*bpf_map_push_elem)(void *map, const void *value, __u64 flags) =
	(void *)BPF_FUNC_map_push_elem;

struct sample {
	__u32 len;
	__u32 magic;
	__u64 twice;
};

struct bpf_elf_map SEC("maps") samples = {
	.type = BPF_MAP_TYPE_QUEUE,
	.size_key = 0,
	.size_value = sizeof(struct sample),
	.max_elem = 4,
};

struct bpf_elf_map SEC("maps") lengths = {
	.type = BPF_MAP_TYPE_STACK,
	.size_key = 0,
	.size_value = sizeof(__u32),
	.max_elem = 4,
};

SEC("xdp")
int xdp_push(struct xdp_md *ctx)
{
	struct sample s = {};
	__u32 len = ctx->data_end - ctx->data;

	s.len = len;
	s.magic = 0x51;
	s.twice = (__u64)len * 2;
	bpf_map_push_elem(&samples, &s, 0);
	bpf_map_push_elem(&lengths, &len, 0);
	return XDP_PASS;
}

char __license[] SEC("license") = "GPL";
