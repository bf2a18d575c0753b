--- The `-c/--cgroup PATH` option of the examples (libbpf-tools' cgroup
-- filter): the id and depth of a cgroup v2 directory, which the BPF side
-- (`examples/cgroup_filter.h`) compares with the current task's ancestor
-- at that depth, so a task in the cgroup or below it passes.
--
-- @module libbpf.cgroup_filter
local M = {}

local function mount_point_of(path)
  -- the cgroup2 mount that holds `path` (the longest prefix), from /proc/self/mounts
  local best
  local f = io.open("/proc/self/mounts")
  if not f then return nil end
  for line in f:lines() do
    local dir, fstype = line:match("^%S+ (%S+) (%S+)")
    if fstype == "cgroup2" and (path == dir or path:sub(1, #dir + 1) == dir .. "/" or dir == "/")
       and (not best or #dir > #best) then
      best = dir
    end
  end
  f:close()
  return best
end

--- The id and level of a cgroup v2 directory.
-- @tparam string path e.g. `/sys/fs/cgroup/unified/mygroup`
-- @treturn[1] integer cgroup id (the directory's inode number)
-- @treturn[1] integer level (0 for the hierarchy's root)
-- @treturn[2] nil
-- @treturn[2] string why not
-- @usage local id, level = cgroup_filter.resolve("/sys/fs/cgroup/unified")
function M.resolve(path)
  path = path:gsub("/+$", "")
  if path == "" then path = "/" end
  local root = mount_point_of(path)
  if not root then return nil, path .. ": not in a cgroup v2 (cgroup2) mount" end
  local p = io.popen(("stat -c %%i -- '%s' 2>/dev/null"):format(path:gsub("'", "'\\''")))
  local id = p and math.tointeger(tonumber(p:read("l") or ""))
  if p then p:close() end
  if not id then return nil, path .. ": no such cgroup" end
  local rest = path:sub(#root + 1)
  local level = 0
  for _ in rest:gmatch("[^/]+") do level = level + 1 end
  return id, level
end

--- Set an object's `filter_cg`, `targ_cgid` and `targ_cg_level` for `path`
-- (before load), or end the tool with a message when `path` is no cgroup v2.
-- @param obj an opened, not yet loaded `libbpf.object`
-- @tparam string tool_name for the message
-- @tparam[opt] string path nothing is set when nil
-- @usage cgroup_filter.apply(obj, "execsnoop", opts.cgroup)
function M.apply(obj, tool_name, path)
  if not path then return end
  local id, level = M.resolve(path)
  if not id then
    io.stderr:write(tool_name, ": -c: ", level, "\n")
    os.exit(1)
  end
  obj.vars.filter_cg = true
  obj.vars.targ_cgid = id
  obj.vars.targ_cg_level = level
end

return M
