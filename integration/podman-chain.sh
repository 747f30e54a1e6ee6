#!/usr/bin/env bash
# A node, for real: the install-cni agent installs the istio-cni plugin into the CNI bin dir and chains
# it into the conflist podman 4.3 (CNI backend) uses after Debian's bridge + host-local plugins; podman
# then runs containers through that chain. The plugin looks each pod up in the agent's pod cache, which
# watches the API emulator (Kubernetes pod identity passed in CNI_ARGS, as the kubelet's runtime does),
# and reports what it did to the agent's log.
#
#   meshpod   a sidecar-injected pod: its container is the "proxy" (netprobe on :15001); the app's
#             outbound call is redirected to it with the original destination intact, while the
#             proxy's own uid 1337 reaches the peer directly.
#   plainpod  a pod without a sidecar: no rules, traffic goes straight to the peer.
#
# Everything runs in a private mount namespace (tmpfs over podman's and libcni's state dirs) and a
# private network namespace for the bridge side, so the host keeps no trace. Exits non-zero when any
# expectation fails. Needs root, podman, containernetworking-plugins, busybox-static, nftables.
#
#   ISTIO_CNI_PLUGIN  plugin binary (default dist/istio-cni, beside its istio-cni-libs/)
#   INSTALL_CNI       the node agent (default .build/release/install-cni, else .build/debug)
#   KUBE_EMULATOR     API emulator binary (default .build/release/kube-emulator, else .build/debug)
#   NETPROBE          netprobe built with a static Swift stdlib (default .build/release/netprobe)
set -euo pipefail

if [ -z "${ISTIO_CNI_PRIVATE_MOUNTS:-}" ]; then
    exec env ISTIO_CNI_PRIVATE_MOUNTS=1 unshare --mount --propagation private "$0" "$@"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
plugin=${ISTIO_CNI_PLUGIN:-$root/dist/istio-cni}
emulator_bin=${KUBE_EMULATOR:-$root/.build/release/kube-emulator}
[ -x "$emulator_bin" ] || emulator_bin=$root/.build/debug/kube-emulator
netprobe=${NETPROBE:-$root/.build/release/netprobe}
agent_bin=${INSTALL_CNI:-$root/.build/release/install-cni}
[ -x "$agent_bin" ] || agent_bin=$root/.build/debug/install-cni
for file in "$plugin" "$emulator_bin" "$netprobe" "$agent_bin"; do
    [ -x "$file" ] || { echo "podman-chain: $file is missing (run scripts/build-dist.sh and build the tools)" >&2; exit 2; }
done

oci_runtime=$(command -v runc || true)
[ -n "$oci_runtime" ] || { echo "podman-chain: runc is not installed (crun does not run on hybrid cgroup hosts)" >&2; exit 2; }

work=$(mktemp -d /tmp/istio-cni-podman.XXXXXX)
host_ns=icni-podman-$$
emulator_pid=""
peer_pid=""
agent_pid=""
failures=0
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pass() { printf '   ok: %s\n' "$*"; }
fail() { printf '   FAILED: %s\n' "$*"; failures=$((failures + 1)); }

for dir in /var/lib/cni /var/lib/containers /run/runc /run/crun /run/containers /run/libpod /run/netns; do
    mkdir -p "$dir"
    mount -t tmpfs tmpfs "$dir"
done

export CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf
podman_in_ns() { nsenter --net=/run/netns/$host_ns podman "$@"; }
cleanup() {
    set +e
    podman_in_ns rm -f -t 0 meshpod plainpod >/dev/null 2>&1
    # SIGKILL: a caller may have started this script with SIGTERM blocked, and children inherit that.
    for pid in $peer_pid $agent_pid $emulator_pid; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    ip netns del "$host_ns" 2>/dev/null
    # podman's storage mounts live in this private mount namespace; release them before removing files.
    awk -v prefix="$work/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
    rm -rf "$work"
}
trap cleanup EXIT

