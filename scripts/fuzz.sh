#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer (Swift's -sanitize=fuzzer,address).
# Usage: scripts/fuzz.sh TARGET|all [SECONDS per target, default 600]
# Targets: cni-config, cni-args, annotations, kubeconfig, config-merge, values, http-response, plugin-report. Seeds come from Fuzz/corpus/TARGET (never
# written); new inputs go to a temporary corpus, crashes to Fuzz/crashes/TARGET/. Exit 1 on a finding.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH=$PATH:/opt/swift/usr/bin
targets=(cni-config cni-args annotations kubeconfig config-merge values http-response plugin-report)
wanted=${1:?usage: scripts/fuzz.sh TARGET|all [SECONDS]}
seconds=${2:-600}
[ "$wanted" = all ] || targets=("$wanted")

swift build -c release --build-path .build-fuzz --product fuzz-parsers \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xcc -DFUZZING -Xswiftc -use-ld=lld 2>&1 \
    | grep -v -e "Cannot export local symbol '__asan" -e "found 1 file(s) which are unhandled" -e "CMakeLists.txt" || true
binary=$(swift build -c release --build-path .build-fuzz --show-bin-path)/fuzz-parsers
[ -x "$binary" ] || { echo "fuzz build failed" >&2; exit 1; }

status=0
for target in "${targets[@]}"; do
    work=$(mktemp -d /tmp/istio-cni-fuzz.XXXXXX)
    mkdir -p "Fuzz/crashes/$target"
    echo "== $target: ${seconds}s"
    # Leak checking is off: LeakSanitizer reports the one-time buffers of Swift's lazily initialised
    # globals (swift_once) as direct leaks at exit. Growth per input is what matters; the soak measures it.
    if ! ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no FUZZ_TARGET=$target "$binary" "$work" "Fuzz/corpus/$target" -max_total_time="$seconds" -max_len=16384 \
            -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 -print_final_stats=1 -artifact_prefix="Fuzz/crashes/$target/" \
            >"$work.log" 2>&1; then
        status=1
        tail -40 "$work.log"
    fi
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$work.log" | sed "s/^/$target /" || true
    echo "$target: corpus grew to $(ls "$work" | wc -l) inputs (seeds $(ls "Fuzz/corpus/$target" | wc -l))"
    rm -rf "$work" "$work.log"
done
exit $status
