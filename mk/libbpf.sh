#!/usr/bin/env bash
# mk/libbpf.sh BUILD_DIR: fetch Debian trixie's libbpf source package and build
# it static, position-independent, into BUILD_DIR/libbpf-root (lib/libbpf.a,
# include/bpf/*.h, include/linux/*.h: the uapi headers it was written for).
# The system's libbpf is never touched: apt runs with a private state under
# BUILD_DIR/apt (its own sources list, lists and cache), and nothing is
# installed outside BUILD_DIR. The mirror is the one this machine's apt
# already uses for Debian (its sources.list and sources.list.d), with the
# suite swapped to trixie. The source is fetched once and kept in
# BUILD_DIR/libbpf-src; `make clean` removes it.
set -euo pipefail
build=$(realpath -m "${1:?usage: mk/libbpf.sh BUILD_DIR}")
suite=${LIBBPF_SUITE:-trixie}
apt=$build/apt
src=$build/libbpf-src
root=$build/libbpf-root
# this script may run from make: the parent's command-line variables (CFLAGS,
# DESTDIR, PREFIX, ...) must not reach libbpf's own Makefile
unset MAKEFLAGS MAKEOVERRIDES MFLAGS MAKELEVEL

# The first Debian mirror of the machine's apt sources: deb822 files
# (URIs:) or one-line entries (deb [opts] URI suite ...). The security
# archive carries no trixie libbpf, so skip it.
mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    case $f in
      *.sources) awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" ;;
      *) awk '$1 == "deb" || $1 == "deb-src" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }' "$f" ;;
    esac
  done | grep -v -e security -e '^cdrom:' | grep -m 1 -i debian
}

fetch() {
  local uri keyring
  uri=$(mirror) || { echo "mk/libbpf.sh: no Debian mirror in /etc/apt/sources.list{,.d}" >&2; exit 1; }
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d"
  echo "deb-src [signed-by=$keyring] $uri $suite main" > "$apt/sources.list"
  local opts=(-o "Dir::State=$apt" -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
              -o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/sources.list.d"
              -o "APT::Sandbox::User=root")
  echo "libbpf: apt-get source libbpf from $uri $suite (private apt state in $apt)"
  apt-get -q "${opts[@]}" update
  rm -rf "$src.tmp" && mkdir -p "$src.tmp"
  (cd "$src.tmp" && apt-get -q "${opts[@]}" source libbpf)
  rm -rf "$src" && mv "$src.tmp" "$src"
}

[ -d "$src" ] && ls -d "$src"/libbpf-*/src >/dev/null 2>&1 || fetch
dir=$(ls -d "$src"/libbpf-*/src | head -n 1)
echo "libbpf: building $dir static with -fPIC into $root"
rm -rf "$root" "$build/libbpf-obj"
make -s -C "$dir" -j"$(nproc)" BUILD_STATIC_ONLY=1 OBJDIR="$build/libbpf-obj" \
  DESTDIR="$root" PREFIX=/ LIBDIR=/lib INCLUDEDIR=/include UAPIDIR=/include \
  EXTRA_CFLAGS="-fPIC -O2 -g" install install_uapi_headers >/dev/null
echo "libbpf: $(sed -n 's/^Version: //p' "$root/lib/pkgconfig/libbpf.pc") in $root"
