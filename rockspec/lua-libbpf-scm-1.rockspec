-- luarocks --lua-version=5.4 make rockspec/lua-libbpf-scm-1.rockspec [--tree DIR]
-- builds libbpf/core.so with the project's Makefile (the C sources are
-- csrc/*.c, taken by the Makefile's wildcard) and installs the module,
-- lua/libbpf.lua, lua/libbpf/*.lua and the `lbpf` REPL through `make install`.
-- libbpf: core.so links libbpf 1.5 statically (symbols hidden), built by
-- mk/libbpf.sh from Debian trixie's source package (`apt-get source`, with a
-- private apt state under build/: the first build needs the network and
-- dpkg-dev), unless the system's libbpf is at least 1.5, which it then links
-- dynamically. So libbpf is not an external dependency; libelf and zlib are
-- (libbpf's own).
rockspec_format = "3.0"
package = "lua-libbpf"
version = "scm-1"

source = {
   -- Placeholder until the project has a public home; `luarocks make`
   -- builds from the checkout it is run in and does not fetch this.
   url = "git+https://example.invalid/lua-libbpf.git",
}

description = {
   summary = "libbpf for Lua 5.4: open, load, attach BPF objects and use their maps",
   detailed = [[
The whole life of a BPF program from Lua 5.4, through libbpf: open a BPF ELF
object, change it before load, load it with readable verifier errors, attach
its programs, read, write and stream its maps. Includes the `lbpf` REPL.]],
   license = "MIT",
   labels = { "bpf", "ebpf", "linux", "tracing" },
}

supported_platforms = { "linux" }

dependencies = {
   "lua >= 5.4",
}

external_dependencies = {
   LIBELF = { header = "libelf.h", library = "elf" },
   ZLIB = { header = "zlib.h", library = "z" },
}

build = {
   type = "make",
   build_target = "libbpf/core.so",
   build_variables = {
      CFLAGS = "$(CFLAGS)",
      LIBFLAG = "$(LIBFLAG)",
      LUA_INCDIR = "$(LUA_INCDIR)",
   },
   install_target = "install",
   install_variables = {
      LUA_LIBDIR = "$(LIBDIR)",
      LUA_SHAREDIR = "$(LUADIR)",
      BINDIR = "$(BINDIR)",
      EXAMPLESDIR = "$(PREFIX)/examples",
   },
}
