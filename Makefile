# lua-libbpf: `make` builds libbpf/core.so and the BPF objects, `make test`
# runs the specs, `make demo` traces execs for a few seconds.
SHELL := /bin/bash

LUA       ?= lua5.4
PREFIX    ?= /usr/local
LUA_LIBDIR   ?= $(PREFIX)/lib/lua/5.4
LUA_SHAREDIR ?= $(PREFIX)/share/lua/5.4
BINDIR    ?= $(PREFIX)/bin
EXAMPLESDIR ?= $(PREFIX)/share/lua-libbpf/examples

# Debian packages the build, the specs and the examples need.
DEB_PKGS  = clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool liblua5.4-dev \
            lua5.4 lua-busted lua-check lua-ldoc luarocks pkg-config iproute2 \
            make gcc systemtap-sdt-dev lua-socket lua-readline lua-markdown
NEED_TOOLS   = clang llvm-strip bpftool $(LUA) busted luacheck ldoc luarocks \
               pkg-config ip cc
NEED_HEADERS = /usr/include/bpf/libbpf.h /usr/include/libelf.h \
               /usr/include/gelf.h /usr/include/zlib.h /usr/include/lua5.4/lua.h \
               /usr/include/$(shell cc -print-multiarch)/sys/sdt.h

CC        ?= cc
CFLAGS    ?= -O2 -g
MOD_CFLAGS = $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -fPIC \
             $(shell pkg-config --cflags libbpf lua5.4 2>/dev/null)
MOD_LIBS   = $(shell pkg-config --libs libbpf 2>/dev/null) -lelf -lz

ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS = -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
             -Ibuild -I/usr/include/$(shell uname -m)-linux-gnu

