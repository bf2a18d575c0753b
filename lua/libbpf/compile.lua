--- BPF C inside a Lua script: compiled at run time, CO-RE, no build step.
--
-- `bpf.compile(source [, opts])` (this module's `compile`) turns BPF C text
-- into an opened, not yet loaded, object, exactly as `bpf.open_buffer` of
-- the compiled `.bpf.o` would:
--
--     local bpf = require "libbpf"
--     local obj = assert(bpf.compile[[
--     #include "vmlinux.h"
--     #include <bpf/bpf_helpers.h>
--     SEC("tracepoint/syscalls/sys_enter_execve")
--     int on_exec(void *ctx) { return 0; }
--     char LICENSE[] SEC("license") = "GPL";
--     ]])
--
-- * `vmlinux.h` is made from `/sys/kernel/btf/vmlinux` in process (libbpf's
--   BTF dumper, no bpftool) and cached per kernel BTF.
-- * The BPF headers (`<bpf/bpf_helpers.h>`, `bpf_tracing.h`,
--   `bpf_core_read.h`, `usdt.bpf.h`) are those of the libbpf the module was
--   built with: the directory `LUA_LIBBPF_INCLUDE`, else the one recorded
--   at build time (`include_dir`), else `/usr/include`.
-- * clang is `LUA_LIBBPF_CLANG`, else the first of `clang`, `clang-19` ..
--   `clang-14` in `PATH`, run without a shell with `-target bpf -g -O2
--   -D__TARGET_ARCH_<arch>`.
-- * Diagnostics come back as `nil, message` naming the Lua file and line
--   (`#line`); `chunkname` and `line` are found with `debug.getinfo` when
--   the call is `bpf.compile[[...]]` in a file.
-- * Compiled objects are cached in `$XDG_CACHE_HOME/lua-libbpf` (else
--   `~/.cache/lua-libbpf`), keyed by the source, the flags, the clang binary
--   (path, size, mtime) and the kernel BTF (hashed once per boot, the hash
--   kept as `kernel-btf`); `LUA_LIBBPF_CACHE=off` turns the
--   cache off. The directory must be the user's own and mode 0700 (it is
--   created so), its files the user's own and not writable by others:
--   anything else is ignored and the source compiled afresh.
--
-- @module libbpf.compile
local core = require "libbpf.core"

local M = {}

-- Bumped when what a cache entry means changes (argv layout, vmlinux.h).
local CACHE_FORMAT = "lua-libbpf-compile-1"

local CLANG_NAMES = {"clang", "clang-19", "clang-18", "clang-17", "clang-16", "clang-15", "clang-14"}

local OPTIONS = {name = "string", cflags = "table", defines = "table", includes = "table",
                 keep = "string", chunkname = "string", line = "number"}

local KERNEL_BTF = "/sys/kernel/btf/vmlinux"

local GROUP_OTHER_WRITE = 18   -- 022: a cache path others may write is not ours

-- The C helpers (csrc/cc.c), in the same shared object as libbpf.core.
local cc
local function helpers()
  if not cc then
    local path = assert(package.searchpath("libbpf.core", package.cpath))
    cc = assert(package.loadlib(path, "luaopen_libbpf_cc"))()
  end
  return cc
end

