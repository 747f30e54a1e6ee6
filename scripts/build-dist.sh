#!/usr/bin/env bash
# Builds the installable plugin into dist/: a release build with the Swift stdlib, libnftnl and wolfSSL
# linked statically, and libmnl (Debian ships no static archive) carried in dist/istio-cni-libs/, where
# the binary's $ORIGIN rpath finds it. The result needs only glibc on the node.
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
echo "dist/istio-cni ($(du -h dist/istio-cni | cut -f1)) and dist/istio-cni-libs/libmnl.so.0"
