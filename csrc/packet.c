/*
 * packet.c - `libbpf.socket`: a packet socket (AF_PACKET, SOCK_RAW) bound to
 * one interface, for socket filters (`prog:attach_socket(sock)`), readable
 * from Lua; and the interface name <-> index lookups.
 *
 * Like liolib's files: the handle owns its fd, closes it on close(),
 * __close and __gc, and every method raises on a closed handle.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "interrupt.h"
#include "lbpf.h"
#include "packet.h"

#define LBPF_SOCKET "libbpf.socket"
/* a frame on any interface fits (64 KiB GSO frames on lo included) */
#define RECV_MAX 65536

struct lbpf_socket {
	int fd;                 /* -1 once closed */
	int ifindex;
	char ifname[IF_NAMESIZE];
	int protocol;           /* host order, ETH_P_* */
};

static struct lbpf_socket *socket_check(lua_State *L, int idx)
{
	struct lbpf_socket *s = luaL_checkudata(L, idx, LBPF_SOCKET);

	if (s->fd < 0)
		luaL_error(L, "attempt to use a closed socket");
	return s;
}

int lbpf_socket_fd(lua_State *L, int idx)
{
	if (!luaL_testudata(L, idx, LBPF_SOCKET))
		return -1;
	return socket_check(L, idx)->fd;
}

/* protocol = "all" | "ip" | "ipv6" | "arp" | an EtherType number */
static int socket_protocol(lua_State *L, int idx)
{
	static const char *const names[] = {"all", "ip", "ipv6", "arp", NULL};
	static const int values[] = {ETH_P_ALL, ETH_P_IP, ETH_P_IPV6, ETH_P_ARP};
	lua_Integer n;

	lua_getfield(L, idx, "protocol");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return ETH_P_ALL;
	}
	if (lua_type(L, -1) == LUA_TSTRING) {
		int i = luaL_checkoption(L, -1, NULL, names);

		lua_pop(L, 1);
		return values[i];
	}
	if (!lua_isinteger(L, -1))
		luaL_error(L, "packet_socket: protocol must be a name (all, ip, "
			   "ipv6, arp) or an EtherType number, got %s",
			   luaL_typename(L, -1));
	n = lua_tointeger(L, -1);
	if (n < 0 || n > 0xffff)
		luaL_error(L, "packet_socket: protocol %I out of range "
			   "(0..0xffff)", (LUAI_UACINT)n);
	lua_pop(L, 1);
	return (int)n;
}

/* bpf.packet_socket(ifname [, {protocol=}]) */
static int packet_socket_new(lua_State *L)
{
	static const char *const opts[] = {"protocol", NULL};
	const char *ifname = luaL_checkstring(L, 1);
	struct sockaddr_ll addr;
	struct lbpf_socket *s;
	int protocol = ETH_P_ALL, err;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lbpf_check_options(L, 2, "packet_socket", opts);
		protocol = socket_protocol(L, 2);
	}
	if (strlen(ifname) >= IF_NAMESIZE)
		return luaL_error(L, "packet_socket: interface name '%s' is "
				  "too long", ifname);
	/* the handle first, so no fd can leak if this allocation fails */
	s = lua_newuserdatauv(L, sizeof(*s), 0);
	s->fd = -1;
	luaL_setmetatable(L, LBPF_SOCKET);
	s->ifindex = (int)if_nametoindex(ifname);
	if (!s->ifindex)
		return lbpf_push_error(L, errno, "packet_socket: no interface "
				       "'%s'", ifname);
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	s->protocol = protocol;
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(protocol));
	if (s->fd < 0)
		return lbpf_push_error(L, errno, "packet_socket on '%s'",
				       ifname);
	memset(&addr, 0, sizeof(addr));
	addr.sll_family = AF_PACKET;
	addr.sll_protocol = htons(protocol);
	addr.sll_ifindex = s->ifindex;
	if (bind(s->fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = errno;
		close(s->fd);
		s->fd = -1;
		return lbpf_push_error(L, err, "packet_socket: bind to '%s'",
				       ifname);
	}
	return 1;
}

/* Wait up to `ms` (negative: forever) for the socket to be readable;
 * 1 when readable, -1 with errno EINTR when a stop signal came since
 * lbpf_interrupt_seq was `seq`, even just before the wait (interrupt.c). */
static int socket_wait(int fd, int ms, sig_atomic_t seq)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};
	int r = lbpf_interrupt_ppoll(&pfd, 1, ms < 0 ? NULL : &ts, seq);

	return r > 0 ? 1 : (r < 0 ? -1 : 0);
}

static int socket_timeout_ms(lua_State *L, int idx)
{
	lua_Number sec;

	if (lua_isnoneornil(L, idx))
		return -1;
	sec = luaL_checknumber(L, idx);
	if (isnan(sec) || sec < 0 || sec > 86400.0 * 24)
		luaL_argerror(L, idx, "timeout must be 0..2073600 seconds");
	return (int)(sec * 1000 + 0.5);
}

