--- BPF objects written by others, found where Debian installs them.
--
-- * xdp-tools / libxdp ship their objects as files under /usr/lib/<triplet>/bpf.
-- * cilium/ebpf's Go sources ship the test objects of its own loader.
-- * libbpf-tools (the libbpf ports of the BCC tools) embed each object in its
--   tool's binary, as a libbpf skeleton does; the object is cut out of the
--   binary by its ELF header and written under build/compat/.
local M = {}

local EM_BPF = 247

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function lines(cmd)
  local out = {}
  local p = io.popen(cmd .. " 2>/dev/null")
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

--- The BPF ELF objects embedded in a file (64-bit little-endian, e_machine
-- EM_BPF), each cut at the end of its section header table, where clang puts it.
-- @param bytes contents of an executable
-- @return list of object byte strings
function M.embedded_objects(bytes)
  local found, i = {}, 2 -- skip the executable's own header at 1
  while true do
    local p = bytes:find("\127ELF", i, true)
    if not p then return found end
    i = p + 4
    if bytes:byte(p + 4) == 2 and bytes:byte(p + 5) == 1 and #bytes >= p + 63
        and string.unpack("<I2", bytes, p + 18) == EM_BPF then
      local shoff = string.unpack("<I8", bytes, p + 0x28)
      local shentsize, shnum = string.unpack("<I2I2", bytes, p + 0x3A)
      local size = shoff + shentsize * shnum
      if shnum > 0 and p + size - 1 <= #bytes then
        found[#found + 1] = bytes:sub(p, p + size - 1)
        i = p + size
      end
    end
  end
end

--- xdp-tools' and libxdp's objects.
-- @return list of {name =, path =}, sorted by name
function M.xdp_tools()
  local out = {}
  for _, path in ipairs(lines("ls /usr/lib/*/bpf/*.o /usr/lib/bpf/*.o")) do
    out[#out + 1] = {name = "xdp-tools " .. path:match("[^/]+$"), path = path}
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

--- cilium/ebpf's test objects (golang-github-cilium-ebpf-dev), little-endian
-- builds: objects another loader's authors wrote, some of which libbpf refuses.
-- @return list of {name =, path =}, sorted by name
function M.cilium_ebpf()
  local out = {}
  for _, path in ipairs(lines("dpkg -L golang-github-cilium-ebpf-dev | grep -E '[-]el[.]elf$'")) do
    out[#out + 1] = {name = "cilium/ebpf " .. path:match("[^/]+$"), path = path}
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

--- libbpf-tools' objects, cut out of the installed tools into dir.
-- Tools that share one binary (ext4dist, xfsdist ... -> fsdist) give one object.
-- @param dir directory to write <tool>.bpf.o files into (created)
-- @return list of {name =, path =}, sorted by name
function M.libbpf_tools(dir)
  local out, seen = {}, {}
  os.execute("mkdir -p " .. dir)
  local tools = lines("dpkg -L libbpf-tools | grep '^/usr/sbin/'")
  table.sort(tools)
  for _, tool in ipairs(tools) do
    local bytes = read(tool)
    for k, obj in ipairs(bytes and M.embedded_objects(bytes) or {}) do
      if not seen[obj] then
        seen[obj] = true
        local base = tool:match("[^/]+$") .. (k > 1 and k or "")
        local path = dir .. "/" .. base .. ".bpf.o"
        local f = assert(io.open(path, "wb"))
        f:write(obj)
        f:close()
        out[#out + 1] = {name = "libbpf-tools " .. base, path = path}
      end
    end
  end
  return out
end

return M
