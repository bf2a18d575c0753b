--- The `lbpf` REPL: poke at a BPF object interactively.
--
--     $ lbpf spec/bpf/counter.bpf.o
--     lbpf> obj:load()
--     libbpf.object(counter, libbpf, loaded, 4 maps, 2 programs)
--     lbpf> obj.progs.count_exec:attach()
--     lbpf> :dump exec_counts
--
-- Lines are evaluated like `lua5.4 -i`: `return <line>` first, then the
-- line as a statement; an incomplete statement continues on the next
-- line. Results are pretty-printed (`libbpf.pretty`); a failure with a
-- log (`nil, message, errno` from a refused load) prints the message's
-- lines as lines. An error is printed and the REPL goes on. Ctrl-C
-- interrupts running code (a ring buffer poll returns `nil, "interrupted"`,
-- a Lua loop raises "interrupted!") and, at the prompt, discards what was
-- typed of a statement (all its lines) and gives a fresh prompt; EOF
-- (Ctrl-D), `exit`, `quit` or `:quit` ends the session quietly. With
-- lua-readline installed (Debian `lua-readline`) lines are edited and
-- names complete with Tab; otherwise lines are read with `io.read`.
--
-- The environment: `bpf` (the module), `obj` (the opened object, if any),
-- `pretty`, `dump(map)`, `help(x)` (the reference entry of a handle,
-- function or name, `libbpf.reference`), and the Lua globals.
--
-- @module libbpf.repl

local M = {}

