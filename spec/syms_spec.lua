-- spec/syms_spec.lua: kernel and user symbol resolution, stack decoding.
local syms = require "libbpf.syms"
local core = require "libbpf.core"

-- address of a kernel text symbol as /proc/kallsyms lists it
local function kallsyms_addr(name)
  for line in io.lines("/proc/kallsyms") do
    local addr, sym = line:match("^(%x+) [Tt] (%S+)$")
    if sym == name then return tonumber(addr, 16) end
  end
end

-- address of a dynamic symbol as binutils' nm sees it
local function nm_addr(path, name)
  local p = assert(io.popen("nm -D --defined-only " .. path .. " 2>/dev/null"))
  local out = p:read("a")
  p:close()
  local addr = out:match("\n?(%x+) [TtiW] " .. name .. "\n")
  return addr and tonumber(addr, 16)
end

describe("libbpf.syms kernel symbols", function()
  local ksyms = assert(syms.load_kallsyms())
  local vfs_read = kallsyms_addr("vfs_read")

  it("resolves the address of a known kernel function to its name", function()
    assert.is_not_nil(vfs_read)
    assert.is_true(vfs_read < 0, "kernel text sits above 2^63")
    local name, off = ksyms:resolve(vfs_read)
    assert.are.equal("vfs_read", name)
    assert.are.equal(0, off)
  end)

  it("gives the offset of an address inside a function", function()
    local name, off = syms.ksym(vfs_read + 0x13)
    assert.are.equal("vfs_read", name)
    assert.are.equal(0x13, off)
  end)

  it("looks symbols up by name", function()
    assert.are.equal(vfs_read, ksyms:addr("vfs_read"))
    assert.are.equal(vfs_read, syms.ksym_addr("vfs_read"))
    assert.is_nil(ksyms:addr("no_such_symbol_here"))
  end)

  it("returns nil below the first symbol and an error for a missing file", function()
    assert.is_nil(ksyms:resolve(0))
    local k, err = syms.load_kallsyms("/nonexistent/kallsyms")
    assert.is_nil(k)
    assert.matches("No such file", err)
  end)
end)

