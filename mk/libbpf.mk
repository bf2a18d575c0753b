# ---- which libbpf (issue 14), included by the Makefile.
# Default: Debian trixie's libbpf (1.5) built from its source package by
# mk/libbpf.sh into build/libbpf-root, static and -fPIC, linked into core.so
# with its symbols hidden (-Wl,--exclude-libs,ALL: core.so exports only its
# luaopen_*); core.so, every BPF object (spec/, examples/, bench/) and the C
# reference loaders (bench, build/load_c) use its headers, so BPF objects
# always match the libbpf that loads them (USDT spec layout, helpers).
# LIBBPF=system: the system's libbpf (libbpf-dev, 1.1.2 on bookworm), linked
# dynamically; chosen by default when it is at least LIBBPF_MIN. Either way
# the system's libbpf is never changed. build/libbpf.mode records the choice:
# switching rebuilds every object.
LIBBPF_MIN  = 1.5
ifndef LIBBPF
LIBBPF     := $(shell pkg-config --atleast-version=$(LIBBPF_MIN) libbpf 2>/dev/null && echo system || echo trixie)
endif
LIBBPF_ROOT = build/libbpf-root

ifeq ($(LIBBPF),system)
LIBBPF_A       =
LIBBPF_BPF_INC =
LIBBPF_CFLAGS  = $(shell pkg-config --cflags libbpf 2>/dev/null)
LIBBPF_LIBS    = $(shell pkg-config --libs libbpf 2>/dev/null)
LIBBPF_VERSION = $(shell pkg-config --modversion libbpf 2>/dev/null)
else ifeq ($(LIBBPF),trixie)
LIBBPF_A       = $(LIBBPF_ROOT)/lib/libbpf.a
LIBBPF_CFLAGS  = -I$(CURDIR)/$(LIBBPF_ROOT)/include
LIBBPF_BPF_INC = -I$(LIBBPF_ROOT)/include
LIBBPF_LIBS    = $(CURDIR)/$(LIBBPF_A) -Wl,--exclude-libs,ALL
LIBBPF_VERSION = $(shell sed -n 's/^Version: //p' $(LIBBPF_ROOT)/lib/pkgconfig/libbpf.pc 2>/dev/null)
else
$(error LIBBPF=$(LIBBPF): want LIBBPF=trixie (build Debian trixie's libbpf) or LIBBPF=system)
endif

# mk/libbpf.sh runs apt-get source (dpkg-dev) and libbpf's own Makefile
DEB_PKGS   += dpkg-dev
NEED_TOOLS += dpkg-source

$(LIBBPF_ROOT)/lib/libbpf.a: mk/libbpf.sh
	mk/libbpf.sh build

# rewritten only when the choice changes, so that only a switch rebuilds
.PHONY: libbpf-mode
build/libbpf.mode: libbpf-mode $(LIBBPF_A)
	@mkdir -p build; m="$(LIBBPF) $(LIBBPF_VERSION)"; \
	[ "$$(cat $@ 2>/dev/null)" = "$$m" ] || echo "$$m" > $@
