-- spec/compile_spec.lua: bpf.compile (issue 16), BPF C inline in a Lua
-- file, compiled by a real clang against this kernel's BTF.
--
-- The cache and clang choice come from the environment (XDG_CACHE_HOME,
-- LUA_LIBBPF_CACHE, LUA_LIBBPF_CLANG, PATH), which a Lua process cannot
-- change for itself: most cases run a small Lua script in a child process
-- with its own environment and a fresh temporary cache, so that nothing is
-- written to the user's ~/.cache and every run starts from nothing.
local H = require "helpers"
local bpf = require "libbpf"

local LUA = "lua5.4"

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function tmpdir()
  local p = io.popen("mktemp -d /tmp/lbpf-compile-spec.XXXXXX")
  local d = p:read("l")
  p:close()
  return d
end

local function write(path, text, mode)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  if mode then assert(os.execute("chmod " .. mode .. " " .. sh_quote(path))) end
end

local function lua_path()
  local p = io.popen("command -v " .. LUA)
  local s = p:read("l")
  p:close()
  return s
end

-- Run `code` as the file `dir`/`name` in a child Lua with `env` (a list of
-- "VAR=value", "-u VAR" to unset); returns its stdout+stderr and exit code.
local function run_lua(dir, name, code, env, stdin)
  local file = dir .. "/" .. name
  write(file, code)
  local args, sets = {}, {}
  -- env takes its -u options before the assignments
  for _, e in ipairs(env or {}) do
    if e:sub(1, 3) == "-u " then args[#args + 1] = e else sets[#sets + 1] = sh_quote(e) end
  end
  for _, e in ipairs(sets) do args[#args + 1] = e end
  local input = "/dev/null"
  if stdin then
    input = dir .. "/" .. name .. ".in"
    write(input, stdin)
  end
  local cmd = ("cd %s && env %s %s %s < %s 2>&1; echo \"rc=$?\""):format(sh_quote(dir),
    table.concat(args, " "), sh_quote(lua_path()), sh_quote(name), sh_quote(input))
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return out:gsub("rc=%d+\n$", ""), rc
end

-- A clang wrapper that counts its runs in dir/clang-runs.
local function counting_clang(dir)
  local real = assert(require("libbpf.compile").find_clang())
  local path = dir .. "/clang-counting"
  write(path, ("#!/bin/sh\necho run >> %s\nexec %s \"$@\"\n"):format(
    sh_quote(dir .. "/clang-runs"), sh_quote(real)), "755")
  return path
end

local function runs(dir)
  local n = 0
  local f = io.open(dir .. "/clang-runs")
  if not f then return 0 end
  for _ in f:lines() do n = n + 1 end
  f:close()
  return n
end

-- The module paths of this run, for the children.
local function env(dir, extra)
  local e = {"LUA_PATH=" .. (os.getenv("LUA_PATH") or ""), "LUA_CPATH=" .. (os.getenv("LUA_CPATH") or ""),
             "XDG_CACHE_HOME=" .. dir .. "/xdg", "TMPDIR=" .. dir .. "/tmp", "-u LUA_LIBBPF_CACHE",
             "-u LUA_LIBBPF_CLANG"}
  os.execute("mkdir -p " .. sh_quote(dir .. "/tmp"))
  for _, x in ipairs(extra or {}) do e[#e + 1] = x end
  return e
end

local function ls(dir)
  local p = io.popen("find " .. sh_quote(dir) .. " -mindepth 1 2>/dev/null | sort")
  local s = p:read("a")
  p:close()
  return s
end

-- Counts the execs of one path (given with -DTARGET): nothing else on the
-- machine runs it, so the count is exactly ours.
local EXEC_COUNTER = [=[
local bpf = require "libbpf"
local obj = assert(bpf.compile([[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

int calls;

SEC("tracepoint/syscalls/sys_enter_execve")
int count_exec(struct trace_event_raw_sys_enter *ctx)
{
	char want[] = TARGET, got[sizeof(want)];
	int i;

	if (bpf_probe_read_user_str(got, sizeof(got), (void *)ctx->args[0]) != sizeof(want))
		return 0;
	for (i = 0; i < sizeof(want); i++)
		if (got[i] != want[i])
			return 0;
	__sync_fetch_and_add(&calls, 1);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
]], {name = "execcount", defines = {TARGET = '"' .. TARGET_PATH .. '"'}}))
print("opened", obj.loaded)
assert(obj:load())
local links = assert(obj:attach())
for _ = 1, 3 do os.execute(TARGET_PATH) end
print("calls", obj.vars.calls)
for _, l in ipairs(links) do l:destroy() end
obj:close()
]=]

describe("bpf.compile", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() if dir then os.execute("rm -rf " .. sh_quote(dir)) end end)

  it("compiles an inline program counting execs, which loads and counts", function()
    local target = dir .. "/marked-true"
    assert(os.execute("ln -s /bin/true " .. sh_quote(target)))
    local code = EXEC_COUNTER:gsub("TARGET_PATH", ("%q"):format(target))
    local out, rc = run_lua(dir, "count.lua", code, env(dir))
    assert.equal(0, rc, out)
    assert.matches("opened\tfalse\n", out)   -- opened, not loaded
    assert.matches("calls\t3\n", out)
  end)

  it("returns an object as open_buffer does", function()
    local out, rc = run_lua(dir, "object.lua", [=[
local obj = assert(require("libbpf").compile([[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
int x;
SEC("tracepoint/syscalls/sys_enter_getpid")
int tp(void *ctx) { x++; return 0; }
char LICENSE[] SEC("license") = "GPL";
]], {name = "inproc"}))
print(getmetatable(obj).__name, obj.name, obj.loaded, obj.progs.tp ~= nil)
]=], env(dir))
    assert.equal(0, rc, out)
    assert.equal("libbpf.object\tinproc\tfalse\ttrue\n", out)
  end)

  it("reports a C error on the 3rd line of the C text as that line of the Lua file", function()
    local out, rc = run_lua(dir, "tool.lua", [=[
local bpf = require "libbpf"
local obj, err = bpf.compile[[
int a;
int b;
int c oops;
]]
print(err)
-- the C text starting on the line of the call
obj, err = bpf.compile([[int a;
int b;
int c oops;]])
print(err)
obj, err = bpf.compile("int a;\nint b;\nint c oops;\n", {chunkname = "other.lua", line = 40})
print(err)
]=], env(dir))
    assert.equal(0, rc, out)
    assert.matches("bpf%.compile: clang failed %(exit 1%):\ntool%.lua:5:6: error:", out)
    assert.matches("\ntool%.lua:11:6: error:", out)
    assert.matches("\nother%.lua:42:6: error:", out)
  end)

  it("says to install clang when none is found (PATH emptied)", function()
    local out, rc = run_lua(dir, "noclang.lua", [[
local obj, err = require("libbpf").compile("int x;")
print(obj, err)
]], env(dir, {"PATH="}))
    assert.equal(0, rc, out)
    assert.matches("nil\tbpf%.compile: clang not found", out)
    assert.matches("install clang", out)
  end)

  it("makes vmlinux.h from the kernel BTF when there is none on disk", function()
    local cache = dir .. "/xdg/lua-libbpf"
    assert.equal("", ls(dir .. "/xdg"))
    local out, rc = run_lua(dir, "vmlinux.lua", [[
local obj, err = require("libbpf").compile([=[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
int pid;
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p) { pid = BPF_CORE_READ(p, tgid); return 0; }
char LICENSE[] SEC("license") = "GPL";
]=], {keep = "keep", cflags = {"-MD", "-MF", "keep/deps"}})
print(obj, err)
]], env(dir))
    assert.equal(0, rc, out)
    assert.matches("^libbpf%.object", out)
    -- the vmlinux.h clang read is the cache's, made by this compile
    local deps = H.slurp(dir .. "/keep/deps")
    local vmlinux = deps:match("(%S*/vmlinux%.h)")
    assert.is_truthy(vmlinux, deps)
    assert.matches("^" .. cache:gsub("%p", "%%%0") .. "/btf%-%x+/vmlinux%.h$", vmlinux)
  end)

  it("makes vmlinux.h with the cache off, and leaves no temporary files", function()
    local out, rc = run_lua(dir, "nocache.lua", [[
local obj, err = require("libbpf").compile('#include "vmlinux.h"\nstruct task_struct *t;\n')
print(obj, err)
]], env(dir, {"LUA_LIBBPF_CACHE=off"}))
    assert.equal(0, rc, out)
    assert.matches("^libbpf%.object", out)
    assert.equal("", ls(dir .. "/xdg"))
    assert.equal("", ls(dir .. "/tmp"))
  end)

  it("reads a field through CO-RE: BPF_CORE_READ(task, real_parent, tgid) is the parent pid", function()
    local out, rc = run_lua(dir, "core.lua", [[
local bpf = require "libbpf"
local obj = assert(bpf.compile[=[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

const volatile int target_tgid;
int parent_tgid;

SEC("tracepoint/syscalls/sys_enter_openat")
int on_open(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
]=])
local pid = tonumber(io.open("/proc/self/stat"):read("l"):match("^%d+"))
obj.vars.target_tgid = pid
assert(obj:load())
local links = assert(obj:attach())
local ppid = tonumber(io.open("/proc/self/status"):read("a"):match("PPid:%s*(%d+)"))
print("ppid", ppid, "seen", obj.vars.parent_tgid)
for _, l in ipairs(links) do l:destroy() end
]], env(dir))
    assert.equal(0, rc, out)
    local ppid, seen = out:match("ppid\t(%d+)\tseen\t(%d+)")
    assert.is_truthy(ppid, out)
    assert.not_equal("0", ppid)
    assert.equal(ppid, seen)
  end)

  describe("cache", function()
    local SRC = [[
local bpf = require "libbpf"
for _, src in ipairs({...}) do
  local obj, err = bpf.compile("#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\nint " .. src .. ";\n")
  print(obj and "ok" or err)
end
]]

    it("does not run clang for the second compile of the same source", function()
      local e = env(dir, {"LUA_LIBBPF_CLANG=" .. counting_clang(dir)})
      local out, rc = run_lua(dir, "twice.lua", SRC:gsub("{...}", '{"a", "a"}'), e)
      assert.equal(0, rc, out)
      assert.equal("ok\nok\n", out)
      assert.equal(1, runs(dir))
      -- nor when the script runs again (the key has the script's name and
      -- lines in it, through #line)
      out = run_lua(dir, "twice.lua", SRC:gsub("{...}", '{"a", "a"}'), e)
      assert.equal("ok\nok\n", out)
      assert.equal(1, runs(dir))
      -- another source does compile
      out = run_lua(dir, "other.lua", SRC:gsub("{...}", '{"b"}'), e)
      assert.equal("ok\n", out)
      assert.equal(2, runs(dir))
      -- the files: 0600 in a 0700 directory
      local p = io.popen("stat -c '%a %n' " .. sh_quote(dir .. "/xdg/lua-libbpf") .. " "
                         .. sh_quote(dir) .. "/xdg/lua-libbpf/*.o")
      local modes = p:read("a")
      p:close()
      assert.matches("^700 ", modes)
      local n = 0
      for mode in modes:gmatch("\n(%d+) [^\n]*%.o") do assert.equal("600", mode); n = n + 1 end
      assert.equal(2, n)
    end)

    it("does not use a cache directory owned by another user", function()
      local cache = dir .. "/xdg/lua-libbpf"
      assert(os.execute("mkdir -p " .. sh_quote(cache) .. " && chmod 700 " .. sh_quote(cache)
                        .. " && chown 65534 " .. sh_quote(cache)))
      local e = env(dir, {"LUA_LIBBPF_CLANG=" .. counting_clang(dir)})
      local out, rc = run_lua(dir, "other_owner.lua", SRC:gsub("{...}", '{"a", "a"}'), e)
      assert.equal(0, rc, out)
      assert.equal("ok\nok\n", out)
      assert.equal(2, runs(dir))   -- both compiled: nothing cached
      assert.equal("", ls(cache))
    end)

    it("ignores a cache entry owned by another user", function()
      local e = env(dir, {"LUA_LIBBPF_CLANG=" .. counting_clang(dir)})
      -- the same script twice: the key has its name and lines in it
      local out = run_lua(dir, "entry.lua", SRC:gsub("{...}", '{"a"}'), e)
      assert.equal("ok\n", out)
      assert.equal(1, runs(dir))
      assert(os.execute("chown 65534 " .. sh_quote(dir) .. "/xdg/lua-libbpf/*.o"))
      out = run_lua(dir, "entry.lua", SRC:gsub("{...}", '{"a"}'), e)
      assert.equal("ok\n", out)
      assert.equal(2, runs(dir))
      -- and replaced by one of ours, which the next run uses
      out = run_lua(dir, "entry.lua", SRC:gsub("{...}", '{"a"}'), e)
      assert.equal("ok\n", out)
      assert.equal(2, runs(dir))
    end)
  end)

  it("compiles C typed into the REPL with :c into obj", function()
    local out, rc = run_lua(dir, "repl.lua", 'os.exit(require("libbpf.repl").main({"-p"}))', env(dir), [[
:c counter
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
int calls;
SEC("tracepoint/syscalls/sys_enter_execve")
int count(void *ctx) { __sync_fetch_and_add(&calls, 1); return 0; }
char LICENSE[] SEC("license") = "GPL";
.
obj:load()
links = obj:attach()
os.execute("/bin/true")
print("calls", obj.vars.calls > 0)
:c
int x;
int y oops;
.
print("still-alive", obj.name)
]])
    assert.equal(0, rc, out)
    assert.matches("libbpf.object%(counter, libbpf, not loaded, 1 maps, 1 programs%)", out)
    assert.matches("calls\ttrue", out)
    assert.matches(":c:2:6: error: expected ';'", out)
    assert.matches("still%-alive\tcounter", out)   -- obj kept when a snippet fails
  end)

  it("raises on misuse", function()
    assert.error_matches(function() bpf.compile(42) end, "source must be a string")
    assert.error_matches(function() bpf.compile("int x;", {nmae = "x"}) end, "unknown option 'nmae'")
    assert.error_matches(function() bpf.compile("int x;", {cflags = "-O0"}) end,
                         "option 'cflags' must be a table")
  end)
end)
