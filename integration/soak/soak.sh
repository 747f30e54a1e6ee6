#!/usr/bin/env bash
# Soak (issue 6): CYCLES pod lifecycles against the API emulator and a release install-cni agent. Each
# cycle creates a mesh pod in the API, a fresh network namespace, runs the installable plugin's ADD,
# CHECK and DEL, deletes the namespace and the pod. Every SAMPLE cycles it prints the agent's RSS, open
# fds, sockets and threads; at the end what is left behind (namespaces, run-dir files, temp files).
# Usage: integration/soak/soak.sh [CYCLES, default 10000] [SAMPLE, default 1000]. Needs root.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cycles=${1:-10000}
every=${2:-1000}
work=$(mktemp -d /tmp/istio-cni-soak.XXXXXX)
prefix="icni-soak-$$-"
emulator_pid=""
agent_pid=""
cleanup() {
    for pid in $agent_pid $emulator_pid; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    for ns in $(ip netns list | awk -v p="$prefix" 'index($1, p) == 1 { print $1 }'); do ip netns del "$ns"; done
    rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
export PATH=$PATH:/opt/swift/usr/bin
scripts/build-dist.sh >/dev/null
swift build -c release --product kube-emulator >/dev/null 2>&1
swift build -c release --product install-cni >/dev/null 2>&1

.build/release/kube-emulator --state-dir "$work/emulator" --key-type ecdsa 2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do [ -s "$work/emulator/port" ] && break; sleep 0.1; done
port=$(cat "$work/emulator/port")
api() { curl -sf --cacert "$work/emulator/ca.crt" -H "Authorization: Bearer $(cat "$work/emulator/token")" "$@"; }

mkdir -p "$work/node/net.d" "$work/node/bin" "$work/node/sa" "$work/run"
cp "$work/emulator/token" "$work/emulator/ca.crt" "$work/node/sa/"
echo '{"cniVersion":"1.0.0","name":"soak","plugins":[{"type":"bridge"}]}' > "$work/node/net.d/10-soak.conflist"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin MOUNTED_CNI_NET_DIR="$work/node/net.d" CNI_BIN_DIR="$work/node/bin" \
    CNI_BIN_SOURCE_DIR="$root/dist" CNI_AGENT_RUN_DIR="$work/run" SERVICE_ACCOUNT_DIR="$work/node/sa" \
    KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$port" NODE_NAME=node-a REPAIR_NODE_NAME=node-a \
    POD_NAMESPACE=istio-system READINESS_PORT=18901 MONITORING_PORT=18915 LOG_LEVEL=warning \
    .build/release/install-cni run 2>"$work/agent.log" &
agent_pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18901/readyz 2>/dev/null | grep -q "pod cache: synced" && break; sleep 0.1; done

config='{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"istio-cni","cni_agent_run_dir":"'"$work"'/run",
 "exclude_namespaces":["kube-system"],"pod_namespace":"istio-system"}'
pod() {
    printf '{"metadata":{"name":"%s","namespace":"default","annotations":{"sidecar.istio.io/status":"{\\"containers\\":[\\"istio-proxy\\"]}"}},' "$1"
    printf '"spec":{"nodeName":"node-a","containers":[{"name":"app"},{"name":"istio-proxy","args":["proxy","sidecar"]}]}}'
}
plugin() { # COMMAND NAME NETNS
    printf '%s' "$config" | env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$1" CNI_CONTAINERID="soak$2" CNI_NETNS="$3" \
        CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$2" \
        "$root/dist/istio-cni" >"$work/out" 2>/dev/null
}
sample() {
    local rss fds sockets threads
    rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$agent_pid/status")
    threads=$(awk '/Threads/ { print $2 }' "/proc/$agent_pid/status")
    fds=$(ls "/proc/$agent_pid/fd" | wc -l)
    sockets=$(find "/proc/$agent_pid/fd" -lname 'socket:*' | wc -l)
    printf '%7s  %8s MiB  %5s  %7s  %7s  %6s\n' "$1" "$rss" "$fds" "$sockets" "$threads" "$failures"
}

failures=0
echo "istio-cni soak: $cycles cycles (pod create, netns add, ADD, CHECK, DEL, netns del, pod delete), $(nproc) cores"
printf '%7s  %12s  %5s  %7s  %7s  %6s\n' cycle "agent RSS" fds sockets threads failed
sample 0
started=$(date +%s.%N)
for i in $(seq 1 "$cycles"); do
    name="soak-$i"
    ns="$prefix$i"
    pod "$name" | api -X POST -H "Content-Type: application/json" --data-binary @- "https://127.0.0.1:$port/api/v1/namespaces/default/pods" >/dev/null
    ip netns add "$ns"
    for command in ADD CHECK DEL; do
        if ! plugin "$command" "$name" "/run/netns/$ns"; then
            failures=$((failures + 1))
            [ "$failures" -gt 3 ] || echo "cycle $i $command failed: $(cat "$work/out")"
        fi
    done
    ip netns del "$ns"
    api -X DELETE "https://127.0.0.1:$port/api/v1/namespaces/default/pods/$name" >/dev/null
    [ $((i % every)) -ne 0 ] || sample "$i"
done
elapsed=$(echo "$(date +%s.%N) - $started" | bc)
echo "$cycles cycles in ${elapsed}s ($(echo "scale=1; $elapsed * 1000 / $cycles" | bc) ms per cycle), $failures failed plugin calls"
expected='^(agent.sock|istio-cni-kubeconfig|install-state.json|repaired-pods.json|sandboxes|tls-session.*)$'
echo "left behind: namespaces $(ip netns list | awk -v p="$prefix" 'index($1, p) == 1' | wc -l)," \
     "sandbox records/locks/temp files $(find "$work/run/sandboxes" -mindepth 1 2>/dev/null | wc -l)," \
     "other run-dir files: [$(find "$work/run" -mindepth 1 -maxdepth 1 -printf '%P\n' | grep -Ev "$expected" | tr '\n' ' ')]," \
     "new /tmp entries: [$(find /tmp -maxdepth 1 -newer "$work" -printf '%P\n' | grep -Ev "^($(basename "$work")|istio-cni-fuzz.*)$" | tr '\n' ' ')]"
echo "agent log lines at warning or above: $(wc -l <"$work/agent.log")"
