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
             $(LIBBPF_CFLAGS) -DLBPF_LIBBPF_VERSION='"$(LIBBPF_VERSION)"' \
             $(shell pkg-config --cflags lua5.4 2>/dev/null)
MOD_LIBS   = $(LIBBPF_LIBS) -lelf -lz

ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS = -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
             -Ibuild $(LIBBPF_BPF_INC) -I/usr/include/$(shell uname -m)-linux-gnu

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

.PHONY: all build deps deps-check build-check test-corpora test demo install clean mounts lint bench docs

# `make` only builds: when a package is missing it says so and stops (issue 19);
# `make deps` installs them, and `make demo`/`make test` run it themselves
all: build-check
	@$(MAKE) --no-print-directory build

# which libbpf: Debian trixie's, built under build/ (default), or LIBBPF=system
include mk/libbpf.mk

# a process with a USDT probe, for spec/attach_spec.lua
EXTRA_BUILD += spec/usdt/usdt_target
spec/usdt/usdt_target: spec/usdt/usdt_target.c
	$(CC) -O1 -g -o $@ $<

# functions for uprobe_multi to match by glob, for spec/attach15_spec.lua
EXTRA_BUILD += spec/umulti/umulti_target
spec/umulti/umulti_target: spec/umulti/umulti_target.c
	$(CC) -O1 -g -o $@ $<

# the privileged parent of spec/token_spec.lua: delegates BPF to a user
# namespace through a bpffs mounted with delegate options
EXTRA_BUILD += spec/token/delegate
spec/token/delegate: spec/token/delegate.c
	$(CC) -O1 -g -Wall -Wextra -Werror -o $@ $<

build: libbpf/core.so $(BPF_OBJS) $(EXTRA_BUILD)

# Install what is missing on a fresh Debian machine (root).
deps:
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_PKGS)

