#!/usr/bin/env bash
# ADD benchmark. Targets: plugin / iptables-restore <= 1.5 with the pod fetched over TLS (issue 2),
# <= 1.0 with the pod from the install-cni agent's cache (issue 3); rows for the iptables backend and
# TPROXY (issue 5).
# Builds the installable plugin, a release API emulator and a release agent, preloads a default sidecar
# pod and a TPROXY one, and runs addbench: every sample in a fresh network namespace, plugin ADD (API
# and cache; nftables and iptables backends; REDIRECT and TPROXY) vs a pre-entered
# iptables-restore --noflush and nft -f of the same rules, interleaved.
# Usage: add-benchmark.sh [SAMPLES] (default 300). Needs root.
# COMPARE_PLUGIN=/path/to/other/dist/istio-cni adds interleaved cache and API variants run with that
# binary (an A/B against an older build; it needs its istio-cni-libs beside it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
samples=${1:-300}
work=$(mktemp -d /tmp/istio-cni-bench.XXXXXX)
emulator_pid=""
agent_pid=""
cleanup() {
    for pid in $agent_pid $emulator_pid; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
export PATH=$PATH:/opt/swift/usr/bin
scripts/build-dist.sh >/dev/null
swift build -c release --product kube-emulator >/dev/null 2>&1
swift build -c release --product install-cni >/dev/null 2>&1
gcc -O2 -Wall -o "$work/addbench" integration/bench/addbench.c

cat > "$work/pods.json" <<'JSON'
[{"metadata": {"name": "web", "namespace": "default",
   "annotations": {"sidecar.istio.io/status": "{\"initContainers\":[\"istio-validation\"],\"containers\":[\"istio-proxy\"]}"}},
  "spec": {"nodeName": "node-a", "containers": [{"name": "app"}, {"name": "istio-proxy", "args": ["proxy", "sidecar"]}],
           "initContainers": [{"name": "istio-validation"}]}},
 {"metadata": {"name": "web-tproxy", "namespace": "default",
   "annotations": {"sidecar.istio.io/status": "{\"initContainers\":[\"istio-validation\"],\"containers\":[\"istio-proxy\"]}",
                   "sidecar.istio.io/interceptionMode": "TPROXY"}},
  "spec": {"nodeName": "node-a", "containers": [{"name": "app"}, {"name": "istio-proxy", "args": ["proxy", "sidecar"]}],
           "initContainers": [{"name": "istio-validation"}]}}]
JSON
# Pods excluding 10,000 CIDRs and 10,000 outbound ports (issue 14), which the nftables backend writes
# as anonymous sets: "web-long" with CIDRs that merge into few intervals (adjacent /24s, as lists
# generated from an address plan do) and ports 20000-29999; "web-scattered" with 10,000 isolated /32s
# and 10,000 isolated ports, the worst case (20,001 interval elements per set for the kernel to insert).
long_pod() {
    awk -v name="$1" -v scattered="$2" 'BEGIN {
        cidrs = ""; ports = ""
        for (i = 0; i < 10000; i++) {
            if (scattered) cidr = sprintf("198.%d.%d.%d/32", 18 + int(i / 32768), int(i / 128) % 256, 2 * (i % 128))
            else cidr = sprintf("10.%d.%d.0/24", int(i / 256), i % 256)
            cidrs = cidrs (i ? "," : "") cidr
            ports = ports (i ? "," : "") (scattered ? 20000 + 4 * i % 40000 + int(i / 10000) : 20000 + i)
        }
        printf "{\"metadata\": {\"name\": \"%s\", \"namespace\": \"default\", \"annotations\": {", name
        printf "\"sidecar.istio.io/status\": \"{}\", "
        printf "\"traffic.sidecar.istio.io/excludeOutboundIPRanges\": \"%s\", ", cidrs
        printf "\"traffic.sidecar.istio.io/excludeOutboundPorts\": \"%s\"}},", ports
        printf " \"spec\": {\"nodeName\": \"node-a\", \"containers\": [{\"name\": \"app\"}, {\"name\": \"istio-proxy\", \"args\": [\"proxy\", \"sidecar\"]}]}}\n"
    }'
}
sed -i '$ s/]$/,/' "$work/pods.json"
{ long_pod web-long 0; echo ","; long_pod web-scattered 1; echo "]"; } >> "$work/pods.json"
.build/release/kube-emulator --state-dir "$work/emulator" --key-type "${KEY_TYPE:-rsa}" --preload "$work/pods.json" 2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do [ -s "$work/emulator/port" ] && break; sleep 0.1; done

# Without an agent: the plugin reads the kubeconfig and asks the API.
mkdir -p "$work/run-api" "$work/run-api-compare"
cp "$work/emulator/kubeconfig" "$work/run-api/istio-cni-kubeconfig"
# The other build keeps its TLS session in its own run dir (its session file format may differ).
cp "$work/emulator/kubeconfig" "$work/run-api-compare/istio-cni-kubeconfig"

