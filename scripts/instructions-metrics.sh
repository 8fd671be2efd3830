#!/usr/bin/env bash
# Instructions per cache hit through `Requirements::authorize` (valgrind
# callgrind, the `measured_hits` function of the `metrics` bench): built
# without the feature, with it and no recorder, with it and the Prometheus
# recorder. Each path runs 1,000 and 2,000 hits; the difference ÷ 1,000 is
# the cost of one hit, set-up excluded. Stable on a loaded machine.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get install -y valgrind >/dev/null; }
bin() {
    cargo bench -p bearer-policy-core --bench metrics "$@" --no-run --message-format=json 2>/dev/null |
        python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "metrics" and m.get("executable"):
        print(m["executable"])'
}
instructions() { # binary path hits
    local out
    out=$(mktemp)
    POLICY_BENCH_CHECKS=$3 POLICY_BENCH_PATH=$2 valgrind --tool=callgrind \
        --toggle-collect='*measured_hits*' --callgrind-out-file="$out" "$1" >/dev/null 2>&1
    callgrind_annotate "$out" | grep -m1 'PROGRAM TOTALS' | awk '{gsub(",", "", $1); print $1}'
}
per_hit() { # binary path
    local one two
    one=$(instructions "$1" "$2" 1000)
    two=$(instructions "$1" "$2" 2000)
    echo $(((two - one) / 1000))
}
off_bin=$(mktemp)
cp "$(bin)" "$off_bin"
off=$(per_hit "$off_bin" off)
on_bin=$(bin --features metrics)
none=$(per_hit "$on_bin" no_recorder)
prometheus=$(per_hit "$on_bin" prometheus)
python3 -c "
for name, n in [('feature_off', $off), ('feature_on_no_recorder', $none), ('feature_on_prometheus', $prometheus)]:
    print(f'{name:24} {n:6} instructions per hit  {n / $off:5.3f}x')
"