local HELP = [[
Evaluate Lua: `obj.maps`, `obj:load()`, `obj.progs.NAME:attach()`, `x = 1`.
Names: bpf (the module), obj (the object given on the command line),
       pretty (printer), dump(map) (print a map's contents).
Commands:
  :load [LEVEL]  load the object (LEVEL: verifier log level, default 0)
  :attach        attach every auto-attachable program (obj:attach())
  :maps          list the object's maps        :progs   list its programs
  :dump NAME     print the contents of map NAME (or of an expression)
  :info NAME     what the kernel says of program NAME (or of a link or map)
  :open PATH     open another object as obj
  :help [NAME]   this text, or the reference entry of NAME ("map:lookup")
  :quit          leave (also `exit`, `quit` or Ctrl-D)
help(x) prints the reference entry of x: a handle, bpf.open, m.lookup, "map".
Ctrl-C interrupts a running expression or poll and discards a half-typed
statement; Tab completes names.]]

-- Fields of the handle types (methods come from the metatables).
local FIELDS = {
  ["libbpf.object"] = {"maps", "progs", "name", "format", "loaded", "vars"},
  ["libbpf.map"] = {"name", "type", "key_size", "value_size", "max_entries",
                    "fd", "flags", "pin_path", "autocreate"},
  ["libbpf.program"] = {"name", "section", "type", "fd", "autoload",
                        "autoattach", "log_level", "insn_count"},
  ["libbpf.link"] = {"fd", "kind", "pin_path", "destroyed"},
}

local pretty = require "libbpf.pretty"

local COMMANDS = {} -- :name -> function(state, arg), filled below

-- ------------------------------------------------------------------------
-- Ctrl-C

-- The SIGINT helper lives in the same shared object as libbpf.core.
local function load_sigint()
  local path = package.searchpath("libbpf.core", package.cpath)
  local open = path and package.loadlib(path, "luaopen_libbpf_sigint")
  if not open then return nil end
  local sig = open()
  if not sig.install() then return nil end
  return sig
end

-- ------------------------------------------------------------------------
-- Completion

-- Methods of a handle: the first upvalue of its __index closure.
local function handle_names(v, methods_only)
  local name = pretty.typename(v)
  local names = {}
  if not methods_only then
    for _, f in ipairs(FIELDS[name] or {}) do names[#names + 1] = f end
  end
  local mt = getmetatable(v)
  local index = type(mt) == "table" and rawget(mt, "__index")
  if type(index) == "function" then
    local _, methods = debug.getupvalue(index, 1)
    if type(methods) == "table" then
      for k in pairs(methods) do names[#names + 1] = k end
    end
  elseif type(index) == "table" then
    for k in pairs(index) do names[#names + 1] = k end
  end
  return names
end

local function table_names(t)
  local names = {}
  local seen = {}
  while type(t) == "table" and not seen[t] do
    seen[t] = true
    for k in pairs(t) do
      if type(k) == "string" then names[#names + 1] = k end
    end
    local mt = getmetatable(t)
    t = type(mt) == "table" and rawget(mt, "__index") or nil
  end
  return names
end

-- Resolve "a.b.c" in env without calling anything but plain indexing of
-- tables and the listed handle fields (map[key] would be a lookup).
local function resolve(env, path)
  local v = env
  for part in path:gmatch("[^.:]+") do
    if type(v) == "table" then
      v = v[part]
    elseif type(v) == "userdata" then
      local fields = FIELDS[pretty.typename(v)]
      local known = false
      for _, f in ipairs(fields or {}) do known = known or f == part end
      if not known then return nil end
      local ok, r = pcall(function() return v[part] end)
      v = ok and r or nil
    else
      return nil
    end
  end
  return v
end

--- Completion candidates for the word before the cursor.
-- @tparam table env the REPL environment
-- @tparam string word e.g. `"obj.maps.ex"` or `"obj:lo"`
-- @treturn {string,...} full words, sorted
-- @usage local words = repl.complete(state.env, "obj.maps.ex")
function M.complete(env, word)
  local head, sep, partial = word:match("^(.-)([.:]?)([%w_]*)$")
  local names
  if word:sub(1, 1) == ":" and not word:find("[.:]", 2) then
    head, sep, partial = "", ":", word:sub(2)
    names = {}
    for name in pairs(COMMANDS) do names[#names + 1] = name end
  elseif sep == "" then
    names = table_names(env)
  else
    local v = resolve(env, head)
    if type(v) == "userdata" then
      names = handle_names(v, sep == ":")
    elseif type(v) == "table" then
      names = table_names(v)
    else
      names = {}
    end
  end
  local out, dup = {}, {}
  for _, n in ipairs(names) do
    if n:sub(1, #partial) == partial and n:match("^[%a_][%w_]*$") and not dup[n] then
      dup[n] = true
      out[#out + 1] = head .. sep .. n
    end
  end
  table.sort(out)
  return out
end

-- ------------------------------------------------------------------------
-- Reading lines

local function stdin_is_tty()
  return os.execute("test -t 0") == true
end

-- A line reader: readline when loadable and stdin is a terminal.
local function new_reader(env, opts)
  local tty = opts.tty
  if tty == nil then tty = stdin_is_tty() end
  local ok, rl = false, nil
  if tty and not opts.plain then ok, rl = pcall(require, "readline") end
  if ok and type(rl) == "table" then
    rl.set_options({histfile = "~/.lbpf_history", keeplines = 1000})
    rl.set_readline_name("lbpf")
    rl.set_complete_function(function(text, from, to)
      -- readline resets this to " " before every completion: no space
      -- after "obj.maps", so "." or ":" can follow
      if rl.set_completion_append_character then rl.set_completion_append_character("") end
      return M.complete(env, text:sub(from, to))
    end)
    local sig = opts.sig
    if not (sig and rl.handler_install and rl.read_char) then
      return {
        kind = "readline",
        read = function(prompt) return rl.readline(prompt) end,
        close = function() rl.save_history() end,
      }
    end
    -- Callback mode: wait for input ourselves, so that Ctrl-C at the
    -- prompt discards the line at once (readline's own read would carry
    -- on with the same line after the signal).
    return {
      kind = "readline",
      read = function(prompt)
        local got, line = false, nil
        rl.handler_install(prompt, function(l)
          got, line = true, l
          rl.handler_remove()
        end)
        while not got do
          local ready, err = sig.wait_readable(0)
          if ready == nil then rl.handler_remove() return nil, err end
          if not ready then
            rl.sigcleanup()
            rl.handler_remove()
            return nil, "interrupted", 4
          end
          rl.read_char()
        end
        if line and line:match("%S") then rl.add_history(line) end
        return line
      end,
      close = function() rl.save_history() end,
    }
  end
  return {
    kind = "plain",
    read = function(prompt)
      if tty then io.write(prompt) io.flush() end
      local line, err, code = io.read("L")
      if line then return (line:gsub("\n$", "")) end
      return nil, err, code
    end,
    close = function() end,
  }
end

-- ------------------------------------------------------------------------
-- Evaluating

-- Compile a chunk like lua.c: "return <line>" first, then the statement.
-- Returns the function, or nil + message, plus whether more input may help.
local function compile(src, env)
  local f = load("return " .. src, "=stdin", "t", env)
  if f then return f end
  local err
  f, err = load(src, "=stdin", "t", env)
  if f then return f end
  return nil, err, err:sub(-5) == "<eof>"
end

local function print_results(out, ok, ...)
  local n = select("#", ...)
  if not ok then return end
  if n == 0 then return end
  local first, msg, code = ...
  if first == nil and type(msg) == "string" and msg:find("\n", 1, true) then
    -- a failure with a log (a verifier refusal): its lines as lines
    out:write("nil, ", (msg:gsub("\n+$", "")), "\n")
    if math.type(code) == "integer" then out:write("(errno ", code, ")\n") end
    if msg:match("^load '") then
      out:write("(a failed object cannot be loaded again: fix the cause, then :open it anew)\n")
    end
    return
  end
  local parts = {}
  for i = 1, n do parts[i] = pretty.format((select(i, ...))) end
  out:write(table.concat(parts, "\t"), "\n")
end

-- Run f with Ctrl-C armed; errors get a traceback, interrupts a short note.
local function run(state, f, ...)
  local sig = state.sig
  if sig then sig.take() sig.arm(true) end
  local res = table.pack(xpcall(f, function(e)
    if type(e) == "string" and e:find("interrupted!", 1, true) then
      return "interrupted"
    end
    -- the traceback down to the user's chunk, not the REPL's frames
    local tb = debug.traceback(tostring(e), 2)
    return (tb:gsub("\n%s*%[C%]: in function 'xpcall'.*$", ""))
  end, ...))
  if sig then sig.arm(false) sig.take() end
  if not res[1] then
    state.err:write(tostring(res[2]), "\n")
    state.err:flush()
  end
  return table.unpack(res, 1, res.n)
end

local function need_obj(state)
  local obj = state.env.obj
  if not obj then error("no object: start as `lbpf file.bpf.o` or use :open PATH", 0) end
  return obj
end

local function list_handles(state, field)
  local t = need_obj(state)[field]
  local names = {}
  for name in pairs(t) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do state.out:write(tostring(t[name]), "\n") end
end

-- help(x): the reference entry of a name, handle or function
local function help_text(bpf, x)
  if x == nil then return HELP end
  local text, err = require("libbpf.reference").text(x, bpf)
  return text or err
end

function COMMANDS.help(state, arg)
  if arg and arg ~= "" then
    state.out:write(help_text(state.env.bpf, arg), "\n")
  else
    state.out:write(HELP, "\n")
  end
end

function COMMANDS.quit(state) state.done = true end
COMMANDS.q = COMMANDS.quit
COMMANDS.exit = COMMANDS.quit

function COMMANDS.load(state, arg)
  local level = tonumber(arg)
  local obj = need_obj(state)
  print_results(state.out, true, obj:load(level and {log_level = level} or nil))
end

function COMMANDS.attach(state)
  print_results(state.out, true, need_obj(state):attach())
end

-- The kernel's view of a program (its fdinfo and bpf.progs() entry) or a
-- link (link:info()), for :info.
local function prog_info(state, p)
  local info, id = {name = p.name, section = p.section, type = p.type, fd = p.fd}, nil
  if p.fd >= 0 then
    for line in io.lines("/proc/self/fdinfo/" .. p.fd) do
      local k, v = line:match("^([%w_]+):%s+(%S+)$")
      if k and k:match("^prog_") or k == "run_time_ns" or k == "run_cnt" or k == "verified_insns" then
        info[(k:gsub("^prog_", ""))] = math.tointeger(tonumber(v)) or v
      end
    end
    id = info.id
  end
  for _, e in ipairs(id and state.env.bpf.progs() or {}) do
    if e.id == id then info.map_ids = e.map_ids end
  end
  return info
end

function COMMANDS.info(state, arg)
  if arg == "" then error("usage: :info PROGRAM (a program name) or :info EXPR (a link)", 0) end
  local obj = state.env.obj
  local v = obj and obj.progs[arg]
  if not v then
    local f, err = compile(arg, state.env)
    if not f then error(err, 0) end
    v = f()
  end
  local kind = pretty.typename(v)
  if kind == "libbpf.program" then
    state.out:write(pretty.format(prog_info(state, v)), "\n")
  elseif kind == "libbpf.link" then
    state.out:write(tostring(v), "\n", pretty.format(assert(v:info())), "\n")
  elseif kind == "libbpf.map" then
    state.out:write(tostring(v), "\n", pretty.format(assert(v:info())), "\n")
  else
    error(("no program '%s' (and not a program, link or map handle)"):format(arg), 0)
  end
end

function COMMANDS.maps(state) list_handles(state, "maps") end
function COMMANDS.progs(state) list_handles(state, "progs") end

function COMMANDS.dump(state, arg)
  local obj = state.env.obj
  local m = obj and obj.maps[arg]
  if not m then
    local f, err = compile(arg, state.env)
    if not f then error(err, 0) end
    m = f()
  end
  state.out:write(pretty.map(m), "\n")
end

function COMMANDS.open(state, arg)
  local obj, err = state.env.bpf.open(arg)
  if not obj then error(err, 0) end
  state.env.obj = obj
  state.out:write(tostring(obj), "\n")
end

-- Words typed alone that mean a command (unless the user defined them).
local BARE = {exit = "quit", quit = "quit", help = "help"}

local function command(state, line)
  local name, arg = line:match("^:(%S+)%s*(.-)%s*$")
  local cmd = COMMANDS[name or ""]
  if not cmd then
    state.err:write("unknown command :", tostring(name), " (try :help)\n")
    return
  end
  run(state, cmd, state, arg)
end

--- Evaluate one complete input (a line or a continued statement).
-- @tparam table state the session (from `new`)
-- @tparam string src Lua source or a `:command`
-- @treturn boolean true when more lines are needed to complete `src`
-- @usage local state = repl.new{obj = obj, plain = true}
-- repl.eval(state, "obj:load()")
function M.eval(state, src)
  if src:match("^%s*$") then return false end
  if src:match("^:") then command(state, src) return false end
  local word = src:match("^%s*(%a+)%s*$")
  local bound = BARE[word] and rawget(state.env, word)
  if BARE[word] and (bound == nil or bound == state.env_help) then
    command(state, ":" .. BARE[word])
    return false
  end
  local f, err, more = compile(src, state.env)
  if not f then
    if more then return true end
    state.err:write(err, "\n")
    return false
  end
  print_results(state.out, run(state, f))
  return false
end

--- Make a session.
-- @tparam[opt] table opts `bpf` (the module, default `require "libbpf"`),
--   `obj` (an object for `obj`), `out`/`err` (files, default io.stdout/io.stderr),
--   `tty` (force prompts on or off), `plain` (true: never use readline)
-- @treturn table the session: `env`, `out`, `err`, `done`
-- @usage local state = repl.new{obj = assert(bpf.open("spec/bpf/counter.bpf.o"))}
function M.new(opts)
  opts = opts or {}
  local bpf = opts.bpf or require "libbpf"
  local env = setmetatable({}, {__index = _G})
  env.bpf = bpf
  env.obj = opts.obj
  env.pretty = pretty
  env.dump = function(m) io.write(pretty.map(m), "\n") end
  env.help = function(x) io.write(help_text(bpf, x), "\n") end
  return {
    env = env,
    env_help = env.help,
    out = opts.out or io.stdout,
    err = opts.err or io.stderr,
    opts = opts,
    done = false,
  }
end

--- Read, evaluate and print until EOF or `:quit`.
-- @tparam table state a session from `new`
-- @treturn integer the exit status (0)
-- @usage os.exit(repl.loop(repl.new{plain = true}))
function M.loop(state)
  state.sig = state.sig or load_sigint()
  local ropts = setmetatable({sig = state.sig}, {__index = state.opts})
  local reader = new_reader(state.env, ropts)
  local buffer
  while not state.done do
    state.out:flush()
    local line, err, code = reader.read(buffer and ">> " or "lbpf> ")
    local interrupted = state.sig and state.sig.take()
    if not line and (code == 4 or interrupted) then
      -- Ctrl-C while reading: drop the line, keep going
      state.out:write("^C\n")
      buffer = nil
    elseif not line then
      -- EOF in the middle of a statement: say what is wrong with it
      if buffer then state.err:write(select(2, compile(buffer, state.env)), "\n") end
      if err then state.err:write("lbpf: ", tostring(err), "\n") end
      break
    else
      local src = buffer and (buffer .. "\n" .. line) or line
      buffer = M.eval(state, src) and src or nil
    end
  end
  reader.close()
  if reader.kind == "plain" and not state.done then state.out:write("\n") end
  return 0
end

local USAGE = [[
usage: lbpf [options] [OBJECT.bpf.o]
  Open OBJECT (not loaded: type obj:load() or :load) and start a Lua REPL
  with bpf, obj and pretty defined. :help lists the commands.
options:
  -l, --load       load the object before the first prompt
  -e CODE          run CODE before the first prompt (repeatable)
  -p, --plain      read lines with io.read even when readline is available
  -h, --help       this text]]

--- Entry point of the `lbpf` launcher.
-- @tparam {string,...} args command-line arguments
-- @treturn integer exit status
-- @usage os.exit(require("libbpf.repl").main(arg))
function M.main(args)
  local path, load_now, plain, code = nil, false, false, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "-h" or a == "--help" then
      io.write(USAGE, "\n")
      return 0
    elseif a == "-l" or a == "--load" then
      load_now = true
    elseif a == "-p" or a == "--plain" then
      plain = true
    elseif a == "-e" then
      i = i + 1
      code[#code + 1] = args[i] or ""
    elseif a:sub(1, 1) == "-" then
      io.stderr:write("lbpf: unknown option ", a, "\n", USAGE, "\n")
      return 2
    elseif path then
      io.stderr:write("lbpf: one object at a time\n")
      return 2
    else
      path = a
    end
    i = i + 1
  end
  local bpf = require "libbpf"
  local obj
  if path then
    local err
    obj, err = bpf.open(path)
    if not obj then
      io.stderr:write("lbpf: ", err, "\n")
      return 1
    end
  end
  local state = M.new({bpf = bpf, obj = obj, plain = plain})
  state.sig = load_sigint()
  if stdin_is_tty() then
    io.write(("lbpf (lua-libbpf, libbpf %s): :help for help, Ctrl-D to leave\n")
      :format(bpf.libbpf_runtime_version or "?"))
    if obj then io.write("obj = ", tostring(obj), "\n") end
  end
  if load_now then M.eval(state, ":load") end
  for _, c in ipairs(code) do M.eval(state, c) end
  local status = M.loop(state)
  if state.env.obj then state.env.obj:close() end
  return status
end

return M