# --- the node's CNI bin dir holds Debian's plugins; the agent's image dir holds ours ------------------
mkdir -p "$work/cni-bin" "$work/net.d" "$work/ipam" "$work/rootfs/bin" "$work/run" "$work/image-bin" "$work/sa"
for p in /usr/lib/cni/*; do ln -s "$p" "$work/cni-bin/"; done
cp "$plugin" "$work/image-bin/istio-cni"
[ -d "$(dirname "$plugin")/istio-cni-libs" ] && cp -r "$(dirname "$plugin")/istio-cni-libs" "$work/image-bin/"

cat > "$work/containers.conf" <<CONF
[network]
network_backend = "cni"
cni_plugin_dirs = ["$work/cni-bin"]
network_config_dir = "$work/net.d"
default_network = "podman"
default_subnet = "198.51.100.0/24"

[engine]
tmp_dir = "$work/tmp"
cgroup_manager = "cgroupfs"
runtime = "$(basename "$oci_runtime")"
events_logger = "file"
events_logfile_path = "$work/events.log"

[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
CONF
cat > "$work/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$work/storage"
runroot = "$work/storage-run"
CONF
cat > "$work/net.d/istio-chain.conflist" <<CONF
{
  "cniVersion": "1.0.0",
  "name": "istio-chain",
  "plugins": [
    {
      "type": "bridge", "bridge": "icni0", "isGateway": true, "ipMasq": false,
      "ipam": { "type": "host-local", "dataDir": "$work/ipam", "routes": [{ "dst": "0.0.0.0/0" }],
                "ranges": [[{ "subnet": "203.0.113.0/24", "gateway": "203.0.113.1" }]] }
    }
  ]
}
CONF

# A minimal root filesystem; the host's /usr (glibc) is mounted read-only for netprobe.
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in sh sleep cat ip; do ln -s busybox "$work/rootfs/bin/$applet"; done
mkdir -p "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/rootfs/usr"
ln -s usr/lib "$work/rootfs/lib"
ln -s usr/lib64 "$work/rootfs/lib64"
cp "$netprobe" "$work/rootfs/bin/netprobe"

# --- the node side: a network namespace for the bridge, the API emulator on its loopback ------------
ip netns add "$host_ns"
ip -n "$host_ns" link set lo up
cat > "$work/pods.json" <<JSON
[{"metadata": {"name": "meshpod", "namespace": "default",
   "annotations": {"sidecar.istio.io/status": "{\"initContainers\":[\"istio-validation\"],\"containers\":[\"istio-proxy\"]}"}},
  "spec": {"nodeName": "node-a", "containers": [{"name": "app"}, {"name": "istio-proxy", "args": ["proxy", "sidecar"]}],
           "initContainers": [{"name": "istio-validation"}]}},
 {"metadata": {"name": "plainpod", "namespace": "default"},
  "spec": {"nodeName": "node-a", "containers": [{"name": "app"}]}}]
JSON
nsenter --net=/run/netns/$host_ns "$emulator_bin" --state-dir "$work/emulator" --key-type ecdsa --preload "$work/pods.json" 2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do [ -s "$work/emulator/port" ] && break; sleep 0.1; done
cp "$work/emulator/token" "$work/sa/token"
cp "$work/emulator/ca.crt" "$work/sa/ca.crt"

say "install-cni: the node agent installs the plugin and chains it into istio-chain.conflist"
nsenter --net=/run/netns/$host_ns env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    MOUNTED_CNI_NET_DIR="$work/net.d" CNI_BIN_DIR="$work/cni-bin" CNI_BIN_SOURCE_DIR="$work/image-bin" \
    CNI_AGENT_RUN_DIR="$work/run" SERVICE_ACCOUNT_DIR="$work/sa" KUBERNETES_SERVICE_HOST=127.0.0.1 \
    KUBERNETES_SERVICE_PORT="$(cat "$work/emulator/port")" NODE_NAME=node-a REPAIR_NODE_NAME=node-a POD_NAMESPACE=istio-system \
    EXCLUDE_NAMESPACES=kube-system READINESS_PORT=18000 MONITORING_PORT=18014 \
    "$agent_bin" run >"$work/agent.log" 2>&1 &
agent_pid=$!
ready=""
for _ in $(seq 100); do
    if nsenter --net=/run/netns/$host_ns curl -sf http://127.0.0.1:18000/readyz >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.1
done
if [ -n "$ready" ]; then pass "agent ready: plugin in the bin dir, kubeconfig written, entry chained"; else fail "agent never became ready"; cat "$work/agent.log"; fi
echo "   $work/net.d/istio-chain.conflist plugins: $(grep -o '"type": *"[a-z-]*"' "$work/net.d/istio-chain.conflist" | sed 's/"type": *//' | tr '\n' ' ')"

say "podman $(podman --version | awk '{print $3}') with the CNI backend, conflist bridge + host-local + istio-cni"
podman_in_ns network ls

