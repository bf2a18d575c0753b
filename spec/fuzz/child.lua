--- Runs a fuzzer child process and says how it ended (issue 13). A crash
-- kills the child, not the spec: the child logs each call before making it,
-- so the tail of its log names the call that crashed.
local M = {}

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function tail(s, n)
  local lines = {}
  for l in s:gmatch("[^\n]+") do
    lines[#lines + 1] = l
    if #lines > n then table.remove(lines, 1) end
  end
  return table.concat(lines, "\n")
end
M.tail = tail

--- Seeds from FUZZ_SEEDS ("1 2 3" or "1-10"), else the default list.
function M.seeds(default)
  local s = os.getenv("FUZZ_SEEDS")
  if not s or s == "" then return default end
  local l = {}
  local a, b = s:match("^(%d+)%-(%d+)$")
  if a then
    for i = tonumber(a), tonumber(b) do l[#l + 1] = i end
  else
    for n in s:gmatch("%d+") do l[#l + 1] = tonumber(n) end
  end
  return l
end

function M.env_number(name, default)
  return tonumber(os.getenv(name) or "") or default
end

--- A fresh directory on bpffs for the pins of one run.
function M.bpffs_dir()
  local dir = ("/sys/fs/bpf/lua_libbpf_fuzz_%d_%d"):format(
    math.floor(os.time() % 100000), math.random(1, 1e9))
  os.execute("mkdir -p " .. dir)
  return dir
end

function M.rm_dir(dir)
  os.execute("rm -rf " .. sh_quote(dir) .. " 2>/dev/null")
end

--- Run `lua5.4 script args...` with a time limit, in a private network
-- namespace when possible (XDP/tc on its own `lo`), under ASan when
-- FUZZ_ASAN names a directory holding an ASan build of libbpf/core.so.
-- Returns {ok=, status=, out=, log=} where ok means the child printed
-- "FUZZ DONE" and exited 0.
function M.run(script, args, logfile, seconds)
  local env = {}
  local asan = os.getenv("FUZZ_ASAN")
  if asan and asan ~= "" then
    local p = io.popen("cc -print-file-name=libasan.so")
    local lib = p:read("l")
    p:close()
    env[#env + 1] = "LD_PRELOAD=" .. sh_quote(lib)
    env[#env + 1] = "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:print_summary=1"
    env[#env + 1] = "LUA_CPATH=" .. sh_quote(asan .. "/?.so;" .. (os.getenv("LUA_CPATH") or ";;"))
  end
  local netns = os.execute("unshare -n true 2>/dev/null")
  local out = os.tmpname()
  local qargs = {}
  for i, a in ipairs(args) do qargs[i] = sh_quote(a) end
  local cmd = ("timeout -s KILL %d %s env %s FUZZ_NETNS=%d lua5.4 %s %s >%s 2>&1"):format(
    seconds, netns and "unshare -n" or "", table.concat(env, " "), netns and 1 or 0,
    sh_quote(script), table.concat(qargs, " "), sh_quote(out))
  local _, how, code = os.execute(cmd)
  local r = {out = read(out), log = read(logfile)}
  os.remove(out)
  r.status = how .. " " .. tostring(code)
  if how == "exit" and code == 137 then r.status = "killed (time limit or signal 9)" end
  if how == "exit" and code > 128 then r.status = "signal " .. (code - 128) end
  r.ok = how == "exit" and code == 0 and r.out:find("FUZZ DONE", 1, true) ~= nil
  return r
end

--- A failure message: how it ended, the calls before the end, the output.
function M.report(what, r)
  -- ASan's report: its first line and the top frames
  local asan = ""
  local at = r.out:find("==%d+==ERROR")
  if at then
    local lines = {}
    for l in r.out:sub(at):gmatch("[^\n]+") do
      lines[#lines + 1] = l
      if #lines >= 14 then break end
    end
    asan = "-- ASan:\n" .. table.concat(lines, "\n")
  end
  return ("%s ended: %s\n-- last calls:\n%s\n%s\n-- output tail:\n%s"):format(
    what, r.status, tail(r.log, 12), asan, tail(r.out, 6))
end

return M
