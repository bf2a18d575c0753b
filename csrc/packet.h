/*
 * packet.h - `libbpf.socket` (packet.c): packet sockets for socket filters.
 */
#ifndef LBPF_PACKET_H
#define LBPF_PACKET_H

#include "lbpf.h"

/* The fd of the libbpf.socket at idx (raises if it is closed), or -1 when
 * the value there is not a libbpf.socket. */
int lbpf_socket_fd(lua_State *L, int idx);
void lbpf_open_packet(lua_State *L);

#endif