/* sock:recv([timeout_seconds [, maxlen]]): the next frame (its bytes from
 * the link-layer header on), or nil, "timed out", ETIMEDOUT. Frames longer
 * than maxlen are cut to maxlen. */
static int socket_recv(lua_State *L)
{
	sig_atomic_t seq = lbpf_interrupt_seq;
	struct lbpf_socket *s = socket_check(L, 1);
	int ms = socket_timeout_ms(L, 2);
	lua_Integer max = luaL_optinteger(L, 3, RECV_MAX);
	luaL_Buffer b;
	ssize_t n;
	char *buf;
	int r;

	luaL_argcheck(L, max > 0 && max <= RECV_MAX, 3,
		      "maxlen must be 1..65536");
	r = socket_wait(s->fd, ms, seq);
	if (r < 0)
		return lbpf_push_error(L, errno, "recv on packet socket '%s'",
				       s->ifname);
	if (r == 0) {
		lua_pushnil(L);
		lua_pushstring(L, "timed out");
		lua_pushinteger(L, ETIMEDOUT);
		return 3;
	}
	buf = luaL_buffinitsize(L, &b, (size_t)max);
	n = recv(s->fd, buf, (size_t)max, MSG_DONTWAIT);
	if (n < 0)
		return lbpf_push_error(L, errno, "recv on packet socket '%s'",
				       s->ifname);
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

static int socket_close(lua_State *L)
{
	struct lbpf_socket *s = luaL_checkudata(L, 1, LBPF_SOCKET);

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return 0;
}

static int socket_tostring(lua_State *L)
{
	struct lbpf_socket *s = luaL_checkudata(L, 1, LBPF_SOCKET);

	if (s->fd < 0)
		lua_pushstring(L, "libbpf.socket (closed)");
	else
		lua_pushfstring(L, "libbpf.socket(packet on %s, fd %d)",
				s->ifname, s->fd);
	return 1;
}

static int socket_field(lua_State *L)
{
	struct lbpf_socket *s = luaL_checkudata(L, 1, LBPF_SOCKET);
	const char *k = lua_tostring(L, 2);

	if (!k)
		return 0;
	if (!strcmp(k, "closed")) {
		lua_pushboolean(L, s->fd < 0);
		return 1;
	}
	if (s->fd < 0)
		return luaL_error(L, "attempt to use a closed socket");
	if (!strcmp(k, "fd"))
		lua_pushinteger(L, s->fd);
	else if (!strcmp(k, "ifname"))
		lua_pushstring(L, s->ifname);
	else if (!strcmp(k, "ifindex"))
		lua_pushinteger(L, s->ifindex);
	else if (!strcmp(k, "protocol"))
		lua_pushinteger(L, s->protocol);
	else
		return 0;
	return 1;
}

/* bpf.if_nametoindex(name) -> index | nil, msg, errno */
static int packet_if_nametoindex(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	unsigned idx;

	if (strlen(name) >= IF_NAMESIZE)
		return lbpf_push_error(L, ENODEV, "no interface '%s'", name);
	idx = if_nametoindex(name);
	if (!idx)
		return lbpf_push_error(L, errno, "no interface '%s'", name);
	lua_pushinteger(L, idx);
	return 1;
}

/* bpf.if_indextoname(index) -> name | nil, msg, errno */
static int packet_if_indextoname(lua_State *L)
{
	lua_Integer idx = luaL_checkinteger(L, 1);
	char name[IF_NAMESIZE];

	if (idx <= 0 || idx > 0x7fffffff || !if_indextoname((unsigned)idx, name))
		return lbpf_push_error(L, idx <= 0 || idx > 0x7fffffff ? ENXIO
				       : errno, "no interface with index %I",
				       (LUAI_UACINT)idx);
	lua_pushstring(L, name);
	return 1;
}

void lbpf_open_packet(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{"__gc", socket_close},
		{"__close", socket_close},
		{"__tostring", socket_tostring},
		{NULL, NULL}
	};
	static const luaL_Reg methods[] = {
		{"recv", socket_recv},
		{"close", socket_close},
		{NULL, NULL}
	};
	static const char *const fields[] = {"fd", "ifname", "ifindex",
		"protocol", "closed", NULL};
	static const luaL_Reg functions[] = {
		{"packet_socket", packet_socket_new},
		{"if_nametoindex", packet_if_nametoindex},
		{"if_indextoname", packet_if_indextoname},
		{NULL, NULL}
	};

	lbpf_new_class(L, LBPF_SOCKET, meta, methods, socket_field);
	lbpf_class_fields(L, LBPF_SOCKET, fields);
	luaL_setfuncs(L, functions, 0);
}
