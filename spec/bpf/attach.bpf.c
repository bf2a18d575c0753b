// SPDX-License-Identifier: GPL-2.0
/* One program per attach kind, each counting into `counts` (see the slot
 * numbers below). Used by spec/attach_spec.lua and spec/sys_spec.lua. */
#include "common.h"
#include <bpf/bpf_endian.h>
#include <bpf/usdt.bpf.h>

#define ETH_HLEN 14
#define IPPROTO_UDP 17
#define TC_ACT_OK 0

enum slot {
	PERF = 0, XDP = 1, TC = 2, UPROBE = 3, USDT = 4, USDT_ARG = 5,
	CGROUP = 6, SOCKET = 7, SK_LOOKUP = 8, KPROBE = 9, NSLOTS = 16
};

/* settings[0] = UDP destination port to count, settings[1] = tgid to watch */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NSLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* a struct the BTF introspection spec prints */
struct event {
	__u32 pid;
	char comm[16];
	__u64 ts;
	__u8 flags : 3;
};

struct event last_event = {};

static __u64 config_get(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&settings, &key);

	return v ? *v : 0;
}

static void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static int is_our_tgid(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == config_get(1);
}

/* 1 when [data, end) holds an IPv4 UDP packet to the configured port,
 * starting with the IP header at `ip_off` */
static int is_our_udp(void *data, void *end, __u32 ip_off)
{
	struct iphdr *ip = data + ip_off;
	struct udphdr *udp;

	if ((void *)(ip + 1) > end || ip->version != 4 ||
	    ip->protocol != IPPROTO_UDP)
		return 0;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return 0;
	return bpf_ntohs(udp->dest) == config_get(0);
}

SEC("perf_event")
int on_perf(struct bpf_perf_event_data *ctx)
{
	if (is_our_tgid())
		bump(PERF);
	return 0;
}

SEC("xdp")
int xdp_udp(struct xdp_md *ctx)
{
	if (is_our_udp((void *)(long)ctx->data, (void *)(long)ctx->data_end,
		       ETH_HLEN))
		bump(XDP);
	return XDP_PASS;
}

SEC("tc")
int tc_udp(struct __sk_buff *skb)
{
	if (is_our_udp((void *)(long)skb->data, (void *)(long)skb->data_end,
		       ETH_HLEN))
		bump(TC);
	return TC_ACT_OK;
}

SEC("uprobe")
int on_malloc(struct pt_regs *ctx)
{
	if (is_our_tgid())
		bump(UPROBE);
	return 0;
}

SEC("usdt")
int BPF_USDT(on_usdt, long arg)
{
	__u32 slot = USDT_ARG;
	__u64 v = (__u64)arg;

	bump(USDT);
	bpf_map_update_elem(&counts, &slot, &v, BPF_ANY);
	return 0;
}

/* cgroup_skb sees the packet from the IP header on */
SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;

	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.version != 4 ||
	    ip.protocol != IPPROTO_UDP)
		return 1;
	if (bpf_skb_load_bytes(skb, ip.ihl * 4, &udp, sizeof(udp)))
		return 1;
	if (bpf_ntohs(udp.dest) == config_get(0))
		bump(CGROUP);
	return 1;
}

/* attached to one UDP socket: every packet it receives is ours; keep it */
SEC("socket")
int sock_count(struct __sk_buff *skb)
{
	bump(SOCKET);
	return skb->len;
}

SEC("sk_lookup")
int lookup_count(struct bpf_sk_lookup *ctx)
{
	if (ctx->protocol == IPPROTO_UDP && ctx->local_port == config_get(0))
		bump(SK_LOOKUP);
	return SK_PASS;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task || task->pid != task->tgid)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %s\n", task->tgid, task->comm);
	return 0;
}

SEC("kprobe/do_nanosleep")
int on_kprobe(struct pt_regs *ctx)
{
	bump(KPROBE);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