# The kubelet passes the pod's UID; read it from the API like the kubelet knows it.
pod_uid() {
    nsenter --net=/run/netns/$host_ns curl -sf --cacert "$work/emulator/ca.crt" -H "Authorization: Bearer $(cat "$work/emulator/token")" \
        "https://127.0.0.1:$(cat "$work/emulator/port")/api/v1/namespaces/default/pods/$1" | sed -n 's/.*"uid":"\([^"]*\)".*/\1/p'
}
run_pod() {
    local name=$1
    shift
    CNI_ARGS="K8S_POD_NAMESPACE=default;K8S_POD_UID=$(pod_uid "$name");K8S_POD_INFRA_CONTAINER_ID=0123456789abcdef" \
        podman_in_ns run -d --name "$name" --network istio-chain --user 0:0 -v /usr:/usr:ro --rootfs "$work/rootfs" "$@"
}

say "meshpod: a sidecar pod whose container plays the proxy (listens on 15001)"
run_pod meshpod /bin/netprobe serve 15001 outbound-proxy >/dev/null
mesh_netns=$(podman_in_ns inspect --format '{{.NetworkSettings.SandboxKey}}' meshpod)
echo "   sandbox $mesh_netns, eth0 $(nsenter --net="$mesh_netns" ip -4 -o addr show eth0 | awk '{print $4}')"
echo "   istio-cni's rules in the pod's network namespace:"
nsenter --net="$mesh_netns" nft list ruleset | sed 's/^/     /'
if nsenter --net="$mesh_netns" nft list tables | grep -q 'table inet istio-proxy-nat'; then pass "meshpod has table inet istio-proxy-nat"; else fail "meshpod has no istio tables"; fi

# The "remote service": a listener on the bridge gateway address, in the node-side namespace.
nsenter --net=/run/netns/$host_ns "$netprobe" serve 80 peer >"$work/peer.log" 2>&1 &
peer_pid=$!
sleep 0.3

say "meshpod: the app (uid 0) calls 203.0.113.1:80"
answer=$(podman_in_ns exec meshpod /bin/netprobe connect 203.0.113.1 80 || true)
echo "   answered: $answer"
case "$answer" in "outbound-proxy orig=203.0.113.1:80 "*) pass "redirected to the proxy on 15001, original destination kept";; *) fail "app traffic was not redirected";; esac
echo "   counters of the redirect chain after that call:"
nsenter --net="$mesh_netns" nft list chain inet istio-proxy-nat istio-redirect | grep counter | sed 's/^[[:space:]]*/     /'

say "meshpod: the proxy itself (uid 1337) calls 203.0.113.1:80"
answer=$(podman_in_ns exec --user 1337:1337 meshpod /bin/netprobe connect 203.0.113.1 80 || true)
echo "   answered: $answer"
case "$answer" in "peer "*) pass "uid 1337 bypasses interception";; *) fail "proxy traffic was intercepted";; esac

say "plainpod: a pod without a sidecar"
run_pod plainpod /bin/sleep 60 >/dev/null
plain_netns=$(podman_in_ns inspect --format '{{.NetworkSettings.SandboxKey}}' plainpod)
tables=$(nsenter --net="$plain_netns" nft list tables)
if [ -z "$tables" ]; then pass "plainpod has no istio tables"; else fail "plainpod got tables: $tables"; fi
answer=$(podman_in_ns exec plainpod /bin/netprobe connect 203.0.113.1 80 || true)
echo "   answered: $answer"
case "$answer" in "peer "*) pass "plainpod reaches the peer directly";; *) fail "plainpod traffic was redirected";; esac

say "the agent's log explains every pod (what kubectl logs of istio-cni-node shows)"
grep 'plugin: ' "$work/agent.log" | sed 's/^.*plugin: /   /' | cut -c1-160
if grep -q "plugin: ADD default/meshpod .*rules applied.*pod from the node agent's cache" "$work/agent.log"; then
    pass "meshpod's rules came from the agent's pod cache and its report reached the agent"
else
    fail "the agent did not log meshpod's ADD from its cache"
fi
if grep -q "plugin: ADD default/plainpod .*no rules: pod has no istio-proxy container" "$work/agent.log"; then pass "plainpod's skip reason is in the agent's log"; else fail "plainpod's decision is not in the agent's log"; fi

say "removing both containers (podman runs DEL through the chain)"
podman_in_ns rm -f -t 0 meshpod plainpod >/dev/null
{ kill -KILL "$peer_pid" && wait "$peer_pid"; } 2>/dev/null || true
if [ -e "$mesh_netns" ]; then fail "meshpod's namespace still exists"; else pass "namespaces gone after DEL"; fi

echo
if [ "$failures" -eq 0 ]; then
    echo "podman chain: all checks passed"
else
    echo "podman chain: $failures check(s) FAILED"
    exit 1
fi
