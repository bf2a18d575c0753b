#!/usr/bin/env lua5.4
--- execsnoop: trace exec() calls with their full argument list.
-- Like bcc's and libbpf-tools' execsnoop: PCOMM PID PPID RET ARGS.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"

local opts = tool.parse(arg, {
  name = "execsnoop",
  summary = "Trace exec syscalls: PCOMM PID PPID RET ARGS.",
  options = {
    { "-T", "--time", help = "include a time column (HH:MM:SS)" },
    { "-t", "--timestamp", help = "include a timestamp column (seconds since start)" },
    { "-x", "--fails", help = "include failed exec()s" },
    { "-u", "--uid", arg = "UID", type = "integer", help = "trace this UID only" },
    { "-p", "--pid", arg = "PID", type = "integer", help = "trace execs by this process only" },
    { "-q", "--quote", help = "quote arguments containing spaces" },
    { "-n", "--name", arg = "NAME", help = "only print commands whose name contains NAME" },
    { "-l", "--line", arg = "LINE", help = "only print commands whose arguments contain LINE" },
    { "-U", "--print-uid", help = "print the UID column" },
    { nil, "--max-args", arg = "N", type = "integer", default = 20,
      help = "maximum number of arguments to copy (default 20, at most 60)" },
    { nil, "--pattern", help = "take -n/-l as Lua patterns, not plain text" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
    { nil, "--demo", help = "also run a few commands so something is printed" },
  },
  examples = "  execsnoop              # trace all exec() syscalls\n" ..
             "  execsnoop -x -T        # include failures, with times\n" ..
             "  execsnoop -n '^ls'     # only commands starting with ls",
})

local obj = assert(bpf.open(tool.beside("execsnoop.bpf.o")))
obj.vars.ignore_failed = not opts.fails
obj.vars.max_args = math.max(1, math.min(opts.max_args, 60))
if opts.uid then obj.vars.targ_uid = opts.uid end
if opts.pid then obj.vars.targ_tgid = opts.pid end
assert(obj:load())
assert(obj:attach())

-- The record holds argv as NUL-separated strings, so it is read raw:
-- struct event { int pid, ppid; u32 uid; int retval, args_count; u32 args_size;
--                char comm[16]; char args[]; }
local HEADER = "=i4i4I4i4i4I4c16"
local HEADER_SIZE = HEADER:packsize()
local start = os.time()

local function quote(s)
  if opts.quote and s:find("[%s\"]") then return '"' .. s:gsub('"', '\\"') .. '"' end
  return s
end

local function on_event(data)
  local pid, ppid, uid, ret, count, size, comm = string.unpack(HEADER, data)
  comm = comm:match("^[^%z]*")
  local args = {}
  for a in data:sub(HEADER_SIZE + 1, HEADER_SIZE + size):gmatch("([^%z]*)%z") do
    args[#args + 1] = quote(a)
  end
  if count > #args then args[#args + 1] = "..." end
  local line = table.concat(args, " ")
  if opts.name and not comm:find(opts.name, 1, not opts.pattern) then return end
  if opts.line and not line:find(opts.line, 1, not opts.pattern) then return end
  local cols = {}
  if opts.time then cols[#cols + 1] = ("%-8s"):format(tool.clock()) end
  if opts.timestamp then cols[#cols + 1] = ("%-8.3f"):format(os.time() - start) end
  if opts.print_uid then cols[#cols + 1] = ("%-6d"):format(uid) end
  cols[#cols + 1] = ("%-16s %-6d %-6d %3d %s"):format(comm, pid, ppid, ret, line)
  io.stdout:write(table.concat(cols, " "), "\n")
  io.stdout:flush()
end

local rb = assert(bpf.ringbuf(obj.maps.events, on_event, { raw = true }))

local head = {}
if opts.time then head[#head + 1] = ("%-8s"):format("TIME") end
if opts.timestamp then head[#head + 1] = ("%-8s"):format("TIME(s)") end
if opts.print_uid then head[#head + 1] = ("%-6s"):format("UID") end
head[#head + 1] = ("%-16s %-6s %-6s %3s %s"):format("PCOMM", "PID", "PPID", "RET", "ARGS")
print(table.concat(head, " "))
io.stdout:flush()

if opts.demo then
  -- a few execs of our own, after attaching, so the demo always shows lines
  os.execute("/bin/true marker 1; /bin/echo lua-libbpf demo >/dev/null; /bin/ls -d / >/dev/null")
end

tool.run(function()
  tool.poll_for(rb, opts.duration)
  rb:poll(0)
end)
rb:close()
obj:close()
