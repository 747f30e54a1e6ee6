#!/usr/bin/env bash
# Every test, on a fresh Debian 12 machine, as root: installs the packages, builds the installable
# plugin (dist/) and the test tools, then runs the whole suite against the installable plugin.
# Tests create their own network namespaces (icni-t-*) and remove them; nothing touches the host netns.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/opt/swift/usr/bin

[ "$(id -u)" -eq 0 ] || { echo "test: run as root (tests create network namespaces and nftables rules)" >&2; exit 1; }
scripts/install-deps.sh
swift build --build-tests
scripts/build-dist.sh
# The podman chain runs netprobe inside a container rootfs, so it must not need the Swift runtime.
swift build -c release --static-swift-stdlib --product netprobe
# The tests run the installable plugin, and the debug agent and emulator this build just made.
ISTIO_CNI_PLUGIN=$PWD/dist/istio-cni INSTALL_CNI=$PWD/.build/debug/install-cni KUBE_EMULATOR=$PWD/.build/debug/kube-emulator \
    swift test --skip-build "$@"
leftover=$(ip netns list | awk '$1 ~ /^icni-/ { print $1 }')
[ -z "$leftover" ] || { echo "test: namespaces left behind: $leftover" >&2; exit 1; }
# Every fuzz target for a short bounded time (scripts/fuzz.sh TARGET 600 is the long local run).
[ $# -gt 0 ] || scripts/fuzz.sh all "${FUZZ_SECONDS:-20}"
