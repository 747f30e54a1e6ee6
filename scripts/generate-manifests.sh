#!/usr/bin/env bash
# Regenerates the checked-in manifests in daemonset/ (Tests/ManifestsTests fails when they are stale).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/opt/swift/usr/bin
swift build --product install-cni >/dev/null 2>&1
.build/debug/install-cni manifest generate > daemonset/istio-cni.yaml
.build/debug/install-cni manifest generate -f daemonset/openshift-values.yaml > daemonset/istio-cni-openshift.yaml
echo "wrote daemonset/istio-cni.yaml and daemonset/istio-cni-openshift.yaml"