C_SRCS    = $(wildcard csrc/*.c)
C_OBJS    = $(patsubst csrc/%.c,build/%.o,$(C_SRCS))
BPF_SRCS  = $(wildcard spec/bpf/*.bpf.c) $(wildcard examples/*.bpf.c) $(wildcard bench/*.bpf.c)
BPF_OBJS  = $(BPF_SRCS:.c=.o)

TESTENV   = LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;" \
            LUA_CPATH="$(CURDIR)/?.so;;"

# Objects in iproute2's and the old bpf_map_def conventions (issue 8): built
# like `tc` users built them, without -g (no BTF) and without vmlinux.h.
LEGACY_BPF_OBJS = $(patsubst %.c,%.o,$(wildcard spec/bpf/legacy/*.c))
EXTRA_BUILD += $(LEGACY_BPF_OBJS)

.PHONY: all build deps deps-check test demo install clean mounts lint bench docs

all: deps-check
	@$(MAKE) --no-print-directory build

# a process with a USDT probe, for spec/attach_spec.lua
EXTRA_BUILD += spec/usdt/usdt_target
spec/usdt/usdt_target: spec/usdt/usdt_target.c
	$(CC) -O1 -g -o $@ $<

build: libbpf/core.so $(BPF_OBJS) $(EXTRA_BUILD)

# Install what is missing on a fresh Debian machine (root).
deps:
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_PKGS)

deps-check:
	@missing=; for t in $(NEED_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	for h in $(NEED_HEADERS); do [ -e $$h ] || missing="$$missing $$h"; done; \
	if [ -n "$$missing" ]; then echo "missing:$$missing -> make deps"; $(MAKE) --no-print-directory deps; fi

build/vmlinux.h:
	@mkdir -p build
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# -fvisibility=hidden: core.so exports only its luaopen_* (LBPF_EXPORT).
# -MMD: each object depends on the private headers its source includes, so
# editing one header rebuilds only the files that use it.
build/%.o: csrc/%.c
	@mkdir -p build
	$(CC) $(MOD_CFLAGS) -fvisibility=hidden -MMD -MP -c $< -o $@

-include $(C_OBJS:.o=.d)

libbpf/core.so: $(C_OBJS)
	@mkdir -p libbpf
	$(CC) -shared -o $@ $^ $(MOD_LIBS)

%.bpf.o: %.bpf.c build/vmlinux.h $(wildcard spec/bpf/*.h) $(wildcard examples/*.h)
	clang $(BPF_CFLAGS) -c $< -o $@

spec/bpf/legacy/%.o: spec/bpf/legacy/%.c $(wildcard spec/bpf/legacy/*.h)
	clang -O2 -target bpf -Wall -I/usr/include/$(shell uname -m)-linux-gnu -c $< -o $@

# bpffs, tracefs and debugfs are needed by pins, tracepoints and uprobes.
# bpffs is root's only (mode=0700, which the kernel shows as 1700; its default is
# 1777): pins are not for other users to read or replace.
mounts: trace-mounts
	@mountpoint -q /sys/fs/bpf || mount -t bpf -o mode=0700 bpf /sys/fs/bpf

.PHONY: trace-mounts
trace-mounts:
	@mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
	@mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug

lint:
	luacheck -q $(wildcard lua spec examples bench lua/lbpf)
	$(LUA) spec/tools/layers.lua csrc

# Runs every spec; the last line is "N passed, N failed, N skipped".
# The specs run in a network and mount namespace of their own (unshare): lo
# there is the run's own and a fresh bpffs (mode 0700) is mounted on
# /sys/fs/bpf, so XDP, tc and pins never touch the host's, and two runs at
# once never collide (cgroups, which are not namespaced here, get names with
# LBPF_SPEC_RUN in them). tracefs, debugfs and cgroup2 stay the host's.
# spec/track_progs.lua records the ids of the programs and maps the specs
# create; then spec/host_state_check.lua, in a busted run of its own so that
# it runs last, checks that no such program is still loaded, that none of
# them is pinned in the host's bpffs or attached to the host's lo (compared
# with a snapshot taken before the run, seen through nsenter into this
# shell's namespaces, LBPF_HOST_PID), that no cgroup of the run is left and
# that the run's own lo and bpffs are clean.
SPEC_NS_RUN = set -o pipefail; \
	ip link set lo up && mount -t bpf -o mode=0700 bpf /sys/fs/bpf || exit 1; \
	find /sys/fs/bpf ! -type d | sort > $$LBPF_FRESH_BPFFS; \
	busted --lua=$(LUA) -o TAP --helper=spec/track_progs.lua spec 2>&1 | tee build/test.tap; \
	rc=$$?; \
	busted --lua=$(LUA) -o TAP spec/host_state_check.lua 2>&1 | tee -a build/test.tap || rc=1; \
	exit $$rc

# strace: spec/maps_spec.lua tells which syscalls m:dump() made
DEB_PKGS   += strace
NEED_TOOLS += strace

test: all trace-mounts
	@$(MAKE) --no-print-directory lint
	@mkdir -p build; : > build/test.tap; \
	export LBPF_SPEC_RUN=run$$(date +%s%N)x$$$$ LBPF_HOST_PID=$$$$ \
	  LBPF_HOST_BEFORE=$(CURDIR)/build/host-before.txt LBPF_SPEC_IDS=$(CURDIR)/build/spec-ids.txt \
	  LBPF_FRESH_BPFFS=$(CURDIR)/build/bpffs-fresh.txt; \
	$(TESTENV) $(LUA) spec/host_state.lua > build/host-before.txt || exit 1; \
	$(TESTENV) unshare --net --mount --propagation private -- bash -c '$(SPEC_NS_RUN)'; rc=$$?; \
	awk '/^ok .*# SKIP/ {s++; next} /^ok / {p++} /^not ok / {f++} \
	     END {printf "%d passed, %d failed, %d skipped\n", p, f, s}' build/test.tap; \
	exit $$rc

demo: all mounts
	$(TESTENV) $(LUA) examples/execsnoop.lua --duration 5 --demo

bench: all mounts bench/cbench.so
	$(TESTENV) $(LUA) bench/run.lua

# the C side of the map benchmark (libbpf called directly), bench only
bench/cbench.so: bench/cbench.c bench/clock.h
	$(CC) $(MOD_CFLAGS) -shared -o $@ $< $(MOD_LIBS)

docs:
	ldoc -c docs/config.ld .

install: all
	install -d $(DESTDIR)$(LUA_LIBDIR)/libbpf $(DESTDIR)$(LUA_SHAREDIR)/libbpf $(DESTDIR)$(BINDIR)
	install -m 755 libbpf/core.so $(DESTDIR)$(LUA_LIBDIR)/libbpf/core.so
	install -m 644 lua/libbpf.lua $(DESTDIR)$(LUA_SHAREDIR)/libbpf.lua
	install -m 644 lua/libbpf/*.lua $(DESTDIR)$(LUA_SHAREDIR)/libbpf/
	install -m 755 lua/lbpf $(DESTDIR)$(BINDIR)/lbpf
	install -d $(DESTDIR)$(EXAMPLESDIR)
	install -m 755 examples/*.lua $(DESTDIR)$(EXAMPLESDIR)/
	install -m 644 examples/*.bpf.o $(DESTDIR)$(EXAMPLESDIR)/

clean:
	rm -rf build libbpf $(BPF_OBJS) $(LEGACY_BPF_OBJS) bench/cbench.so bench/ringbuf_bench.so

# ---- compat: third-party objects load through Lua exactly as through C libbpf
# (spec/compat_spec.lua). xdp-tools ships BPF objects under /usr/lib/<triplet>/bpf,
# cilium/ebpf's Go sources ship its loader's test objects;
# libbpf-tools embeds one in each tool. build/load_c is the plain-libbpf reference.
DEB_PKGS     += xdp-tools libbpf-tools golang-github-cilium-ebpf-dev
NEED_HEADERS += /usr/sbin/execsnoop /usr/sbin/xdp-filter \
                /usr/share/gocode/src/github.com/cilium/ebpf/testdata/loader-el.elf

build: build/load_c

build/load_c: spec/compat/load_c.c
	@mkdir -p build
	$(CC) $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror $< -o $@ $(MOD_LIBS)

# ring buffer bench (events, bench/ringbuf.lua): the C consumer, then the
# Lua-vs-C lines, printed by `make bench` before the other benches
.PHONY: bench-ringbuf
bench: bench-ringbuf
bench-ringbuf: all mounts bench/ringbuf_bench.so
	$(TESTENV) $(LUA) bench/ringbuf.lua

bench/ringbuf_bench.so: bench/ringbuf_bench.c bench/clock.h
	$(CC) $(MOD_CFLAGS) -shared -o $@ $< $(MOD_LIBS)

# ---- fuzz (issue 13): the API-misuse and BTF fuzzers at length, the module
# built with AddressSanitizer (build/asan/libbpf/core.so, preloaded into the
# fuzzers' child processes). `make test` runs both with a fixed seed and a
# short count against the normal build. Knobs: FUZZ_SEEDS (list or count),
# FUZZ_CALLS, FUZZ_MUTANTS, FUZZ_ALL=1 (also the calls of spec/fuzz/known.lua).
.PHONY: fuzz
ASAN_OBJS = $(patsubst csrc/%.c,build/asan/%.o,$(C_SRCS))
FUZZ_SEEDS   ?= 1 2 3 4 5 6 7 8 9 10
FUZZ_CALLS   ?= 3000
FUZZ_MUTANTS ?= 5000

build/asan/%.o: csrc/%.c csrc/*.h
	@mkdir -p build/asan
	$(CC) $(MOD_CFLAGS) -O1 -fsanitize=address -fno-omit-frame-pointer -c $< -o $@

build/asan/libbpf/core.so: $(ASAN_OBJS)
	@mkdir -p build/asan/libbpf
	$(CC) -shared -fsanitize=address -o $@ $^ $(MOD_LIBS)

fuzz: all mounts build/asan/libbpf/core.so
	$(TESTENV) FUZZ_ASAN="$(CURDIR)/build/asan" FUZZ_SEEDS="$(FUZZ_SEEDS)" \
	  FUZZ_CALLS=$(FUZZ_CALLS) FUZZ_MUTANTS=$(FUZZ_MUTANTS) FUZZ_ALL=$(FUZZ_ALL) \
	  busted --lua=$(LUA) spec/fuzz_misuse_spec.lua spec/fuzz_btf_spec.lua