describe("libbpf.syms ELF symbols", function()
  it("lists the function symbols of /bin/bash with nm's addresses", function()
    local list, layout = core.elf_symbols("/bin/bash")
    local found
    for _, s in ipairs(list) do
      if s.name == "readline" then found = s end
    end
    assert.is_not_nil(found)
    assert.are.equal(nm_addr("/bin/bash", "readline"), found.addr)
    assert.is_true(found.size > 0)
    assert.are.equal("dyn", layout.type)
    assert.is_true(#layout.loads >= 2)
  end)

  it("resolves an ELF virtual address inside a function", function()
    local bash = assert(syms.elf("/bin/bash"))
    local addr = nm_addr("/bin/bash", "readline")
    assert.are.same({ "readline", 7 }, { bash:resolve(addr + 7) })
  end)

  it("returns nil, message, errno for a missing or non-ELF file", function()
    local l, err, code = core.elf_symbols("/nonexistent/bin")
    assert.is_nil(l)
    assert.matches("/nonexistent/bin", err)
    assert.are.equal(2, code)
    l, err = core.elf_symbols("/etc/passwd")
    assert.is_nil(l)
    assert.matches("not an ELF file", err)
  end)
end)

describe("libbpf.syms process maps", function()
  it("parses /proc/PID/maps lines", function()
    local maps = syms.parse_maps(
      "55d0c0a00000-55d0c0a2f000 r--p 00000000 fe:01 1234   /usr/bin/bash\n" ..
      "55d0c0a2f000-55d0c0b00000 r-xp 0002f000 fe:01 1234   /usr/bin/bash\n" ..
      "7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0      [stack]\n")
    assert.are.equal(3, #maps)
    assert.are.same({ start = 0x55d0c0a2f000, finish = 0x55d0c0b00000, perms = "r-xp",
                      offset = 0x2f000, inode = 1234, path = "/usr/bin/bash" }, maps[2])
    assert.are.equal("[stack]", maps[3].path)
  end)

  it("resolves a live code address of this process through its PIE load bias", function()
    -- %p of a C function is its address in the loaded libbpf/core.so
    local addr = tonumber(string.format("%p", core.elf_symbols):sub(3), 16)
    local proc = assert(syms.process(tonumber(io.open("/proc/self/stat"):read("l"):match("^%d+"))))
    local name, off, path = proc:resolve(addr)
    assert.are.equal("l_elf_symbols", name)
    assert.are.equal(0, off)
    assert.matches("core%.so$", path)
  end)
end)

describe("libbpf.syms stacks", function()
  it("decodes raw stack-map bytes up to the first zero", function()
    local raw = string.pack("=I8I8I8I8", 0x1111, -0x7e000000, 0, 0x2222)
    assert.are.same({ 0x1111, -0x7e000000 }, syms.stack(raw))
  end)

  it("takes a decoded list of integers too", function()
    assert.are.same({ 1, 2 }, syms.stack({ 1, 2, 0, 0 }))
  end)

  it("formats frames like bcc", function()
    assert.are.equal("vfs_read+0x13", syms.format("vfs_read", 0x13))
    assert.are.equal("vfs_read", syms.format("vfs_read", 0))
    assert.are.equal("[unknown]", syms.format(nil))
  end)
end)

describe("bpf.elf_symbol_offset", function()
  -- readelf's answer turned into a file offset: the symbol's value, moved
  -- from its PT_LOAD segment's address to that segment's place in the file
  local function readelf_offset(path, name)
    local p = assert(io.popen("readelf -Ws " .. path))
    local value
    for line in p:lines() do
      local v, sym = line:match("^%s*%d+:%s+(%x+)%s+%d+%s+FUNC%s+%u+%s+%u+%s+%S+%s+([^@%s]+)")
      if sym == name then value = tonumber(v, 16) end
    end
    p:close()
    p = assert(io.popen("readelf -lW " .. path))
    for line in p:lines() do
      local off, vaddr, filesz = line:match("^%s*LOAD%s+0x(%x+)%s+0x(%x+)%s+0x%x+%s+0x(%x+)")
      if off then
        off, vaddr, filesz = tonumber(off, 16), tonumber(vaddr, 16), tonumber(filesz, 16)
        if value >= vaddr and value < vaddr + filesz then
          p:close()
          return value - vaddr + off
        end
      end
    end
    p:close()
  end

  it("matches readelf for a non-PIE binary (addresses differ from offsets) and for libc", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    finally(function() os.execute("rm -rf " .. dir) end)
    local src = assert(io.open(dir .. "/t.c", "w"))
    src:write("int lbpf_marked_fn(int x) { return x * 3; }\nint main(void) { return lbpf_marked_fn(1) - 3; }\n")
    src:close()
    assert(os.execute(("cc -O0 -no-pie -o %s/t %s/t.c"):format(dir, dir)))
    local bpf = require "libbpf"
    local off = assert(bpf.elf_symbol_offset(dir .. "/t", "lbpf_marked_fn"))
    assert.equal(readelf_offset(dir .. "/t", "lbpf_marked_fn"), off)
    local e = assert(syms.elf(dir .. "/t"))
    assert.is_true(e.type == "exec")
    assert.is_not.equal(off, e.list[1].addr) -- non-PIE: an address is not an offset
    local libc = "/lib/x86_64-linux-gnu/libc.so.6"
    assert.equal(readelf_offset(libc, "malloc"), assert(bpf.elf_symbol_offset(libc, "malloc")))
    local none, err, code = bpf.elf_symbol_offset(dir .. "/t", "no_such_fn")
    assert.is_nil(none)
    assert.matches("no function 'no_such_fn' in .*/t", err)
    assert.equal(2, code)
    assert.is_nil(bpf.elf_symbol_offset(dir .. "/missing", "main"))
    assert.error_matches(function() bpf.elf_symbol_offset(dir .. "/t") end, "name must be a string")
  end)
end)
