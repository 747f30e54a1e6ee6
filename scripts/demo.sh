#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine, as root: builds the installable plugin and runs real pods
# with podman through a conflist chaining Debian's bridge + host-local and our istio-cni, against the API
# emulator, and shows the rules in the pod's namespace and where its traffic lands.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/opt/swift/usr/bin

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (podman, network namespaces)" >&2; exit 1; }
scripts/install-deps.sh
echo "demo: building (the first build fetches nothing but compiles SwiftNIO for the API emulator: a few minutes)"
scripts/build-dist.sh
swift build -c release --static-swift-stdlib --product netprobe
swift build --product kube-emulator
swift build --product install-cni
KUBE_EMULATOR=$PWD/.build/debug/kube-emulator INSTALL_CNI=$PWD/.build/debug/install-cni exec integration/podman-chain.sh
