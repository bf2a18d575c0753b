#!/usr/bin/env lua5.4
--- bashreadline: print the command lines entered in bash, from a uretprobe
-- on readline(). Debian's /bin/bash exports readline itself; for a shell that
-- links libreadline dynamically pass the library with -s.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = ("%s/../lua/?.lua;%s/../lua/?/init.lua;"):format(dir, dir) .. package.path
package.cpath = ("%s/../?.so;"):format(dir) .. package.cpath

local bpf = require "libbpf"
local tool = require "libbpf.tool"
local syms = require "libbpf.syms"

local opts = tool.parse(arg, {
  name = "bashreadline",
  summary = "Print entered bash commands from all running shells: TIME PID COMMAND.",
  options = {
    { "-v", "--verbose", help = "print libbpf's debug output on stderr" },
    { "-s", "--shared", arg = "PATH", default = "/bin/bash",
      help = "binary or library exporting readline (default /bin/bash)" },
    { "-p", "--pid", arg = "PID", type = "integer", help = "trace this shell only" },
    { "-d", "--duration", arg = "SECS", type = "duration", help = "stop after SECS seconds (fractions allowed)" },
  },
})

-- find readline before attaching, to say what is wrong instead of ENOENT
local elf, err = syms.elf(opts.shared)
if not elf then tool.die("bashreadline", err) end
local has_readline = false
for _, s in ipairs(elf.list) do
  if s.name == "readline" then has_readline = true break end
end
if not has_readline then
  tool.die("bashreadline", ("%s does not export readline; pass the library that does " ..
    "with -s (e.g. -s /lib/x86_64-linux-gnu/libreadline.so.8)"):format(opts.shared))
end

if opts.verbose then bpf.set_print(function(_, msg) io.stderr:write(msg) end, "debug") end
local obj = assert(bpf.open(tool.beside("bashreadline.bpf.o")))
if opts.pid then obj.vars.targ_tgid = opts.pid end
assert(obj:load())
-- the section names /bin/bash: retarget it to the binary or library given
assert(obj:attach { uprobe_path = opts.shared })

local function on_event(ev)
  io.stdout:write(("%-9s %-7d %s\n"):format(tool.clock(), ev.pid, ev.str))
  io.stdout:flush()
end

local rb = assert(bpf.ringbuf(obj.maps.events, on_event, { type = "struct event" }))
print(("%-9s %-7s %s"):format("TIME", "PID", "COMMAND"))
io.stdout:flush()
tool.run(function() tool.poll_for(rb, opts.duration) end)
rb:close()
obj:close()
