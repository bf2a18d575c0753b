--- Small helpers shared by command-line tools built on libbpf (the
-- `examples/` scripts): option parsing with `--help`, finding a `.bpf.o`
-- next to the script, sleeping and polling until a deadline, and ending
-- cleanly on Ctrl-C and SIGTERM.
--
-- Signals: `tool.parse` and `tool.run` make SIGINT and SIGTERM a clean stop
-- (`bpf.watch_signals`): the signal only sets a flag, `tool.sleep` and
-- `tool.poll_for` return `false` at once, the tool's main function
-- returns, and its objects close (links detach, tc qdiscs the tool added
-- go). A second signal while the first is still being handled kills the
-- tool as before.
--
--     local tool = require "libbpf.tool"
--     local opts = tool.parse(arg, {
--       name = "opensnoop", summary = "Trace open family syscalls",
--       options = {
--         { "-p", "--pid", arg = "PID", type = "integer", help = "trace this PID only" },
--         { "-T", "--timestamp", help = "include a timestamp column" },
--       },
--     })
--
-- @module libbpf.tool
local M = {}

-- the module, loaded when a tool first needs it (parse does not)
local function bpf() return require "libbpf" end
local watching = false

--- Make SIGINT and SIGTERM a clean stop from now on (`tool.parse` and
-- `tool.run` call it): see the module's description.
-- @usage tool.watch_signals()
function M.watch_signals()
  if not watching then
    assert(bpf().watch_signals{"SIGINT", "SIGTERM"})
    watching = true
  end
end

--- The stop signal that came (`"SIGINT"` or `"SIGTERM"`), or nil.
-- @treturn ?string
-- @usage while not tool.stopped() do rb:poll(100) end
function M.stopped()
  return watching and bpf().signaled() or nil
end

--- Directory of the running script (from `arg[0]`), `"."` when it has none.
-- @treturn string
-- @usage package.path = tool.script_dir() .. "/?.lua;" .. package.path
function M.script_dir()
  local script = arg and arg[0] or ""
  return script:match("^(.*)/[^/]*$") or "."
end

--- Path of a file that ships next to the running script, e.g. its `.bpf.o`.
-- @tparam string name file name
-- @treturn string path
-- @usage local obj = assert(bpf.open(tool.beside("opensnoop.bpf.o")))
function M.beside(name)
  return M.script_dir() .. "/" .. name
end

