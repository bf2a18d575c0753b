#!/usr/bin/env lua5.4
--- task_iter: every thread with its state and kernel stack, from a task
-- iterator, as libbpf-bootstrap's task_iter prints them. The iterator writes
-- fixed-size `struct task_info` records (task_iter.h); link:read{type=, btf=}
-- splits its output and decodes each through bpf.cdef of the header.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"
local syms = require "libbpf.syms"

local opts = tool.parse(arg, {
  name = "task_iter",
  summary = "List threads: PID TID STATE COMM and (with -s) their kernel stacks.",
  options = {
    { "-p", "--pid", arg = "PID", type = "integer", help = "only the threads of this process" },
    { "-s", "--stacks", help = "print each thread's kernel stack" },
  },
})

local btf = assert(bpf.cdef{ file = tool.beside("task_iter.h") })
local obj = assert(bpf.open(tool.beside("task_iter.bpf.o")))
assert(obj:load())
local it = assert(obj.progs.get_tasks:attach_iter{ pid = opts.pid })
local tasks = assert(it:read{ type = "struct task_info", btf = btf })

-- task->__state bits, as ps shows them
local function state(s)
  if s == 0 then return "R" end
  if s & 0x402 == 0x402 then return "I" end -- TASK_NOLOAD | TASK_UNINTERRUPTIBLE: idle
  if s & 1 ~= 0 then return "S" end
  if s & 2 ~= 0 then return "D" end
  if s & 4 ~= 0 then return "T" end
  if s & 8 ~= 0 then return "t" end
  if s & 0x80 ~= 0 then return "X" end
  return ("0x%x"):format(s)
end

print(("%-7s %-7s %-5s %s"):format("PID", "TID", "STATE", "COMM"))
for _, t in ipairs(tasks) do
  print(("%-7d %-7d %-5s %s"):format(t.pid, t.tid, state(t.state), t.comm))
  if opts.stacks then
    for i = 1, t.kstack_len do
      print("    " .. syms.format(syms.ksym(t.kstack[i])))
    end
  end
end
obj:close()
