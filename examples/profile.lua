#!/usr/bin/env lua5.4
--- profile: sample on-CPU stacks (user and kernel) at a fixed frequency and
-- print them symbolized, multi-line like bcc's profile or folded (-f) for
-- flame graphs (flamegraph.pl, speedscope, inferno).
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"
local syms = require "libbpf.syms"

local opts = tool.parse(arg, {
  name = "profile",
  positional = "[duration]",
  args = { { "duration", type = "duration" } },
  summary = "Profile CPU usage by sampling stack traces at a timed interval.",
  options = {
    { "-p", "--pid", arg = "PID", type = "integer", help = "profile this process only" },
    { "-F", "--frequency", arg = "HZ", type = "integer", default = 49,
      help = "sample frequency in Hertz (default 49)" },
    { "-c", "--count", arg = "N", type = "integer", help = "sample once every N CPU-clock nanoseconds instead" },
    { "-U", "--user-stacks-only", help = "show stacks from user space only" },
    { "-K", "--kernel-stacks-only", help = "show stacks from kernel space only" },
    { "-I", "--include-idle", help = "include CPU idle stacks" },
    { "-f", "--folded", help = "output folded format, one line per stack" },
    { "-d", "--delimited", help = "insert a delimiter between kernel and user stacks" },
    { "-a", "--annotations", help = "add _[k] annotations to kernel frames" },
  },
  examples = "  profile             # profile stack traces at 49 Hz until Ctrl-C\n" ..
             "  profile -F 99 -f 5  # 99 Hz for 5 seconds, folded output",
})
local duration = opts[1]   -- seconds, fractions allowed

local obj = assert(bpf.open(tool.beside("profile.bpf.o")))
obj.vars.user_stacks_only = opts.user_stacks_only or false
obj.vars.kernel_stacks_only = opts.kernel_stacks_only or false
obj.vars.include_idle = opts.include_idle or false
if opts.pid then obj.vars.targ_tgid = opts.pid end
assert(obj:load())

-- one sampling perf event per CPU, all feeding the same program
local prog = obj.progs.do_perf_event
for cpu = 0, tool.ncpus() - 1 do
  local ev = { type = "software", config = "cpu-clock", cpu = cpu }
  if opts.count then ev.sample_period = opts.count else ev.sample_freq = opts.frequency end
  local link, err = prog:attach_perf_event(ev)
  if not link and not tostring(err):find("No such device") then -- offline CPUs
    tool.die("profile", err)
  end
end

-- read /proc/kallsyms now, while nothing waits: the report after Ctrl-C or
-- the duration would otherwise spend half a second on it before printing
if not opts.user_stacks_only then syms.ksym(0) end

if not opts.folded then
  io.stderr:write(("Sampling at %d Hertz of all threads by user + kernel stack%s... Hit Ctrl-C to end.\n")
    :format(opts.frequency, duration and (" for %g secs"):format(duration) or ""))
end
tool.run(function() tool.sleep(duration or 99999999) end)

local EFAULT = 14
local function missed(id) return id < 0 and id ~= -EFAULT end
local stackmap = obj.maps.stackmap
local function stack_of(id)
  if id < 0 then return {} end
  local raw = stackmap:lookup(id, { raw = true })
  return raw and syms.stack(raw) or {}
end

local procs = {}
local function usym(pid, addr)
  if procs[pid] == nil then procs[pid] = syms.process(pid) or false end
  local name = procs[pid] and procs[pid]:resolve(addr)
  return name or "[unknown]"
end
local function ksym(addr)
  local name = syms.ksym(addr) or "[unknown]"
  return opts.annotations and name .. "_[k]" or name
end

local entries = {}
for k, v in pairs(obj.maps.counts) do entries[#entries + 1] = { k = k, n = v } end
table.sort(entries, function(a, b) return a.n < b.n end)

local delimit = opts.delimited and not (opts.user_stacks_only or opts.kernel_stacks_only)
for _, e in ipairs(entries) do
  local k = e.k
  local kstack, ustack = stack_of(k.kern_stack_id), stack_of(k.user_stack_id)
  if opts.folded then
    local line = { k.name }
    if not opts.kernel_stacks_only then
      if missed(k.user_stack_id) then line[#line + 1] = "[Missed User Stack]"
      else for i = #ustack, 1, -1 do line[#line + 1] = usym(k.pid, ustack[i]) end end
    end
    if not opts.user_stacks_only then
      if delimit and k.kern_stack_id >= 0 and k.user_stack_id >= 0 then line[#line + 1] = "-" end
      if missed(k.kern_stack_id) then line[#line + 1] = "[Missed Kernel Stack]"
      else for i = #kstack, 1, -1 do line[#line + 1] = ksym(kstack[i]) end end
    end
    print(("%s %d"):format(table.concat(line, ";"), e.n))
  else
    if not opts.user_stacks_only then
      if missed(k.kern_stack_id) then print("    [Missed Kernel Stack]")
      else for _, a in ipairs(kstack) do print("    " .. ksym(a)) end end
    end
    if not opts.kernel_stacks_only then
      if delimit and k.user_stack_id >= 0 and k.kern_stack_id >= 0 then print("    --") end
      if missed(k.user_stack_id) then print("    [Missed User Stack]")
      else for _, a in ipairs(ustack) do print("    " .. usym(k.pid, a)) end end
    end
    print(("    %-16s %s (%d)"):format("-", k.name, k.pid))
    print(("        %d\n"):format(e.n))
  end
end
obj:close()