local function help_text(spec)
  local out = { ("usage: %s [options]%s\n"):format(spec.name,
    spec.positional and (" " .. spec.positional) or "") }
  if spec.summary then out[#out + 1] = "\n" .. spec.summary .. "\n" end
  out[#out + 1] = "\noptions:\n"
  local rows = { { "-h, --help", "show this help and exit" } }
  for _, o in ipairs(spec.options or {}) do
    local flags = o[1] and o[2] and (o[1] .. ", " .. o[2]) or ("    " .. (o[1] or o[2]))
    if o.arg then flags = flags .. " " .. o.arg end
    rows[#rows + 1] = { flags, o.help or "" }
  end
  local w = 0
  for _, r in ipairs(rows) do w = math.max(w, #r[1]) end
  for _, r in ipairs(rows) do
    out[#out + 1] = ("  %-" .. w .. "s  %s\n"):format(r[1], r[2])
  end
  if spec.examples then out[#out + 1] = "\nexamples:\n" .. spec.examples .. "\n" end
  return table.concat(out)
end

local function key_of(o)
  local long = o[2] or o[1]
  return o.key or long:gsub("^%-+", ""):gsub("%-", "_")
end

local function usage_error(spec, fmt, ...)
  io.stderr:write(spec.name, ": ", fmt:format(...), "\n",
                  "try '", spec.name, " --help'\n")
  os.exit(2)
end

local function convert(spec, o, value)
  local name = o[2] or o[1]
  if o.type == "duration" then
    -- seconds, fractions allowed ("0.5"), as libbpf-tools' intervals
    local n = tonumber(value)
    if not n or n ~= n or n <= 0 or n > 1e9 then
      usage_error(spec, "%s expects a positive number of seconds, got '%s'", name, value)
    end
    return n
  elseif o.type == "integer" then
    local n = math.tointeger(tonumber(value))
    if not n then usage_error(spec, "%s expects an integer, got '%s'", o[2] or o[1], value) end
    return n
  elseif o.type == "number" then
    local n = tonumber(value)
    if not n then usage_error(spec, "%s expects a number, got '%s'", o[2] or o[1], value) end
    return n
  end
  return value
end

--- Parse command-line arguments, GNU style.
-- Options are `{short, long, arg=NAME, type="integer"|"number"|"duration"|nil,
-- help=, key=, default=}`; one without `arg` is a flag (`true` when given).
-- `--opt=value`, `--opt value`, `-o value` and `-ovalue` all work; short
-- flags combine (`-Tx` is `-T -x`, `-Tp 42` ends with an option that takes
-- a value); `--` ends the options. A `"duration"` is a positive number of
-- seconds, fractions allowed. `spec.args` types the positional arguments
-- the same way, in order (`{{"interval", type="duration"}, {"count",
-- type="integer"}}`: `runqlat 0.5 1`; more than listed is an error).
-- `-h`/`--help` prints the help and exits 0; a usage error prints to stderr
-- and exits 2.
-- @tparam {string,...} argv the script's `arg`
-- @tparam table spec `{name=, summary=, options={...}, positional="[interval] [count]",
--   args={...}, examples=}`
-- @treturn table option values by key (the long name without dashes,
--   `-` turned into `_`), positional arguments in the list part
-- @usage local opts = tool.parse(arg, {name = "runqlat", summary = "Run queue latency",
--   options = {{"-m", "--milliseconds", help = "show msecs"}}})
-- if opts.milliseconds then print("msecs") end
function M.parse(argv, spec)
  M.watch_signals()
  local opts, by_flag = {}, {}
  for _, o in ipairs(spec.options or {}) do
    if o[1] then by_flag[o[1]] = o end
    if o[2] then by_flag[o[2]] = o end
    opts[key_of(o)] = o.default
  end
  local i = 1
  -- the value of option `o` given as `flag`: inline, or the next argument
  local function value_of(o, flag, inline)
    if inline == nil or inline == "" then
      i = i + 1
      inline = argv[i]
      if not inline then usage_error(spec, "%s needs an argument", flag) end
    end
    return convert(spec, o, inline)
  end
  local only_positional = false
  while argv[i] do
    local a = argv[i]
    -- a negative number is positional unless it is an option (tcpstates' -4)
    if only_positional or a == "-" or not a:match("^%-") or (tonumber(a) and not by_flag[a]) then
      opts[#opts + 1] = a
    elseif a == "--" then
      only_positional = true
    elseif a == "-h" or a == "--help" then
      io.stdout:write(help_text(spec))
      os.exit(0)
    elseif a:match("^%-%-") then
      local flag, inline = a:match("^(%-%-[^=]+)=(.*)$")
      flag = flag or a
      local o = by_flag[flag]
      if not o then usage_error(spec, "unknown option '%s'", flag) end
      if o.arg then
        opts[key_of(o)] = value_of(o, flag, inline or "")
      elseif inline then
        usage_error(spec, "%s takes no value", flag)
      else
        opts[key_of(o)] = true
      end
    else
      -- short options, combined: -Tx, -p42, -Tp 42
      local j = 2
      while j <= #a do
        local flag = "-" .. a:sub(j, j)
        local o = by_flag[flag]
        if flag == "-h" then
          io.stdout:write(help_text(spec))
          os.exit(0)
        end
        if not o then usage_error(spec, "unknown option '%s'", flag) end
        if o.arg then
          opts[key_of(o)] = value_of(o, flag, a:sub(j + 1))
          break
        end
        opts[key_of(o)] = true
        j = j + 1
      end
    end
    i = i + 1
  end
  -- typed positional arguments: `runqlat 0.5 1`, and `runqlat abc` refused
  -- (an unconvertible interval used to mean "forever")
  if spec.args then
    for k = 1, #opts do
      local o = spec.args[k]
      if not o then usage_error(spec, "unexpected argument '%s'", opts[k]) end
      opts[k] = convert(spec, o, opts[k])
    end
  end
  return opts
end

--- Wall clock in whole seconds (`os.time()`), for durations of a tool's run.
-- @treturn integer
-- @usage local started = tool.now()
function M.now()
  return os.time()
end

local function is_interrupt(e)
  return type(e) == "string" and e:find("interrupted!", 1, true) ~= nil
end

--- Call `fn(...)` and report whether it ran to its end or Ctrl-C stopped it.
-- The standalone `lua5.4` turns SIGINT into an "interrupted!" error raised
-- at the next Lua instruction; this catches that one error (and re-raises
-- any other), so a tool can still print its final histogram.
-- @tparam function fn
-- @return `true` plus the results of `fn`, or `false` when interrupted
-- @usage local finished = tool.interruptible(function() while true do rb:poll(100) end end)
function M.interruptible(fn, ...)
  local res = table.pack(pcall(fn, ...))
  if res[1] then return table.unpack(res, 1, res.n) end
  if is_interrupt(res[2]) then return false end
  error(res[2], 0)
end

--- Sleep `seconds` (whole seconds or fractions) with `bpf.sleep`, in this
-- process: a stop signal (Ctrl-C, SIGTERM) ends it at once.
-- @tparam number seconds
-- @treturn boolean false when a signal ended the sleep (or came before)
-- @usage if not tool.sleep(0.5) then print("interrupted") end
function M.sleep(seconds)
  local ok, slept = M.interruptible(function()
    return (bpf().sleep(seconds))
  end)
  return ok and slept
end

--- Poll an event buffer until `duration` seconds pass (forever when nil) or a
-- signal interrupts the poll.
-- @param buf a `libbpf.ringbuf` or `libbpf.perfbuf`
-- @tparam[opt] number duration seconds
-- @tparam[opt=100] integer timeout_ms poll timeout per round
-- @treturn boolean true when the duration passed, false when interrupted
-- @usage tool.poll_for(rb, opts.duration)
function M.poll_for(buf, duration, timeout_ms)
  local clock = require("libbpf").monotonic
  local deadline = duration and (clock() + duration)
  local ok, finished = M.interruptible(function()
    while not deadline or clock() < deadline do
      if M.stopped() then return false end
      local left = deadline and math.ceil((deadline - clock()) * 1000) or math.huge
      local n, err = buf:poll(math.max(0, math.min(timeout_ms or 100, left)))
      if not n then
        if err == "interrupted" then return false end
        error(err, 0)
      end
    end
    return true
  end)
  return ok and finished
end

--- Run `main` and turn Ctrl-C and SIGTERM into a clean end: the signal
-- makes `tool.sleep`/`tool.poll_for` return false, so `main` returns
-- (after it, signals have the actions they had before: in a plain script a
-- Ctrl-C during the final report raises "interrupted!", in the REPL it
-- stays the REPL's); an
-- "interrupted!" error (lua5.4's own SIGINT handling, before signals were
-- watched) is swallowed too (to-be-closed objects have already detached).
-- Any other error is reported on stderr with exit status 1, after the
-- objects were closed (their links detached).
-- @tparam function main
-- @usage tool.run(function() main(arg) end)
function M.run(main)
  M.watch_signals()
  local ok, err = xpcall(main, function(e)
    if is_interrupt(e) then return "interrupted" end
    return debug.traceback(e, 2)
  end)
  if not ok and err ~= "interrupted" then
    io.stderr:write(tostring(err), "\n")
    os.exit(1, true)   -- close the state: objects close, links detach
  end
  -- main is over (stopped or done): what follows (a final report) is not
  -- a sleep or a poll, so a signal now ends the tool the ordinary way
  if watching then
    bpf().watch_signals(false)
    watching = false
  end
end

--- Die with a message (for `nil, message` results of the library).
-- @tparam string name tool name
-- @param ... message parts
-- @usage local obj = bpf.open(path) or tool.die("opensnoop", "cannot open", path)
function M.die(name, ...)
  local parts = table.pack(...)
  for k = 1, parts.n do parts[k] = tostring(parts[k]) end
  io.stderr:write(name, ": ", table.concat(parts, " "), "\n")
  os.exit(1, true)   -- close the state: objects close, links detach
end

--- Time of day as `HH:MM:SS`, for TIME columns.
-- @treturn string
-- @usage print(tool.clock(), "event")
function M.clock()
  return os.date("%H:%M:%S")
end

--- Number of possible CPUs, from `/sys/devices/system/cpu/possible`.
-- @treturn integer
-- @usage local per_cpu_len = tool.ncpus()
function M.ncpus()
  local f = io.open("/sys/devices/system/cpu/possible")
  local text = f and f:read("l") or "0"
  if f then f:close() end
  local n = 0
  for range in text:gmatch("[^,]+") do
    local a, b = range:match("^(%d+)%-(%d+)$")
    if a then n = n + (tonumber(b) - tonumber(a) + 1) else n = n + 1 end
  end
  return n
end

return M
