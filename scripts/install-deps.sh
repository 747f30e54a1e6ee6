#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the demo use. Does nothing when they are all
# present already (so a warm machine needs no package index). Needs root.
set -euo pipefail

packages=(
    libmnl-dev libnftnl-dev libwolfssl-dev  # the plugin's libraries (libwolfssl35 is shipped beside it)
    nftables iptables iproute2 util-linux   # nft/iptables as test oracles, ip netns, nsenter/unshare
    binutils                                # strip and readelf for the installable binary
    containernetworking-plugins             # bridge, host-local, loopback: the real CNI chain
    podman runc busybox-static              # the real runtime (crun cannot run on hybrid-cgroup hosts)
    curl                                    # an independent HTTP client for the API emulator tests
    time                                    # GNU time: the plugin's peak RSS against hostile servers
)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: swift is not on PATH (expected Swift 6 at /opt/swift/usr/bin)" >&2
    exit 1
fi
