#!/usr/bin/env bash
# ADD benchmark (issue target: plugin / iptables-restore <= 1.5 with the pod fetched over TLS).
# Builds the installable plugin and a release API emulator, preloads a default sidecar pod, and runs
# addbench: every sample in a fresh network namespace, plugin ADD vs pre-entered iptables-restore
# --noflush and nft -f of the same rules, interleaved. Usage: add-benchmark.sh [SAMPLES] (default 300).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
samples=${1:-300}
work=$(mktemp -d /tmp/istio-cni-bench.XXXXXX)
emulator_pid=""
cleanup() {
    [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
scripts/build-dist.sh >/dev/null
swift build -c release --product kube-emulator >/dev/null
gcc -O2 -Wall -o "$work/addbench" integration/bench/addbench.c

cat > "$work/pods.json" <<'JSON'
[{"metadata": {"name": "web", "namespace": "default",
   "annotations": {"sidecar.istio.io/status": "{\"initContainers\":[\"istio-validation\"],\"containers\":[\"istio-proxy\"]}"}},
  "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy", "args": ["proxy", "sidecar"]}],
           "initContainers": [{"name": "istio-validation"}]}}]
JSON
.build/release/kube-emulator --state-dir "$work/emulator" --key-type "${KEY_TYPE:-rsa}" --preload "$work/pods.json" 2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do [ -s "$work/emulator/port" ] && break; sleep 0.1; done
mkdir -p "$work/run"
cp "$work/emulator/kubeconfig" "$work/run/istio-cni-kubeconfig"
cat > "$work/config.json" <<JSON
{"cniVersion": "1.0.0", "name": "k8s-pod-network", "type": "istio-cni", "cni_agent_run_dir": "$work/run",
 "exclude_namespaces": ["kube-system"], "pod_namespace": "istio-system",
 "prevResult": {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/bench"}],
                "ips": [{"interface": 0, "address": "203.0.113.6/24", "gateway": "203.0.113.1"}], "dns": {}}}
JSON

echo "istio-cni ADD benchmark: $samples samples per variant, $(nproc) cores, kernel $(uname -r), emulator key ${KEY_TYPE:-rsa}"
"$work/addbench" -n "$samples" -p "$root/dist/istio-cni" -c "$work/config.json" \
    -a "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web" \
    -i "$root/Tests/Fixtures/default-redirect.iptables" -f "$root/Tests/Fixtures/default-redirect.nft"