# With the agent: it writes the plugin's kubeconfig, watches this node's pods and serves them.
mkdir -p "$work/agent/net.d" "$work/agent/bin" "$work/agent/sa" "$work/run-agent"
cp "$work/emulator/token" "$work/emulator/ca.crt" "$work/agent/sa/"
echo '{"cniVersion":"1.0.0","name":"bench","plugins":[{"type":"bridge"}]}' > "$work/agent/net.d/10-bench.conflist"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin MOUNTED_CNI_NET_DIR="$work/agent/net.d" CNI_BIN_DIR="$work/agent/bin" \
    CNI_BIN_SOURCE_DIR="$root/dist" CNI_AGENT_RUN_DIR="$work/run-agent" SERVICE_ACCOUNT_DIR="$work/agent/sa" \
    KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$(cat "$work/emulator/port")" NODE_NAME=node-a REPAIR_NODE_NAME=node-a \
    POD_NAMESPACE=istio-system READINESS_PORT=18900 MONITORING_PORT=18914 LOG_LEVEL=warning \
    .build/release/install-cni run 2>"$work/agent.log" &
agent_pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18900/readyz 2>/dev/null | grep -q "pod cache: synced" && break; sleep 0.1; done

config() {
    cat <<JSON
{"cniVersion": "1.0.0", "name": "k8s-pod-network", "type": "istio-cni", "cni_agent_run_dir": "$1", "backend": "${2:-nftables}",
 "exclude_namespaces": ["kube-system"], "pod_namespace": "istio-system",
 "prevResult": {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/bench"}],
                "ips": [{"interface": 0, "address": "203.0.113.6/24", "gateway": "203.0.113.1"}], "dns": {}}}
JSON
}
config "$work/run-api" > "$work/config-api.json"
config "$work/run-api-compare" > "$work/config-api-compare.json"
config "$work/run-agent" > "$work/config-agent.json"
config "$work/run-agent" iptables > "$work/config-agent-iptables.json"

echo "istio-cni ADD benchmark: $samples samples per variant, $(nproc) cores, kernel $(uname -r), emulator key ${KEY_TYPE:-rsa}"
web="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web"
tproxy="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-tproxy"
long="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-long"
scattered="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-scattered"
cache="pod from the node agent's cache"
"$work/addbench" -n "$samples" -p "$root/dist/istio-cni" \
    -T "iptables-restore --noflush|iptables-restore --noflush|$root/Tests/Fixtures/default-redirect.iptables" \
    -T "iptables-legacy-restore --noflush|iptables-legacy-restore --noflush|$root/Tests/Fixtures/default-redirect.iptables" \
    -T "nft -f|nft -f -|$root/Tests/Fixtures/default-redirect.nft" \
    -T "iptables-restore --noflush, TPROXY rules|iptables-restore --noflush|$root/Tests/Fixtures/tproxy.iptables" \
    -P "plugin ADD, pod from the API (TLS)|$work/config-api.json|$web|(nftables istio-proxy-nat, 20 rules, IPv4; pod from the API server)" \
    -P "plugin ADD, pod from the agent cache|$work/config-agent.json|$web|(nftables istio-proxy-nat, 20 rules, IPv4; $cache)" \
    -P "plugin ADD, cache, iptables backend|$work/config-agent-iptables.json|$web|(iptables-nft nat, 20 rules, IPv4; $cache)" \
    -P "plugin ADD, cache, TPROXY|$work/config-agent.json|$tproxy|(nftables istio-proxy-mangle,istio-proxy-nat, " \
    -P "plugin ADD, cache, iptables backend, TPROXY|$work/config-agent-iptables.json|$tproxy|(iptables-nft mangle,nat, " \
    -P "plugin ADD, cache, 10,000 CIDRs + 10,000 ports excluded|$work/config-agent.json|$long|rules applied (nftables istio-proxy-nat, " \
    -P "plugin ADD, cache, 10,000 isolated CIDRs + ports excluded|$work/config-agent.json|$scattered|rules applied (nftables istio-proxy-nat, " \
    ${COMPARE_PLUGIN:+-P "plugin ADD, cache, COMPARE_PLUGIN|$work/config-agent.json|$web|(nftables istio-proxy-nat, 20 rules, IPv4; $cache)|$COMPARE_PLUGIN"} \
    ${COMPARE_PLUGIN:+-P "plugin ADD, API (TLS), COMPARE_PLUGIN|$work/config-api-compare.json|$web|(nftables istio-proxy-nat, 20 rules, IPv4; pod from the API server)|$COMPARE_PLUGIN"}
echo "agent after the run: $(ps -o rss= -p "$agent_pid" | awk '{printf "%.1f MiB RSS", $1/1024}')"
