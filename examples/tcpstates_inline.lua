#!/usr/bin/env lua5.4
--- tcpstates_inline: tcpstates.lua with its BPF C inline (issue 16), one file to copy
-- and change; bpf.compile builds it with clang against this kernel's BTF at
-- start (cached in ~/.cache/lua-libbpf after the first run). The network tool.
-- Otherwise as tcpstates.lua: trace TCP state changes with the time spent in each state.
-- Columns like libbpf-tools' tcpstates.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"

local opts = tool.parse(arg, {
  name = "tcpstates_inline",
  summary = "Trace TCP session state changes and durations.",
  options = {
    { "-4", "--ipv4", help = "trace IPv4 only" },
    { "-6", "--ipv6", help = "trace IPv6 only" },
    { "-T", "--timestamp", help = "include a timestamp column (seconds)" },
    { "-w", "--wide", help = "wide column output (fits IPv6 addresses)" },
    { "-L", "--localport", arg = "PORT", type = "integer", help = "trace this local port only" },
    { "-D", "--remoteport", arg = "PORT", type = "integer", help = "trace this remote port only" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
  },
})

local STATES = { "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
  "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV" }
local AF_INET, AF_INET6 = 2, 10

-- SPDX-License-Identifier: GPL-2.0 (the BPF C below)
local obj = assert(bpf.compile([[
/* tcpstates: TCP state changes with the time spent in the previous state,
 * from the sock/inet_sock_set_state tracepoint. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16

struct event {
	unsigned long long skaddr;
	unsigned long long ts_us;
	unsigned long long delta_us;   /* time in the old state */
	int pid;
	int oldstate;
	int newstate;
	unsigned short family;
	unsigned short sport;
	unsigned short dport;
	/* address bytes in network order, 4 used for AF_INET; u32 words, not
	 * unsigned char, because BTF decoding reads char arrays as C strings */
	unsigned int saddr[4];
	unsigned int daddr[4];
	char task[TASK_COMM_LEN];
};

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_CLOSE 7

const volatile bool filter_by_sport = false;
const volatile bool filter_by_dport = false;
const volatile unsigned short target_family = 0;
const volatile unsigned short target_sport = 0;
const volatile unsigned short target_dport = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} timestamps SEC(".maps");

/* keeps struct event in the object's BTF, so that the Lua side can decode
 * ring buffer records by name: bpf.ringbuf(map, cb, {type = "struct event"}) */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 skaddr = (__u64)ctx->skaddr, ts, *start;
	struct event *ev;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (target_family && target_family != ctx->family)
		return 0;
	if (filter_by_sport && ctx->sport != target_sport)
		return 0;
	if (filter_by_dport && ctx->dport != target_dport)
		return 0;

	ts = bpf_ktime_get_ns();
	start = bpf_map_lookup_elem(&timestamps, &skaddr);
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (ev) {
		ev->skaddr = skaddr;
		ev->ts_us = ts / 1000;
		ev->delta_us = start ? (ts - *start) / 1000 : 0;
		ev->pid = bpf_get_current_pid_tgid() >> 32;
		ev->oldstate = ctx->oldstate;
		ev->newstate = ctx->newstate;
		ev->family = ctx->family;
		ev->sport = ctx->sport;
		ev->dport = ctx->dport;
		bpf_get_current_comm(&ev->task, sizeof(ev->task));
		if (ctx->family == AF_INET) {
			/* a helper copy: the verifier refuses the variable
			 * ctx offset a memcpy from ctx compiles to */
			bpf_probe_read_kernel(ev->saddr, 4, ctx->saddr);
			bpf_probe_read_kernel(ev->daddr, 4, ctx->daddr);
		} else {
			bpf_probe_read_kernel(ev->saddr, 16, ctx->saddr_v6);
			bpf_probe_read_kernel(ev->daddr, 16, ctx->daddr_v6);
		}
		bpf_ringbuf_submit(ev, 0);
	}
	if (ctx->newstate == TCP_CLOSE)
		bpf_map_delete_elem(&timestamps, &skaddr);
	else
		bpf_map_update_elem(&timestamps, &skaddr, &ts, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
]], {name = "tcpstates"}))
if opts.ipv4 then obj.vars.target_family = AF_INET end
if opts.ipv6 then obj.vars.target_family = AF_INET6 end
if opts.localport then obj.vars.filter_by_sport = true; obj.vars.target_sport = opts.localport end
if opts.remoteport then obj.vars.filter_by_dport = true; obj.vars.target_dport = opts.remoteport end
assert(obj:load())
assert(obj:attach())

-- an address member is 4 u32 words holding the bytes in network order
local function bytes(words)
  return { string.pack("=I4I4I4I4", table.unpack(words, 1, 4)):byte(1, -1) }
end
local function ip(family, a)
  local b = bytes(a)
  if family == AF_INET then return ("%d.%d.%d.%d"):format(b[1], b[2], b[3], b[4]) end
  local groups = {}
  for i = 1, 16, 2 do groups[#groups + 1] = ("%x"):format((b[i] << 8) | b[i + 1]) end
  -- RFC 5952: the longest run of two or more zero groups becomes "::"
  local text = ":" .. table.concat(groups, ":") .. ":"
  for n = 8, 2, -1 do
    local zeros = (":0"):rep(n) .. ":"
    local i = text:find(zeros, 1, true)
    if i then
      text = text:sub(1, i - 1) .. "::" .. text:sub(i + #zeros)
      break
    end
  end
  text = text:gsub("^:([^:])", "%1"):gsub("([^:]):$", "%1")
  return text
end

local width = opts.wide and 39 or 15
local row = "%-16x %-7d %-16s %-2d %-" .. width .. "s %-5d %-" .. width .. "s %-5d %-11s -> %-11s %.3f"
local start
local function on_event(ev)
  local cols = {}
  start = start or ev.ts_us
  if opts.timestamp then cols[#cols + 1] = ("%8.6f"):format((ev.ts_us - start) / 1e6) end
  cols[#cols + 1] = row:format(ev.skaddr, ev.pid, ev.task, ev.family == AF_INET and 4 or 6,
    ip(ev.family, ev.saddr), ev.sport, ip(ev.family, ev.daddr), ev.dport,
    STATES[ev.oldstate] or tostring(ev.oldstate), STATES[ev.newstate] or tostring(ev.newstate),
    ev.delta_us / 1000)
  io.stdout:write(table.concat(cols, " "), "\n")
  io.stdout:flush()
end

local rb = assert(bpf.ringbuf(obj.maps.events, on_event, { type = "struct event" }))
if opts.timestamp then io.stdout:write(("%8s "):format("TIME(s)")) end
print((("%-16s %-7s %-16s %-2s %-" .. width .. "s %-5s %-" .. width .. "s %-5s %-11s -> %-11s %s"))
  :format("SKADDR", "PID", "COMM", "IP", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE", "MS"))
io.stdout:flush()

tool.run(function() tool.poll_for(rb, opts.duration) end)
rb:close()
obj:close()
