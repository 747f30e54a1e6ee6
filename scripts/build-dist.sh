#!/usr/bin/env bash
# Builds the installable plugin into dist/: a release build with the Swift stdlib and libnftnl linked
# statically; libmnl (Debian ships no static archive) and wolfSSL (loaded with dlopen only when the
# plugin asks the API itself, so the cache path never pays for it) are carried in dist/istio-cni-libs/,
# where the binary's $ORIGIN rpath finds them (DT_RPATH, so before any LD_LIBRARY_PATH). The result needs only glibc on the node.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --static-swift-stdlib --disable-local-rpath --product istio-cni
rm -rf dist
mkdir -p dist/istio-cni-libs
install -m 0755 .build/release/istio-cni dist/istio-cni
strip --strip-unneeded dist/istio-cni
libmnl=$(ldd .build/release/istio-cni | awk '$1 == "libmnl.so.0" { print $3 }')
[ -n "$libmnl" ] || { echo "build-dist: libmnl.so.0 not found (apt-get install libmnl0)" >&2; exit 1; }
install -m 0644 "$(readlink -f "$libmnl")" dist/istio-cni-libs/libmnl.so.0
libwolfssl=$(ldconfig -p | awk '$1 == "libwolfssl.so.35" && /x86-64|x86_64|aarch64|arm64/ { print $NF; exit }')
[ -n "$libwolfssl" ] || { echo "build-dist: libwolfssl.so.35 not found (apt-get install libwolfssl35)" >&2; exit 1; }
install -m 0644 "$(readlink -f "$libwolfssl")" dist/istio-cni-libs/libwolfssl.so.35
echo "dist/istio-cni ($(du -h dist/istio-cni | cut -f1)), dist/istio-cni-libs/libmnl.so.0 and libwolfssl.so.35 ($(du -h dist/istio-cni-libs/libwolfssl.so.35 | cut -f1))"
