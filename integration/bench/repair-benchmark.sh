#!/usr/bin/env bash
# Repair-loop scale benchmark (issue 4; targets: median status change → action under 1 s, agent RSS
# under 40 MiB). 1,000 mesh pods on the node in the API emulator, a release install-cni agent, then 50
# pods turning broken at once. Usage: repair-benchmark.sh [PODS] [BROKEN] [label|delete]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH=$PATH:/opt/swift/usr/bin
# The agent as the image ships it: static Swift stdlib (no Swift runtime in the image).
swift build -c release --static-swift-stdlib --product install-cni --build-path .build-static >/dev/null 2>&1
swift build -c release --product repair-benchmark >/dev/null 2>&1
exec .build/release/repair-benchmark "$root/.build-static/release/install-cni" "${1:-1000}" "${2:-50}" "${3:-label}"
