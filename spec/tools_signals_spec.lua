-- spec/tools_signals_spec.lua: every command-line tool of examples/, row by
-- row, as a real process (issue 19, "a spec per tool"):
--   * a run of -d 0.5 (runqlat and biolatency: "interval 0.5, count 1", as
--     their libbpf-tools twins; profile: its positional duration 0.5, as
--     bcc's) ends 0.5 +- 0.2 s after its header, with combined short flags on
--     the same command line (e.g. runqlat -mT 0.5 1) whose effect shows;
--   * kill -INT <pid> and kill -TERM <pid> each end it within 1 s, exit 0,
--     no process it started is left, and nothing it attached is: the
--     programs and links its fds held (and its children's) are gone from the
--     kernel, no new pin in bpffs, lo's tc filters, qdiscs and XDP as before,
--     no kprobe/uprobe event named after its pid in tracefs;
--   * a name filter with '-' in it (-n, and execsnoop's -l) is a plain
--     substring: it matches a command named with a '-' and nothing else.
-- The tools of a check start at once (startup, verifier and inline compiles
-- overlap) and are then checked one by one. Which tool has which check and
-- why the others have not: the ROWS table (and README's parity table).
local H = require "helpers"
local bpf = require "libbpf"

local LUA = "lua5.4"
-- under make asan every Lua process runs with the sanitizer runtime (slower
-- start, leak check at exit): the bounds of this file stay as they are, the
-- waits for a tool to start get longer
local ASAN = os.getenv("LBPF_ASAN") ~= nil
local START_SECS = ASAN and 120 or 60
-- The time bounds (0.5 +- 0.2 s, 1 s to stop) are make test's. Under make
-- asan every malloc unwinds its stack and each Lua process's exit scans its
-- heap for leaks: exits take seconds (profile's symbolizing report tens),
-- so there the same runs and checks (the sanitizers watch the stop and
-- detach paths) get STOP_SECS and the duration only a lower bound.
local STOP_SECS = ASAN and 60 or 1

local TMP = os.tmpname()
os.remove(TMP)
assert(os.execute("mkdir -p " .. TMP))
-- run-unique names: other suites run execs of their own on this machine
math.randomseed(os.time() + H.pid())
local UNIQ = ("%06d"):format(math.random(0, 999999))

local SLEEPER = H.spawn("exec sleep 600")

-- One row per tool. timed: the -d 0.5 run (args, then patterns its output
-- must show, "!pattern" must not: the combined flags' effect; the flag whose
-- effect shows comes last in its group). signals: args of the runs that get
-- SIGINT/SIGTERM (false: why not). filter: the name-filter runs.
-- ready: what the tool prints once it is attached (from there its duration
-- counts).
local ROWS = {
  { tool = "execsnoop", ready = "PCOMM",
    timed = { "-TU -d 0.5", "TIME%s+UID%s+PCOMM" }, signals = "",
    filter = { "-n", "-l" } },
  { tool = "exitsnoop", ready = "PCOMM",
    timed = { "-xt -d 0.5", "TIME%(s%)%s+PCOMM" }, signals = "" },
  { tool = "exitsnoop_inline", ready = "PCOMM",
    timed = { "-xt -d 0.5", "TIME%(s%)%s+PCOMM" }, signals = "" },
  { tool = "opensnoop", ready = "COMM",
    timed = { "-TU -d 0.5", "TIME%s+UID%s+PID%s+COMM" }, signals = "",
    filter = { "-n" } },
  { tool = "runqlat", ready = "Tracing run queue latency",
    timed = { "-mT 0.5 1", "\n%d%d:%d%d:%d%d\n", "msecs" }, signals = "" },
  { tool = "runqlat_inline", ready = "Tracing run queue latency",
    timed = { "-mT 0.5 1", "\n%d%d:%d%d:%d%d\n", "msecs" }, signals = "" },
  { tool = "biolatency", ready = "Tracing block device I/O",
    timed = { "-mT 0.5 1", "\n%d%d:%d%d:%d%d\n" }, signals = "" },
  { tool = "bashreadline", ready = "COMMAND",
    timed = { "-vd 0.5", "libbpf: " }, signals = "" },
  -- its end prints the report, whose symbolizing grows with the stacks
  -- and binaries sampled (a busy machine, clang running: 1-2 s): the runs
  -- profile this process only (-p), a report of known size
  { tool = "profile", ready = "Sampling at",
    timed = { "-aF 99 -p " .. H.pid() .. " 0.5", "Sampling at 99 Hertz" }, signals = "-p " .. H.pid() },
  { tool = "tcpstates", ready = "SKADDR",
    timed = { "-wT -d 0.5", "TIME%(s%)%s+SKADDR.-%sIP%s+LADDR" }, signals = "" },
  { tool = "tcpstates_inline", ready = "SKADDR",
    timed = { "-wT -d 0.5", "TIME%(s%)%s+SKADDR.-%sIP%s+LADDR" }, signals = "" },
  { tool = "bootstrap", ready = "EVENT",
    timed = { "-vd 0.5", "libbpf: " }, signals = "" },
  -- no flag without a value: the values are given inline instead
  { tool = "sockfilter", ready = "IFACE",
    timed = { "-ilo -Pudp -d0.5", "IFACE%s+PROTO" }, signals = "" },
  -- one-shot: lists the threads and ends (no duration, nothing to stop);
  -- a sleeping process of this spec's has a kernel stack to show
  { tool = "task_iter", ready = "PID", oneshot = true,
    timed = { "-sp " .. SLEEPER.pid, "\n" .. SLEEPER.pid .. "%s+" .. SLEEPER.pid .. "%s+S%s+sleep\n    %S",
              "!\n2%s+2%s+%a%s+kthreadd" },
    signals = false },
  -- one-shot (sends -b bytes, then prints its counts): a run long enough to
  -- be stopped; it runs itself again in a network namespace of its own
  -- (its struct_ops programs stay loaded while it is registered: their
  -- going is the check that lbpf_reno is)
  -- (lbpf_reno is kernel-wide: runs of other suites wait for this one)
  { tool = "tcpcc", ready = "registered: yes", signals = "-b 1099511627776", exclusive = "lbpf_reno" },
  -- a daemon with its own options (--listen, configs), stopped by signals only
  { tool = "exporter", ready = "listening on",
    signals = "--listen 127.0.0.1:0 examples/exporter/execs.lua" },
}

-- ---------------------------------------------------------------------------
-- what a tool leaves behind

local function lines_of(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end

-- every pid below `pid` (children, grandchildren, ...)
local function descendants(pid)
  local kids = {}
  for line in lines_of("ps -e -o pid=,ppid="):gmatch("[^\n]+") do
    local p, pp = line:match("(%d+)%s+(%d+)")
    if p then
      pp = tonumber(pp)
      kids[pp] = kids[pp] or {}
      table.insert(kids[pp], tonumber(p))
    end
  end
  local out, todo = {}, { pid }
  while #todo > 0 do
    local p = table.remove(todo)
    for _, c in ipairs(kids[p] or {}) do
      out[#out + 1] = c
      todo[#todo + 1] = c
    end
  end
  return out
end

-- a process's start time (field 22 of /proc/PID/stat): a pid reused later is
-- another process
local function starttime(pid)
  local stat = H.slurp("/proc/" .. pid .. "/stat")
  return stat:match("^%d+ %b() %S+" .. (" %S+"):rep(18) .. " (%d+)")
end

-- the BPF programs and links the fds of these pids hold (fdinfo)
local function held(pids)
  local progs, links = {}, {}
  for _, pid in ipairs(pids) do
    local out = lines_of(("grep -h -E '^(prog_id|link_id):' /proc/%d/fdinfo/* 2>/dev/null"):format(pid))
    for kind, id in out:gmatch("(%a+)_id:%s*(%d+)") do
      if kind == "prog" then progs[tonumber(id)] = true else links[tonumber(id)] = true end
    end
  end
  return progs, links
end

local function ids(list)
  local set = {}
  for _, v in ipairs(list or {}) do set[v.id] = true end
  return set
end

-- state outside the process that a detach must undo
local function host_state()
  return table.concat({
    "pins: " .. lines_of("find /sys/fs/bpf ! -type d 2>/dev/null | sort"),
    "tc ingress: " .. H.tc_filters("lo", "ingress"),
    "tc egress: " .. H.tc_filters("lo", "egress"),
    "qdiscs: " .. H.qdiscs("lo"),
    "xdp: " .. (lines_of("ip -d link show dev lo"):match("prog/xdp[^\n]*") or "none"),
  }, "\n")
end

local function probe_events(pid)
  local hits = {}
  for _, f in ipairs{"kprobe_events", "uprobe_events"} do
    for line in H.slurp("/sys/kernel/tracing/" .. f):gmatch("[^\n]+") do
      if line:find("_" .. pid .. "_", 1, true) then hits[#hits + 1] = line end
    end
  end
  return table.concat(hits, "\n")
end

-- ---------------------------------------------------------------------------
-- running tools

-- Every run has a mark in its environment, which whatever it starts
-- inherits: a process left behind is found by it even when it left the
-- tool's tree (a daemon, an orphan).
local runs_started = 0
local function start(row, args)
  runs_started = runs_started + 1
  local mark = ("lbpf%s_%d"):format(UNIQ, runs_started)
  local cmd = ("%senv LBPF_TOOL_MARK=%s %s examples/%s.lua %s"):format(
    row.exclusive and H.exclusive(row.exclusive) or "exec ", mark, LUA, row.tool, args)
  return { row = row, args = args, mark = mark, h = H.spawn(cmd) }
end

-- the processes with this run's mark in their environment
local function marked(run)
  local out = lines_of(("grep -lsz 'LBPF_TOOL_MARK=%s$' /proc/[0-9]*/environ"):format(run.mark))
  local pids = {}
  for pid in out:gmatch("/proc/(%d+)/environ") do
    pids[#pids + 1] = pid .. " " .. H.slurp("/proc/" .. pid .. "/cmdline"):gsub("%z", " ")
  end
  return pids
end

local function rc_of(run)
  return tonumber(H.slurp(run.h.rcfile):match("%d+"))
end

-- Poll every run every 10 ms until each has ended (`until_ready`: printed its
-- ready text) or `secs` pass: run.ready_at, run.end_at, run.rc.
local function watch(runs, secs, until_ready)
  local deadline = H.now() + secs
  while H.now() < deadline do
    local pending = 0
    for _, r in ipairs(runs) do
      local now = H.now()
      if not r.ready_at and r.h.output():find(r.row.ready, 1, true) then r.ready_at = now end
      if not r.end_at then
        r.rc = rc_of(r)
        if r.rc then r.end_at = now end
      end
      if r.ready_at and not r.end_at and not r.detach_at then
        local w = H.slurp("/proc/" .. r.h.pid .. "/wchan")
        if w:find("rcu") or w:find("synchroni") then r.detach_at = now end
      end
      if not r.end_at and not (until_ready and r.ready_at) then pending = pending + 1 end
    end
    if pending == 0 then return end
    require("socket").sleep(0.005)
  end
end

-- when the run ended: its wrapper shell wrote the exit status then (the
-- file's mtime), whenever this process looked. The kernel stamps mtimes
-- with its coarse clock (up to a tick behind), so a tool that ends at once
-- may show a few milliseconds below 0.
local function ended_at(run)
  return tonumber(lines_of("stat -c %.9Y " .. run.h.rcfile):match("[%d.]+"))
end

-- A run still going (its check failed, or busted --filter left it alone) is
-- killed with its children: tcpcc's netns child would go on with lbpf_reno
-- registered and its lock held, its parent gone.
local function cleanup(runs)
  for _, r in ipairs(runs or {}) do
    if not rc_of(r) then
      for _, k in ipairs(descendants(r.h.pid)) do os.execute("kill -KILL " .. k .. " 2>/dev/null") end
    end
    r.h.cleanup()
  end
end

local function describe_run(r)
  return ("%s %s (rc %s): %s"):format(r.row.tool, r.args, tostring(r.rc), r.h.output())
end

-- ---------------------------------------------------------------------------

describe("every example tool", function()
  local BEFORE
  setup(function()
    bpf.set_print(function() end)
    BEFORE = host_state()
  end)
  teardown(function()
    SLEEPER.cleanup()
    os.execute("rm -rf " .. TMP)
  end)

  -- One tool at a time: a run's timing is not to suffer from the others'
  -- start (verifier, clang). From its header a tool runs its duration, then
  -- detaches: closing a tracepoint's perf event waits for an RCU grace
  -- period in the kernel (strace shows ~80 ms a close in /usr/sbin/execsnoop
  -- too; opensnoop has four), whose length is the machine's, not the tool's.
  -- So the duration is timed from the header to the tool's first RCU wait
  -- (/proc/PID/wchan, watched every 5 ms; a late look only lengthens it),
  -- or to its exit when it has none; the detaching after it gets 1 s.
  describe("-d 0.5 with combined short flags", function()
    for _, row in ipairs(ROWS) do
      if row.timed then
        it(("%s %s"):format(row.tool, row.timed[1]), function()
          local r = start(row, row.timed[1])
          finally(function() cleanup{ r } end)
          watch({ r }, START_SECS)
          assert.is_not_nil(r.end_at, "did not end: " .. describe_run(r))
          assert.equal(0, r.rc, describe_run(r))
          assert.is_not_nil(r.ready_at, "no " .. row.ready .. ": " .. describe_run(r))
          local out = r.h.output()
          for i = 2, #row.timed do
            local unwanted = row.timed[i]:match("^!(.*)")
            if unwanted then
              assert.is_nil(out:find(unwanted), ("%q in %s"):format(unwanted, describe_run(r)))
            else
              assert.is_truthy(out:find(row.timed[i]), ("no %q in %s"):format(row.timed[i], describe_run(r)))
            end
          end
          if not row.oneshot then
            local exit = ended_at(r)
            local stop = math.min(r.detach_at or exit, exit)
            io.stderr:write(("# %s %s: header to exit %.3f s, to its first RCU wait %s\n"):format(
              row.tool, row.timed[1], exit - r.ready_at,
              r.detach_at and ("%.3f s"):format(r.detach_at - r.ready_at) or "(none)"))
            local lasted = stop - r.ready_at
            assert.is_true(lasted >= 0.3 and (ASAN or lasted <= 0.7),
              ("%s %s stopped %.2f s after its header (0.5 +- 0.2 s); exit after %.2f s")
              :format(row.tool, row.timed[1], lasted, exit - r.ready_at))
            assert.is_true(exit - stop < STOP_SECS, ("detaching took %.2f s"):format(exit - stop))
          end
        end)
      end
    end
  end)

  for _, sig in ipairs{"INT", "TERM"} do
    describe("kill -" .. sig, function()
      local runs = {}
      setup(function()
        local list = {}
        for _, row in ipairs(ROWS) do
          if row.signals then
            runs[row.tool] = start(row, row.signals)
            list[#list + 1] = runs[row.tool]
          end
        end
        watch(list, START_SECS, true)
      end)
      teardown(function()
        local list = {}
        for _, r in pairs(runs) do list[#list + 1] = r end
        cleanup(list)
      end)

      for _, row in ipairs(ROWS) do
        if row.signals then
          it(("ends %s within 1 s, leaving no process and no attachment"):format(row.tool), function()
            local r = runs[row.tool]
            assert.is_not_nil(r.ready_at, "not ready: " .. describe_run(r))
            assert.is_nil(r.rc, "ended by itself: " .. describe_run(r))
            -- what it holds and what it started, while it runs
            local kids = descendants(r.h.pid)
            local started = {}
            for _, k in ipairs(kids) do started[k] = starttime(k) end
            local all = { r.h.pid, table.unpack(kids) }
            local progs, links = held(all)
            assert.is_truthy(next(progs), "holds no BPF program: " .. describe_run(r))
            assert.is_true(#marked(r) >= 1, "the run's mark is not found")

            local t = H.now()
            r.h:signal(sig)
            H.wait_until(function() return rc_of(r) end, STOP_SECS + 4, row.tool .. " to end", r.h.output)
            local took = ended_at(r) - t
            r.rc = rc_of(r)
            io.stderr:write(("# %s: SIG%s -> exit %s in %.3f s\n"):format(row.tool, sig, r.rc, took))
            assert.is_true(took < STOP_SECS, ("%s took %.2f s to end on SIG%s"):format(row.tool, took, sig))
            assert.equal(0, r.rc, describe_run(r))

            local left = {}
            for _, k in ipairs(kids) do
              if started[k] and starttime(k) == started[k] then
                left[#left + 1] = k .. " " .. H.slurp("/proc/" .. k .. "/cmdline"):gsub("%z", " ")
              end
            end
            assert.same({}, left, "processes left running")
            assert.same({}, marked(r), "processes with the run's mark left running")
            -- the kernel frees programs after an RCU grace period (tcpcc's
            -- when the sockets of its dead network namespace are gone): a
            -- bounded wait
            H.wait_until(function()
              local kp, kl = ids(bpf.progs()), ids(bpf.links())
              for id in pairs(progs) do if kp[id] then return false end end
              for id in pairs(links) do if kl[id] then return false end end
              return true
            end, 15, row.tool .. "'s programs and links to go", function()
              local kp, kl, s = ids(bpf.progs()), ids(bpf.links()), {}
              for id in pairs(progs) do if kp[id] then s[#s + 1] = "prog " .. id end end
              for id in pairs(links) do if kl[id] then s[#s + 1] = "link " .. id end end
              return table.concat(s, ", ")
            end)
            assert.equal(BEFORE, host_state())
            assert.equal("", probe_events(r.h.pid))
          end)
        end
      end
    end)
  end

  describe("name filters with '-' in them", function()
    -- an executable named lbpf-x<UNIQ> (a shell script: the comm is its
    -- name), which also opens a file of its own; and lbpf-y<UNIQ>, which
    -- must not show. As a Lua pattern, "pf-x<UNIQ>" would need "pf" then
    -- "x": the '-' in the name would not match.
    local yes, no = "lbpf-x" .. UNIQ, "lbpf-y" .. UNIQ
    local mark = TMP .. "/marked-" .. UNIQ
    local runs = {}
    local CASES = {
      { tool = "execsnoop", args = "-n pf-x" .. UNIQ },
      { tool = "execsnoop", args = "-l arg-" .. UNIQ },
      { tool = "opensnoop", args = "-n pf-x" .. UNIQ },
    }
    setup(function()
      for _, n in ipairs{yes, no} do
        local f = assert(io.open(TMP .. "/" .. n, "w"))
        f:write("#!/bin/sh\n: < " .. mark .. "\n")
        f:close()
      end
      assert(io.open(mark, "w")):close()
      assert(os.execute("chmod +x " .. TMP .. "/" .. yes .. " " .. TMP .. "/" .. no))
      local list = {}
      for i, c in ipairs(CASES) do
        local row
        for _, rw in ipairs(ROWS) do if rw.tool == c.tool then row = rw end end
        runs[i] = start(row, c.args)
        list[i] = runs[i]
      end
      watch(list, START_SECS, true)
      -- the one that must not show first, then the marked one (with an
      -- argument for -l); each tool prints events in order
      os.execute(TMP .. "/" .. no .. " arg_" .. UNIQ)
      os.execute(TMP .. "/" .. yes .. " arg-" .. UNIQ)
    end)
    teardown(function() cleanup(runs) end)

    for i, c in ipairs(CASES) do
      it(("%s %s matches %s and not %s"):format(c.tool, c.args, yes, no), function()
        local r = runs[i]
        assert.is_not_nil(r.ready_at, "not ready: " .. describe_run(r))
        H.wait_until(function() return r.h.output():find(yes, 1, true) end, 10,
          yes .. " in the output of " .. c.tool .. " " .. c.args, r.h.output)
        assert.is_nil(r.h.output():find(no, 1, true), describe_run(r))
      end)
    end
  end)

  it("refuses a bad interval or duration with a usage error (exit 2)", function()
    for _, c in ipairs{
      { "runqlat", "abc", "interval expects a positive number of seconds, got 'abc'" },
      { "biolatency", "1 x", "count expects an integer, got 'x'" },
      { "profile", "soon", "duration expects a positive number of seconds, got 'soon'" },
      { "runqlat", "1 2 3", "unexpected argument '3'" },
      { "execsnoop", "-d 0", "%-%-duration expects a positive number of seconds, got '0'" },
    } do
      local out = lines_of(("%s examples/%s.lua %s 2>&1; echo rc=$?"):format(LUA, c[1], c[2]))
      assert.matches(c[3], out)
      assert.matches("rc=2\n$", out)
    end
  end)
end)

-- ---------------------------------------------------------------------------
-- SIGKILL (or the OOM killer) gives a tool no chance to detach: what it
-- registered must go with its fds. tcpcc's lbpf_reno is a `.struct_ops.link`
-- map (examples/tcpcc.bpf.c): the kernel unregisters it when the link's last
-- fd closes. A `.struct_ops` one would stay, and every later run would fail
-- with EEXIST until `bpftool struct_ops unregister`.

-- the struct_ops maps and the links the fds of these pids hold, by id
-- (fdinfo): maps by id, since other suites' struct_ops_spec runs have maps
-- named lbpf_reno of their own (registered under other names)
local function struct_ops_held(pids)
  local maps, links, fds = {}, {}, {}
  for _, pid in ipairs(pids) do
    local out = lines_of(("grep -H -E '^(map_type|map_id|link_id):' /proc/%d/fdinfo/* 2>/dev/null"):format(pid))
    for file, key, v in out:gmatch("([^\n:]+):(%a+_%a+):%s*(%d+)") do
      fds[file] = fds[file] or {}
      fds[file][key] = tonumber(v)
    end
  end
  for _, f in pairs(fds) do
    if f.link_id then links[f.link_id] = true
    elseif f.map_type == 26 then maps[f.map_id] = true end -- BPF_MAP_TYPE_STRUCT_OPS
  end
  return maps, links
end

-- what bpftool still shows of these map and link ids
local function bpftool_shows(maps, links)
  local s = {}
  for id in pairs(maps) do
    if os.execute(("bpftool struct_ops show id %d >/dev/null 2>&1"):format(id)) then
      s[#s + 1] = "struct_ops map " .. id .. ": " .. lines_of("bpftool struct_ops show id " .. id)
    end
  end
  for id in pairs(links) do
    if os.execute(("bpftool link show id %d >/dev/null 2>&1"):format(id)) then
      s[#s + 1] = "link " .. id .. ": " .. lines_of("bpftool link show id " .. id)
    end
  end
  return table.concat(s, "\n")
end

local AVAILABLE = "/proc/sys/net/ipv4/tcp_available_congestion_control"
local function available(name)
  return (" " .. H.slurp(AVAILABLE):gsub("%s+", " ") .. " "):find(" " .. name .. " ", 1, true) ~= nil
end

describe("kill -KILL", function()
  setup(function() bpf.set_print(function() end) end)

  it("of tcpcc and its netns child leaves no lbpf_reno registered: no struct_ops map, no link", function()
    -- lbpf_reno is kernel-wide: this spec holds the lock other suites' runs
    -- wait for (helpers.lua's exclusive) from before the start until after
    -- the checks, so that no other run registers it meanwhile
    local lock = H.spawn(H.exclusive("lbpf_reno", 130) .. "sh -c 'echo locked; exec sleep 600'")
    local r, maps = nil, {}
    finally(function()
      if r then cleanup{ r } end
      -- a registration the kill left behind (the check failed): taken back
      -- by id, so that later runs do not fail with EEXIST
      for id in pairs(maps) do
        os.execute(("bpftool struct_ops unregister id %d >/dev/null 2>&1"):format(id))
      end
      lock.cleanup()
    end)
    lock:wait_output("locked", 130)
    assert.is_false(available("lbpf_reno"), "lbpf_reno is registered before the run (left by an " ..
      "earlier one? bpftool struct_ops unregister name lbpf_reno): " .. H.slurp(AVAILABLE))

    local row
    for _, rw in ipairs(ROWS) do if rw.tool == "tcpcc" then row = rw end end
    -- started without the lock of its own (this spec holds it)
    r = start({ tool = row.tool, ready = row.ready }, row.signals)
    watch({ r }, START_SECS, true)
    assert.is_not_nil(r.ready_at, "not ready: " .. describe_run(r))
    assert.is_nil(r.rc, "ended by itself: " .. describe_run(r))
    assert.is_true(available("lbpf_reno"), H.slurp(AVAILABLE))
    -- the tool and the child it runs in a network namespace of its own
    -- (which holds the object)
    local kids = descendants(r.h.pid)
    assert.is_true(#kids >= 1, "no netns child: " .. describe_run(r))
    local all = { r.h.pid, table.unpack(kids) }
    local links
    maps, links = struct_ops_held(all)
    assert.is_truthy(next(maps), "holds no struct_ops map: " .. describe_run(r))
    assert.is_true(bpftool_shows(maps, {}) ~= "", "bpftool does not show its struct_ops map")

    local pids = {}
    for i, p in ipairs(all) do pids[i] = tostring(p) end
    assert(os.execute("kill -KILL " .. table.concat(pids, " ")))
    H.wait_until(function() return rc_of(r) end, 10, "tcpcc to end", r.h.output)
    assert.equal(128 + 9, rc_of(r), describe_run(r))
    assert.same({}, marked(r), "processes with the run's mark left running")

    -- the kernel unregisters it as the link's fd closes, and frees the map
    -- once the sockets of the dead network namespace let go of it: a
    -- bounded wait
    H.wait_until(function()
      return not available("lbpf_reno") and bpftool_shows(maps, links) == ""
    end, 20, "lbpf_reno to be unregistered after SIGKILL", function()
      return H.slurp(AVAILABLE) .. bpftool_shows(maps, links)
    end)
  end)
end)
