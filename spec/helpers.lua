--- Helpers shared by the specs.
local M = {}

--- Directory of the compiled spec BPF objects.
M.bpfdir = "spec/bpf/"

--- Path of a spec BPF object by base name ("counter" -> spec/bpf/counter.bpf.o).
function M.obj(name) return M.bpfdir .. name .. ".bpf.o" end

--- Bytes of a file.
function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

--- Number of open fds of this process.
function M.fd_count()
  local n = 0
  local p = io.popen("ls /proc/" .. M.pid() .. "/fd")
  for _ in p:lines() do n = n + 1 end
  p:close()
  return n - 1 -- the ls pipe itself
end

local mypid
--- PID of this Lua process.
function M.pid()
  if not mypid then
    local f = assert(io.open("/proc/self/stat"))
    -- /proc/self is the reader: ask the shell for our parent instead
    f:close()
    local p = io.popen("echo $PPID")
    mypid = tonumber(p:read("l"))
    p:close()
  end
  return mypid
end

--- Run a shell command n times, quietly.
function M.run(cmd, n)
  for _ = 1, n or 1 do os.execute(cmd .. " >/dev/null 2>&1") end
end

--- Full GC, twice (finalizers run in the first, memory goes in the second).
function M.gc()
  collectgarbage("collect")
  collectgarbage("collect")
end

return M
