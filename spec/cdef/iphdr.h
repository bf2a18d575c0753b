/* iphdr.h - network headers as tc/XDP tools declare them: bitfield order
 * chosen by __BYTE_ORDER__ (clang predefines it for -target bpf) */
#ifndef __IPHDR_H
#define __IPHDR_H

typedef __u16 __sum16;

struct iphdr {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u8	ihl:4,
		version:4;
#elif __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	__u8	version:4,
		ihl:4;
#else
#error "unknown byte order"
#endif
	__u8	tos;
	__be16	tot_len;
	__be16	id;
	__be16	frag_off;
	__u8	ttl;
	__u8	protocol;
	__sum16	check;
	__be32	saddr;
	__be32	daddr;
};

struct tcphdr {
	__be16	source;
	__be16	dest;
	__be32	seq;
	__be32	ack_seq;
#if defined(__LITTLE_ENDIAN_BITFIELD) || __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u16	res1:4, doff:4, fin:1, syn:1, rst:1, psh:1, ack:1, urg:1, ece:1, cwr:1;
#else
	__u16	doff:4, res1:4, cwr:1, ece:1, urg:1, ack:1, psh:1, rst:1, syn:1, fin:1;
#endif
	__be16	window;
	__sum16	check;
	__be16	urg_ptr;
};

#if __has_attribute(packed) || 1
struct flow {
	struct iphdr ip;
	struct tcphdr tcp;
	__u8 payload[];
} __attribute__((packed));
#endif

#endif
