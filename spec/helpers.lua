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

--- Number of open fds of this process that hold kernel BPF/perf/epoll
-- objects (anon inodes: bpf-map, bpf-prog, bpf_link, btf, perf_event, ...):
-- the fds this module creates. Plain files and pipes are left out, so that
-- busted's own files and the listing pipe do not blur a leak count.
function M.fd_count()
  local n = 0
  local p = io.popen("ls -l /proc/" .. M.pid() .. "/fd")
  for line in p:lines() do
    if line:find("anon_inode:", 1, true) then n = n + 1 end
  end
  p:close()
  return n
end

--- What fd `n` of this process is ("anon_inode:[eventpoll]", a path...).
function M.fd_target(n)
  local p = io.popen(("readlink /proc/%d/fd/%d"):format(M.pid(), n))
  local s = p:read("l")
  p:close()
  return s
end

--- Number of mappings in this process whose line in /proc/self/maps
-- holds `needle` (plain text).
function M.mappings(needle)
  local n = 0
  for line in io.lines("/proc/self/maps") do
    if line:find(needle, 1, true) then n = n + 1 end
  end
  return n
end

--- Number of mappings of BPF maps (ring buffers, mmap'ed globals) in this
-- process.
function M.bpf_mappings() return M.mappings("anon_inode:bpf-map") end

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

--- A UDP socket bound to 127.0.0.1 (1 s receive timeout) and its port.
function M.udp_receiver()
  local r = assert(require("socket").udp())
  assert(r:setsockname("127.0.0.1", 0))
  r:settimeout(1)
  local _, port = r:getsockname()
  return r, math.tointeger(tonumber(port))
end

--- Send `n` UDP packets to 127.0.0.1:`port`: `payload`, or "packet <i>".
function M.send_udp(port, n, payload)
  local s = assert(require("socket").udp())
  for i = 1, n do assert(s:sendto(payload or "packet " .. i, "127.0.0.1", port)) end
  s:close()
end

--- Receive `n` packets on `r` (each must arrive).
function M.drain_udp(r, n)
  for _ = 1, n do assert(r:receive()) end
end

--- What `tc qdisc show dev <dev>` prints.
function M.qdiscs(dev)
  local p = io.popen("tc qdisc show dev " .. dev)
  local out = p:read("a")
  p:close()
  return out
end

--- What `tc filter show dev <dev> <hook>` prints ("" without a clsact qdisc).
function M.tc_filters(dev, hook)
  local p = io.popen(("tc filter show dev %s %s 2>/dev/null"):format(dev, hook))
  local out = p:read("a")
  p:close()
  return out
end

--- Seconds since some fixed point, with sub-second resolution.
function M.now() return require("socket").gettime() end

--- Call `pred` until it returns a true value (returned) or `seconds` pass:
-- then fail the spec with "timed out after N s waiting for <what>" (and
-- `detail()` when given). Every wait of the specs goes through here, so none
-- can hang.
function M.wait_until(pred, seconds, what, detail)
  local deadline = M.now() + seconds
  while true do
    local v = pred()
    if v then return v end
    if M.now() > deadline then
      error(("timed out after %g s waiting for %s%s"):format(seconds, what,
        detail and (": " .. tostring(detail())) or ""), 2)
    end
    require("socket").sleep(0.02)
  end
end

--- A name unique to this test run (`make test` sets LBPF_SPEC_RUN; a spec
-- file run alone falls back to this process's pid), for the things a run
-- creates outside its own namespaces (cgroups): two runs never share one,
-- and the final host-state check finds leftovers by it.
function M.run_id()
  return os.getenv("LBPF_SPEC_RUN") or ("lbpfpid" .. M.pid())
end

--- The cgroup v2 mount point, from /proc/mounts.
function M.cgroup2_root()
  for line in io.lines("/proc/mounts") do
    local dir, fstype = line:match("^%S+ (%S+) (%S+)")
    if fstype == "cgroup2" then return dir end
  end
end

--- Make a cgroup named after this run and `tag`; returns its path.
function M.make_cgroup(tag)
  local root = assert(M.cgroup2_root(), "no cgroup2 mount")
  local cg = ("%s/lua_libbpf_%s_%s"):format(root, M.run_id(), tag)
  assert(os.execute("mkdir -p " .. cg))
  return cg
end

--- Remove a cgroup made by make_cgroup, first moving any process still in it
-- to the root (rmdir fails on a populated cgroup).
function M.remove_cgroup(cg)
  local root = M.cgroup2_root()
  local f = io.open(cg .. "/cgroup.procs")
  if not f then return end
  for pid in f:lines() do
    local to = io.open(root .. "/cgroup.procs", "w")
    if to then to:write(pid) to:close() end
  end
  f:close()
  M.wait_until(function() return os.execute("rmdir " .. cg .. " 2>/dev/null") end, 5,
               "rmdir " .. cg)
end

--- Whether a path exists (pins cannot be open()ed: ask test(1)).
function M.exists(path)
  return os.execute("test -e " .. path) == true
end

--- Contents of a file, "" when it does not exist or cannot be read (a
-- /proc/PID file opened just before its process ended).
function M.slurp(path)
  local f = io.open(path)
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s or ""
end

--- Run `call()` until a finalizer runs inside it (at most 200 calls), with
-- the collector's cycles back to back and a finalizer that comes back every
-- cycle; that finalizer runs `inside()` once. Returns the last call's
-- result and `{inside()}`, or nil as the second when no finalizer ran
-- inside a call. Fetch what `call` uses before: fetching may allocate.
function M.finalizer_during(call, inside)
  collectgarbage()
  local pause, stepmul = collectgarbage("setpause", 0), collectgarbage("setstepmul", 1000)
  local calling, got = false, nil
  local mt = {}
  mt.__gc = function()
    if calling then got = got or {inside()}
    elseif not got then setmetatable({}, mt) end
  end
  setmetatable({}, mt)
  local ok, result = pcall(function()
    local r
    calling = true
    for _ = 1, 200 do
      r = call()
      if got then break end
    end
    return r
  end)
  calling = false
  collectgarbage("setpause", pause)
  collectgarbage("setstepmul", stepmul)
  if not ok then error(result, 0) end
  return result, got
end

--- A new temporary file holding the strings given, one after another;
-- returns its path (the caller removes it).
function M.tmpfile(...)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(...)
  f:close()
  return path
end

--- A shell prefix for a command that takes a kernel-wide name, such as
-- examples/tcpcc.lua registering the congestion control lbpf_reno (network
-- namespaces do not part those): the command runs holding a lock every test
-- run on this machine shares (flock on /tmp/lua-libbpf-<name>.lock, waited
-- for up to `secs`), so two suites at once take turns instead of one
-- failing with EEXIST. It ends in `exec `: the command keeps the shell's
-- pid; it and its children hold the lock until the last of them ends.
function M.exclusive(name, secs)
  return ("exec 9>>/tmp/lua-libbpf-%s.lock && flock -w %d 9 && exec "):format(name, secs or 120)
end

--- Start `cmd` (a shell command) in the background, its stdin a FIFO this
-- process writes, stdout+stderr into a file. Returns a handle:
-- h.pid, h:send(text), h:output(), h:wait_output(pattern, secs),
-- h:wait_blocked(wchan_pattern, secs), h:signal(name), h:finish(secs) -> rc,
-- h:cleanup() (kills the process if still running, removes the files).
function M.spawn(cmd)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. " && mkfifo " .. dir .. "/in"))
  local h = {dir = dir, out = dir .. "/out", rcfile = dir .. "/rc"}
  assert(os.execute(("(%s <%s/in >%s 2>&1 & echo $! >%s/pid; wait $!; echo $? >%s) " ..
    ">/dev/null 2>&1 &"):format(cmd, dir, h.out, dir, h.rcfile)))
  -- read-write: opening a FIFO so does not wait for the reader to come
  h.stdin = assert(io.open(dir .. "/in", "r+"))
  h.pid = M.wait_until(function() return tonumber(M.slurp(dir .. "/pid"):match("%d+")) end,
                       10, "the pid of " .. cmd)
  function h.output() return M.slurp(h.out) end
  function h.send(_, text)
    assert(h.stdin, "stdin already closed")
    h.stdin:write(text)
    h.stdin:flush()
  end
  function h.close_stdin()
    if h.stdin then h.stdin:close() h.stdin = nil end
  end
  function h.wait_output(_, pattern, secs)
    return M.wait_until(function() return h.output():find(pattern, 1, true) end,
                        secs or 10, ("%q in the output"):format(pattern), h.output)
  end
  -- wait until the process sleeps in the kernel function matching `wchan`
  -- (e.g. "ep_poll", "pipe_read"): it is then blocked in that syscall
  function h.wait_blocked(_, wchan, secs)
    return M.wait_until(function()
      return M.slurp("/proc/" .. h.pid .. "/wchan"):match(wchan)
    end, secs or 10, ("pid %d to block in %s"):format(h.pid, wchan), function()
      return "wchan=" .. M.slurp("/proc/" .. h.pid .. "/wchan") .. ", output: " .. h.output()
    end)
  end
  function h.signal(_, name)
    assert(os.execute(("kill -%s %d"):format(name, h.pid)))
  end
  function h.finish(_, secs)
    h.close_stdin()
    local rc = M.wait_until(function() return tonumber(M.slurp(h.rcfile):match("%d+")) end,
                            secs or 10, "the end of " .. cmd, h.output)
    return rc
  end
  function h.cleanup()
    h.close_stdin()
    if h.pid and M.slurp(h.rcfile) == "" then os.execute("kill -KILL " .. h.pid .. " 2>/dev/null") end
    os.execute("rm -rf " .. dir)
  end
  return h
end

return M