# shell code that sets $$missing to what of the build's and runtime's needs is not installed
FIND_MISSING = missing=; for t in $(NEED_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	for h in $(NEED_HEADERS); do [ -e $$h ] || missing="$$missing $$h"; done

deps-check:
	@$(FIND_MISSING); \
	if [ -n "$$missing" ]; then echo "missing:$$missing -> make deps"; $(MAKE) --no-print-directory deps; fi

build-check:
	@$(FIND_MISSING); \
	if [ -n "$$missing" ]; then echo "missing:$$missing -> run 'make deps' as root (make demo and make test do it themselves)"; exit 1; fi

build/vmlinux.h:
	@mkdir -p build
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# -fvisibility=hidden: core.so exports only its luaopen_* (LBPF_EXPORT).
# -MMD: each object depends on the private headers its source includes, so
# editing one header rebuilds only the files that use it.
build/%.o: csrc/%.c build/libbpf.mode
	@mkdir -p build
	$(CC) $(MOD_CFLAGS) -fvisibility=hidden -MMD -MP -c $< -o $@

-include $(C_OBJS:.o=.d)

libbpf/core.so: $(C_OBJS)
	@mkdir -p libbpf
	$(CC) -shared -o $@ $^ $(MOD_LIBS)

%.bpf.o: %.bpf.c build/vmlinux.h build/libbpf.mode $(wildcard spec/bpf/*.h) $(wildcard examples/*.h)
	clang $(BPF_CFLAGS) -c $< -o $@

# The struct_ops objects again, registering a TCP congestion control named
# NAME (the name is kernel-wide: spec/struct_ops_spec.lua builds its own, so
# that two test runs at once do not collide on lbpf_reno, lbpf_upd). The
# example's map as a `.struct_ops` one (no kernel link): the other kind of
# registration, which the spec checks besides the example's.
build/cc/%/tcpcc_nolink.bpf.o: examples/tcpcc.bpf.c build/vmlinux.h build/libbpf.mode
	@mkdir -p $(@D)
	clang $(BPF_CFLAGS) -DCC_NAME='"$*"' -DCC_SECTION='".struct_ops"' -c $< -o $@

build/cc/%/struct_ops_link.bpf.o: spec/bpf/struct_ops_link.bpf.c build/vmlinux.h build/libbpf.mode
	@mkdir -p $(@D)
	clang $(BPF_CFLAGS) -DCC_NAME='"$*"' -c $< -o $@

spec/bpf/legacy/%.o: spec/bpf/legacy/%.c $(wildcard spec/bpf/legacy/*.h) build/libbpf.mode
	clang -O2 -target bpf -Wall $(LIBBPF_BPF_INC) -I/usr/include/$(shell uname -m)-linux-gnu -c $< -o $@

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
SPEC_NS_SETUP = ip link set lo up && mount -t bpf -o mode=0700 bpf /sys/fs/bpf || exit 1;
SPEC_NS_RUN = set -o pipefail; $(SPEC_NS_SETUP) \
	find /sys/fs/bpf ! -type d | sort > $$LBPF_FRESH_BPFFS; \
	busted --lua=$(LUA) -o TAP --helper=spec/track_progs.lua $(SPECS) 2>&1 | tee build/test.tap; \
	rc=$$?; \
	busted --lua=$(LUA) -o TAP spec/host_state_check.lua 2>&1 | tee -a build/test.tap || rc=1; \
	exit $$rc

# strace: spec/maps_spec.lua tells which syscalls m:dump() made
DEB_PKGS   += strace
NEED_TOOLS += strace

test: deps-check test-corpora all trace-mounts
	@$(MAKE) --no-print-directory lint
	@mkdir -p build; : > build/test.tap; \
	export LBPF_SPEC_RUN=run$$(date +%s%N)x$$$$ LBPF_HOST_PID=$$$$ LBPF_SPECS="$(SPECS)" \
	  LBPF_HOST_BEFORE=$(CURDIR)/build/host-before.txt LBPF_SPEC_IDS=$(CURDIR)/build/spec-ids.txt \
	  LBPF_FRESH_BPFFS=$(CURDIR)/build/bpffs-fresh.txt; \
	$(TESTENV) $(LUA) spec/host_state.lua > build/host-before.txt || exit 1; \
	$(TESTENV) unshare --net --mount --propagation private -- bash -c '$(SPEC_NS_RUN)'; rc=$$?; \
	awk '/^ok .*# SKIP/ {s++; next} /^ok / {p++} /^not ok / {f++} \
	     END {printf "%d passed, %d failed, %d skipped\n", p, f, s}' build/test.tap; \
	exit $$rc

demo: deps-check all mounts
	$(TESTENV) $(LUA) examples/execsnoop.lua --duration 5 --demo

bench: all mounts bench/cbench.so
	$(TESTENV) $(LUA) bench/run.lua

# the C side of the map benchmark (libbpf called directly), bench only
bench/cbench.so: bench/cbench.c bench/clock.h build/libbpf.mode
	$(CC) $(MOD_CFLAGS) -shared -o $@ $< $(MOD_LIBS)

docs:
	ldoc -c docs/config.ld .

install: all
	install -d $(DESTDIR)$(LUA_LIBDIR)/libbpf $(DESTDIR)$(LUA_SHAREDIR)/libbpf $(DESTDIR)$(BINDIR)
	install -m 755 libbpf/core.so $(DESTDIR)$(LUA_LIBDIR)/libbpf/core.so
	install -m 644 lua/libbpf.lua $(DESTDIR)$(LUA_SHAREDIR)/libbpf.lua
	install -m 644 lua/libbpf/*.lua $(DESTDIR)$(LUA_SHAREDIR)/libbpf/
	install -m 644 docs/api.luadoc $(DESTDIR)$(LUA_SHAREDIR)/libbpf/api.luadoc
	install -m 755 lua/lbpf $(DESTDIR)$(BINDIR)/lbpf
	install -d $(DESTDIR)$(EXAMPLESDIR)
	install -m 755 examples/*.lua $(DESTDIR)$(EXAMPLESDIR)/
	install -m 644 examples/*.bpf.o $(DESTDIR)$(EXAMPLESDIR)/
	install -m 644 examples/*.h $(DESTDIR)$(EXAMPLESDIR)/  # bootstrap.lua reads its header (bpf.cdef)
	install -d $(DESTDIR)$(EXAMPLESDIR)/exporter
	install -m 644 examples/exporter/*.lua $(DESTDIR)$(EXAMPLESDIR)/exporter/

clean:
	rm -rf build libbpf/core.so $(BPF_OBJS) $(LEGACY_BPF_OBJS) bench/cbench.so bench/ringbuf_bench.so bench/cmmap.so \
	  bench/perfbuf_bench.so

# ---- compat: third-party objects load through Lua exactly as through C libbpf
# (spec/compat_spec.lua). xdp-tools ships BPF objects under /usr/lib/<triplet>/bpf,
# cilium/ebpf's Go sources ship its loader's test objects;
# libbpf-tools embeds one in each tool. build/load_c is the plain-libbpf reference.
# They are test corpora, not build needs: `make test` installs them in a step of
# its own (test-corpora), saying why; `make` and `make deps` do not.
TEST_PKGS  = xdp-tools libbpf-tools golang-github-cilium-ebpf-dev
TEST_FILES = /usr/sbin/execsnoop /usr/sbin/xdp-filter \
             /usr/share/gocode/src/github.com/cilium/ebpf/testdata/loader-el.elf

test-corpora:
	@missing=; for f in $(TEST_FILES); do [ -e $$f ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  echo "make test: installing $(TEST_PKGS): test corpora only (spec/compat_spec.lua loads their BPF objects, spec/parity_spec.lua runs libbpf-tools next to examples/)"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(TEST_PKGS); fi

build: build/load_c

build/load_c: spec/compat/load_c.c build/libbpf.mode
	@mkdir -p build
	$(CC) $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror $(LIBBPF_CFLAGS) $< -o $@ $(MOD_LIBS)

# ---- exporter (issue 18): examples/exporter.lua serves metrics with lua-http
# on a cqueues loop; spec/exporter_spec.lua checks its output with promtool and
# has a real prometheus server scrape it (queried through its HTTP API, JSON
# read with dkjson).
DEB_PKGS     += lua-http lua-cqueues prometheus lua-dkjson
NEED_TOOLS   += prometheus promtool

# ring buffer bench (events, bench/ringbuf.lua): the C consumer, then the
# Lua-vs-C lines, printed by `make bench` before the other benches
.PHONY: bench-ringbuf
bench: bench-ringbuf
bench-ringbuf: all mounts bench/ringbuf_bench.so
	$(TESTENV) $(LUA) bench/ringbuf.lua

bench/ringbuf_bench.so: bench/ringbuf_bench.c bench/clock.h build/libbpf.mode
	$(CC) $(MOD_CFLAGS) -shared -o $@ $< $(MOD_LIBS)

# metrics bench (issue 18, bench/metrics.lua): a 10,000-series scrape and the
# longest ring buffer polling gap during scrapes on the exporter's loop
.PHONY: bench-metrics
bench: bench-metrics
bench-metrics: all mounts
	$(TESTENV) $(LUA) bench/metrics.lua

# perf buffer bench (issue 17, bench/perfbuf.lua): C through libbpf's
# perf_buffer, the Lua rows, and the ring buffer rows of the same modes
.PHONY: bench-perfbuf
bench: bench-perfbuf
bench-perfbuf: all mounts bench/perfbuf_bench.so bench/ringbuf_bench.so
	$(TESTENV) $(LUA) bench/perfbuf.lua

bench/perfbuf_bench.so: bench/perfbuf_bench.c bench/clock.h build/libbpf.mode
	$(CC) $(MOD_CFLAGS) -shared -o $@ $< $(MOD_LIBS)

# m:mmap() bench (issue 17, bench/mmap.lua): v[k], v:read, v:write against
# the syscalls and a C loop over the same memory, and the floors of Lua
.PHONY: bench-mmap
bench: bench-mmap
bench-mmap: all mounts bench/cmmap.so
	$(TESTENV) $(LUA) bench/mmap.lua

bench/cmmap.so: bench/cmmap.c bench/clock.h build/libbpf.mode
	$(CC) $(MOD_CFLAGS) -shared -o $@ $< $(MOD_LIBS)

# ---- asan (issue 13): `make asan` builds core.so with AddressSanitizer and
# UBSan into build/asan/libbpf/core.so (objects in build/asan/obj, so the plain
# libbpf/core.so is never touched) and runs the whole suite against it
# (ASAN_SPECS=spec/x_spec.lua for one file). See spec/asan/README.md.
# - lua5.4 is not instrumented, so the runtimes are LD_PRELOADed, into the Lua
#   processes only: spec/asan/lua5.4, first in PATH, is the `lua5.4` busted and
#   the specs start, and build/asan/unpreload.so (spec/asan/unpreload.c) drops
#   LD_PRELOAD from the environment before main, so ip, tc, bash and compilers
#   run as in the plain suite. spec/asan/check.lua proves that setup first.
# - LBPF_ASAN=1 tells a spec it runs under ASan: the ones that cannot (a
#   uprobe on libc's malloc, which ASan replaces) are pending there with the
#   reason and run in `make test`.
# - Every report is a file under build/asan/log (asan.PID, ubsan.PID; Lua
#   children often send stderr to /dev/null) and counts as one failure in the
#   closing "N passed, N failed, N skipped" line; build/asan/pids/PID names the
#   command line of each Lua process. UBSan findings abort
#   (-fno-sanitize-recover).
# - Leaks are checked (detect_leaks=1): Lua's own allocations are freed by
#   lua_close or still reachable from the state at exit, so LSan reports only
#   blocks nobody points to any more. unpreload.so keeps C modules mapped at
#   lua_close (dlclose is a no-op) so leak stacks name our frames; a static
#   buffer freed only by unloading is therefore not reported.
.PHONY: asan
ASAN_DIR    = build/asan
ASAN_SPECS ?= spec
# make test SPECS=spec/x_spec.lua runs one spec file (the host-state check still runs).
SPECS ?= spec
ASAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
ASAN_CFLAGS = -O1 -g $(ASAN_FLAGS) -std=gnu11 -Wall -Wextra -Werror -fPIC \
              $(LIBBPF_CFLAGS) -DLBPF_LIBBPF_VERSION='"$(LIBBPF_VERSION)"' \
              $(shell pkg-config --cflags lua5.4 2>/dev/null)
ASAN_OBJS   = $(patsubst csrc/%.c,$(ASAN_DIR)/obj/%.o,$(C_SRCS))
ASAN_LOG    = $(CURDIR)/$(ASAN_DIR)/log
# resolved here, before spec/asan is put first in PATH
ASAN_REAL_LUA := $(shell command -v $(LUA))
ASANENV     = LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;" \
              LUA_CPATH="$(CURDIR)/$(ASAN_DIR)/?.so;;" \
              PATH="$(CURDIR)/spec/asan:$$PATH" LBPF_ASAN=1 \
              LBPF_ASAN_LUA="$(ASAN_REAL_LUA)" \
              LBPF_ASAN_PRELOAD="$$($(CC) -print-file-name=libasan.so):$$($(CC) -print-file-name=libubsan.so):$(CURDIR)/$(ASAN_DIR)/unpreload.so" \
              LBPF_UBSAN_LOG="$(ASAN_LOG)/ubsan" \
              LBPF_ASAN_PIDS="$(CURDIR)/$(ASAN_DIR)/pids" \
              LUAROCKS_CONFIG_5_4="$(CURDIR)/$(ASAN_DIR)/luarocks-5.4.lua" \
              ASAN_OPTIONS="log_path=$(ASAN_LOG)/asan:detect_leaks=1:fast_unwind_on_malloc=0:print_suppressions=0" \
              LSAN_OPTIONS="suppressions=$(CURDIR)/spec/asan/lsan.supp:print_suppressions=0" \
              UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

$(ASAN_DIR)/obj/%.o: csrc/%.c csrc/*.h build/libbpf.mode
	@mkdir -p $(ASAN_DIR)/obj
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_DIR)/libbpf/core.so: $(ASAN_OBJS)
	@mkdir -p $(ASAN_DIR)/libbpf
	$(CC) -shared $(ASAN_FLAGS) -o $@ $^ $(MOD_LIBS)

# luarocks (spec/rock_spec.lua) takes the first lua5.4 in PATH as the Lua it
# builds for, and would look for lua.h next to spec/asan/lua5.4: name the real one.
$(ASAN_DIR)/luarocks-5.4.lua:
	@mkdir -p $(ASAN_DIR)
	printf 'variables = { LUA_DIR = "%s", LUA_BINDIR = "%s", LUA_INCDIR = "%s" }\n' \
	  "$(patsubst %/bin/,%,$(dir $(ASAN_REAL_LUA)))" "$(patsubst %/,%,$(dir $(ASAN_REAL_LUA)))" \
	  "$(patsubst -I%,%,$(filter -I%lua5.4,$(shell pkg-config --cflags lua5.4)))" > $@

$(ASAN_DIR)/unpreload.so: spec/asan/unpreload.c
	@mkdir -p $(ASAN_DIR)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl

asan: deps-check test-corpora all trace-mounts $(ASAN_DIR)/libbpf/core.so $(ASAN_DIR)/unpreload.so $(ASAN_DIR)/luarocks-5.4.lua
	@[ -e "$$($(CC) -print-file-name=libasan.so)" ] || { echo "asan: no libasan.so for $(CC)"; exit 1; }
	@rm -rf $(ASAN_LOG) $(ASAN_DIR)/pids; mkdir -p $(ASAN_LOG) $(ASAN_DIR)/pids; set -o pipefail; \
	$(ASANENV) $(LUA) spec/asan/check.lua $(CURDIR)/$(ASAN_DIR)/libbpf/core.so || exit 1; \
	$(ASANENV) LBPF_SPEC_RUN=asan$$(date +%s%N)x$$$$ unshare --net --mount --propagation private -- \
	  bash -c 'set -o pipefail; $(SPEC_NS_SETUP) busted --lua=$(LUA) -o TAP $(ASAN_SPECS) 2>&1 | tee $(ASAN_DIR)/test.tap'; rc=$$?; \
	reports=$$(ls $(ASAN_LOG) | wc -l); \
	for f in $(ASAN_LOG)/*; do [ -e "$$f" ] || continue; \
	  echo "---- $$f: $$(cat $(ASAN_DIR)/pids/$${f##*.} 2>/dev/null)"; cat "$$f"; done; \
	echo "asan: $$reports sanitizer report(s) in $(ASAN_DIR)/log"; \
	awk -v r=$$reports '/^ok .*# SKIP/ {s++; next} /^ok / {p++} /^not ok / {f++} \
	     END {printf "%d passed, %d failed, %d skipped\n", p, f + r, s}' $(ASAN_DIR)/test.tap; \
	[ $$rc -eq 0 ] && [ $$reports -eq 0 ]

# ---- fuzz (issue 13): the API-misuse, BTF and ELF fuzzers at length, against the
# sanitized module of `make asan` (build/asan/libbpf/core.so, preloaded into the
# fuzzers' child processes). `make test` runs both with a fixed seed and a
# short count against the normal build. Knobs: FUZZ_SEEDS (list or count),
# FUZZ_CALLS, FUZZ_MUTANTS, FUZZ_ELF_MUTANTS (the ELF fuzzer's, per seed; default
# FUZZ_MUTANTS), FUZZ_ALL=1 (also the calls of spec/fuzz/known.lua).
.PHONY: fuzz
FUZZ_SEEDS   ?= 1 2 3 4 5 6 7 8 9 10
FUZZ_CALLS   ?= 3000
FUZZ_MUTANTS ?= 5000

fuzz: all mounts $(ASAN_DIR)/libbpf/core.so
	$(TESTENV) FUZZ_ASAN="$(CURDIR)/$(ASAN_DIR)" FUZZ_SEEDS="$(FUZZ_SEEDS)" \
	  FUZZ_CALLS=$(FUZZ_CALLS) FUZZ_MUTANTS=$(FUZZ_MUTANTS) FUZZ_ALL=$(FUZZ_ALL) \
	  FUZZ_ELF_MUTANTS=$(FUZZ_ELF_MUTANTS) \
	  busted --lua=$(LUA) spec/fuzz_misuse_spec.lua spec/fuzz_btf_spec.lua spec/fuzz_elf_spec.lua

# ---- bpf.compile (issue 16): the directory whose bpf/*.h inline BPF C
# includes, recorded in core.so (csrc/cc.c; LUA_LIBBPF_INCLUDE overrides it
# at run time). A build against another libbpf sets it to that one's headers.
LIBBPF_INCLUDE ?= /usr/include
build/cc.o: MOD_CFLAGS += -DLBPF_BPF_INCLUDE='"$(LIBBPF_INCLUDE)"'
$(ASAN_DIR)/obj/cc.o: ASAN_CFLAGS += -DLBPF_BPF_INCLUDE='"$(LIBBPF_INCLUDE)"'

# bpf.compile timings (bench/compile.lua), in an empty compile cache
.PHONY: bench-compile
bench: bench-compile
bench-compile: all
	@d=$$(mktemp -d); XDG_CACHE_HOME=$$d $(TESTENV) $(LUA) bench/compile.lua; rc=$$?; rm -rf $$d; exit $$rc