local function getenv(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

--- The directory holding the `bpf/` headers compiled programs include:
-- `LUA_LIBBPF_INCLUDE`, else the libbpf include directory recorded when
-- the module was built, else `/usr/include`.
-- @treturn string the directory
-- @usage print(require("libbpf.compile").include_dir())  --> /usr/include
function M.include_dir()
  return getenv("LUA_LIBBPF_INCLUDE") or helpers().include_dir or "/usr/include"
end

--- The clang that `compile` runs: `LUA_LIBBPF_CLANG`, else the first of
-- `clang`, `clang-19` .. `clang-14` found in `PATH`.
-- @treturn ?string its path, or `nil, message` saying what to install
-- @usage print(require("libbpf.compile").find_clang())  --> /usr/bin/clang
function M.find_clang()
  local h = helpers()
  local forced = getenv("LUA_LIBBPF_CLANG")
  if forced then
    if h.executable(forced) then return forced end
    return nil, ("bpf.compile: LUA_LIBBPF_CLANG=%s is not an executable file"):format(forced)
  end
  local path = os.getenv("PATH") or ""
  for _, name in ipairs(CLANG_NAMES) do
    for dir in path:gmatch("[^:]+") do
      local p = dir .. "/" .. name
      if h.executable(p) then return p end
    end
  end
  return nil, "bpf.compile: clang not found (none of " .. table.concat(CLANG_NAMES, ", ")
    .. " in PATH, LUA_LIBBPF_CLANG not set): install clang (Debian/Ubuntu: apt install clang)"
end

-- A directory that is this user's own, a real directory (not a symlink)
-- and writable by nobody else; created (0700) when missing.
local function private_dir(path)
  local h = helpers()
  local st = h.lstat(path)
  if not st then
    if not h.mkdir(path) then return nil end
    st = h.lstat(path)
  end
  return st and st.type == "dir" and st.uid == h.geteuid() and st.mode & GROUP_OTHER_WRITE == 0
end

--- The compile cache directory in use, or nil when it is off
-- (`LUA_LIBBPF_CACHE=off`) or unusable (not the user's own directory,
-- writable by others, cannot be created).
-- @treturn ?string the directory
-- @usage print(require("libbpf.compile").cache_dir())  --> /root/.cache/lua-libbpf
function M.cache_dir()
  if getenv("LUA_LIBBPF_CACHE") == "off" then return nil end
  local base = getenv("XDG_CACHE_HOME")
  if not base then
    local home = getenv("HOME")
    if not home then return nil end
    base = home .. "/.cache"
  end
  -- the base itself may be missing (a fresh account's ~/.cache)
  if not helpers().lstat(base) then helpers().mkdir(base) end
  local dir = base .. "/lua-libbpf"
  if private_dir(dir) then return dir end
  return nil
end

-- The hash of the kernel's BTF, once per process; with a cache, once per
-- boot (the kernel's BTF cannot change without one): hashing its 6 MB is
-- most of a cached compile in a fresh process.
local btf_hash
local function kernel_btf_hash(cache)
  if btf_hash then return btf_hash end
  local h = helpers()
  local f = io.open("/proc/sys/kernel/random/boot_id")
  local boot = f and f:read("l")
  if f then f:close() end
  local memo = cache and boot and cache .. "/kernel-btf"
  local saved = memo and h.read_private(memo)
  local id, hash = (saved or ""):match("^(%S+) (%x+)\n$")
  if id == boot and hash then
    btf_hash = hash
    return hash
  end
  local err
  hash, err = h.hash_file(KERNEL_BTF)
  if not hash then return nil, "bpf.compile: no kernel BTF: " .. err end
  if memo then h.write_private(memo, boot .. " " .. hash .. "\n") end
  btf_hash = hash
  return hash
end

-- The directory to pass with -I for "vmlinux.h": the cache's copy for this
-- kernel, else a fresh one in `work`.
local function vmlinux_dir(cache, work)
  local h = helpers()
  local bh, err = kernel_btf_hash(cache)
  if not bh then return nil, err end
  if cache then
    local dir = cache .. "/btf-" .. bh
    local st = h.lstat(dir .. "/vmlinux.h")
    if private_dir(dir) and st and st.type == "file" and st.uid == h.geteuid()
       and st.mode & GROUP_OTHER_WRITE == 0 then
      return dir
    end
    if private_dir(dir) then
      local text, derr = h.btf_dump_c(KERNEL_BTF)
      if not text then return nil, "bpf.compile: " .. derr end
      if h.write_private(dir .. "/vmlinux.h", text) then return dir end
    end
  end
  local text, derr = h.btf_dump_c(KERNEL_BTF)
  if not text then return nil, "bpf.compile: " .. derr end
  local ok, werr = h.write_private(work .. "/vmlinux.h", text)
  if not ok then return nil, "bpf.compile: " .. werr end
  return work
end

-- Where the C text starts in the caller's file: debug.getinfo gives the
-- line of the call; the string may start there (`compile[[#include`) or
-- on the next lines (`compile[[` then a newline, `compile(` then `[[`).
-- The file itself says which: find the first non-blank C line in it.
local function where(level, source)
  local info = debug.getinfo(level + 1, "Sl")
  if not info then return "?", 1 end
  local chunk = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
  local line = info.currentline > 0 and info.currentline or 1
  local k, first = 0, nil
  for l in (source .. "\n"):gmatch("([^\n]*)\n") do
    if l:find("%S") then first = l; break end
    k = k + 1
  end
  local f = first and info.source:sub(1, 1) == "@" and io.open(chunk)
  if f then
    local n = 0
    for l in f:lines() do
      n = n + 1
      if n >= line and n <= line + 20 + k and l:find(first, 1, true) then
        line = n - k
        break
      end
    end
    f:close()
  end
  return chunk, line
end

local function check_options(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error("bpf.compile: options must be a table, got " .. type(opts), 3)
  end
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then error("bpf.compile: unknown option '" .. tostring(k) .. "'", 3) end
    if type(v) ~= want then
      error(("bpf.compile: option '%s' must be a %s, got %s"):format(k, want, type(v)), 3)
    end
  end
  for _, list in ipairs({"cflags", "includes"}) do
    for i, v in ipairs(opts[list] or {}) do
      if type(v) ~= "string" then
        error(("bpf.compile: %s[%d] must be a string"):format(list, i), 3)
      end
    end
  end
  return opts
end

local ARCH = {x86_64 = "x86", aarch64 = "arm64", s390x = "s390", ppc64le = "powerpc",
              riscv64 = "riscv", loongarch64 = "loongarch", armv7l = "arm"}

-- clang's arguments but the source and output files: fixed flags, then the
-- user's (-I, -D, cflags), so that a user flag can override ours.
local function flags(opts, vmdir)
  local h = helpers()
  local machine = h.machine() or "x86_64"
  local args = {"-target", "bpf", "-g", "-O2", "-D__TARGET_ARCH_" .. (ARCH[machine] or machine),
                "-I" .. vmdir, "-I" .. M.include_dir()}
  -- asm/ headers for <linux/...> includes (usdt.bpf.h takes linux/errno.h)
  local multiarch = "/usr/include/" .. machine .. "-linux-gnu"
  if h.lstat(multiarch) then args[#args + 1] = "-idirafter"; args[#args + 1] = multiarch end
  for _, dir in ipairs(opts.includes or {}) do args[#args + 1] = "-I" .. dir end
  local names = {}
  for k in pairs(opts.defines or {}) do names[#names + 1] = tostring(k) end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = opts.defines[k]
    args[#args + 1] = v == true and "-D" .. k or ("-D%s=%s"):format(k, tostring(v))
  end
  for _, f in ipairs(opts.cflags or {}) do args[#args + 1] = f end
  return args
end

-- What identifies a clang binary without running it: the cached path
-- must not cost a process.
local function clang_id(clang)
  local h = helpers()
  local real = h.realpath(clang) or clang
  local st = h.lstat(real) or {}
  return ("%s %s %s %s"):format(real, st.size, st.mtime, st.ino)
end

local function rm_tree(dir, files)
  for _, f in ipairs(files) do os.remove(dir .. "/" .. f) end
  os.remove(dir)
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- Compile `text` (with its #line) in `work`; returns the object's bytes or
-- nil, clang's diagnostics.
local function run_clang(clang, args, text, work, name)
  local h = helpers()
  local src, obj = work .. "/" .. name .. ".bpf.c", work .. "/" .. name .. ".bpf.o"
  local ok, err = h.write_private(src, text)
  if not ok then return nil, "bpf.compile: " .. err end
  local argv = {clang}
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  for _, a in ipairs({"-c", src, "-o", obj}) do argv[#argv + 1] = a end
  local status, out, errout = h.spawn(argv)
  if not status then return nil, "bpf.compile: " .. out end
  if status ~= 0 then
    errout = errout:gsub("\n+$", "")
    return nil, "bpf.compile: clang failed (exit " .. status .. "):\n" .. errout
  end
  return read_file(obj)
end

--- Compile BPF C text into an opened (not loaded) object.
-- The result is what `bpf.open_buffer` returns for the compiled object:
-- set it up, then `obj:load()`. Warnings are not shown (add `-Werror` to
-- `cflags` to make them errors; `keep` leaves the files to look at).
-- @function compile
-- @tparam string source the BPF C text
-- @tparam[opt] table opts `name` (object name, default `"inline"`),
--   `cflags` (list of extra clang arguments), `defines` (`{NAME = value}`,
--   `true` for a bare `-DNAME`), `includes` (list of `-I` directories),
--   `keep` (a directory: the `.bpf.c` and `.bpf.o` are written and left
--   there), `chunkname` and `line` (the file and line the C text starts
--   at, for diagnostics; found by `debug.getinfo` when absent)
-- @treturn object the opened object, or `nil, message` (clang's
--   diagnostics naming the Lua file's lines, or a missing clang)
-- @usage local obj = assert(bpf.compile([[
-- #include "vmlinux.h"
-- #include <bpf/bpf_helpers.h>
-- int calls;
-- SEC("tracepoint/syscalls/sys_enter_execve")
-- int count(void *ctx) { __sync_fetch_and_add(&calls, 1); return 0; }
-- char LICENSE[] SEC("license") = "GPL";
-- ]], {name = "count"}))
-- assert(obj:load())
function M.compile(source, opts)
  if type(source) ~= "string" then
    error("bpf.compile: source must be a string, got " .. type(source), 2)
  end
  opts = check_options(opts)
  local h = helpers()
  local chunk, line = opts.chunkname, opts.line
  if not chunk or not line then
    local c, l = where(2, source)
    chunk, line = chunk or c, line or l
  end
  local name = opts.name or "inline"
  local fname = name:gsub("[^%w_.-]", "_")
  local clang, cerr = M.find_clang()
  if not clang then return nil, cerr end
  local text = ('#line %d "%s"\n%s\n'):format(math.tointeger(line) or 1,
                                              chunk:gsub('[\\"]', "\\%0"), source)
  local cache = M.cache_dir()
  local work, werr
  if opts.keep then
    work = opts.keep
    if not h.lstat(work) then h.mkdir(work) end
  else
    work, werr = h.mkdtemp((getenv("TMPDIR") or "/tmp") .. "/lua-libbpf-")
    if not work then return nil, "bpf.compile: " .. werr end
  end
  local function finish(...)
    if not opts.keep then rm_tree(work, {"vmlinux.h", fname .. ".bpf.c", fname .. ".bpf.o"}) end
    return ...
  end
  local vmdir, verr = vmlinux_dir(cache, work)
  if not vmdir then return finish(nil, verr) end
  local args = flags(opts, vmdir)
  -- the key leaves out vmdir (which differs between runs without a cache)
  local keyed = {CACHE_FORMAT, clang_id(clang), kernel_btf_hash(cache), M.include_dir(), name}
  for _, a in ipairs(args) do
    if a ~= "-I" .. vmdir then keyed[#keyed + 1] = a end
  end
  keyed[#keyed + 1] = text
  local entry = cache and (cache .. "/" .. h.hash(table.concat(keyed, "\0")) .. ".o")
  local bytes = entry and h.read_private(entry)
  if not bytes then
    local err
    bytes, err = run_clang(clang, args, text, work, fname)
    if not bytes then return finish(nil, err) end
    if entry then h.write_private(entry, bytes) end
  elseif opts.keep then
    h.write_private(work .. "/" .. fname .. ".bpf.c", text)
    h.write_private(work .. "/" .. fname .. ".bpf.o", bytes)
  end
  return finish(core.open_buffer(bytes, {name = name}))
end

return M
