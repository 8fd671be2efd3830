#!/usr/bin/env bash
# Instructions per check (valgrind callgrind, inclusive cost of each measured
# function ÷ checks) for raw jsonwebtoken::decode, our validate + policy check
# with the cache off, and with a cache hit, per algorithm. Stable across noisy runs.
#
#   scripts/instructions.sh            # 200 checks per path
#   CHECKS=500 scripts/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKS=${CHECKS:-200}
command -v valgrind >/dev/null || { apt-get install -y valgrind >/dev/null; }

bin=$(cargo bench -p bearer-policy-core --bench instructions --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])')
out=$(mktemp -d)
POLICY_BENCH_CHECKS=$CHECKS valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
    "$bin" >"$out/stdout" 2>"$out/stderr"
callgrind_annotate --inclusive=yes --threshold=100 "$out/callgrind.out" >"$out/annotate.txt"
python3 - "$out/annotate.txt" "$CHECKS" <<'PY'
import re, sys
text, checks = open(sys.argv[1]).read(), int(sys.argv[2])
costs = {}
for line in text.splitlines():
    m = re.match(r"\s*([\d,]+)\s.*instructions::(measure_\w+)", line)
    if m and m.group(2) not in costs:
        costs[m.group(2)] = int(m.group(1).replace(",", "")) / checks
print(f"instructions per check ({checks} checks per path, callgrind)")
for alg in ("rs256", "es256", "eddsa"):
    raw = costs.get(f"measure_{alg}_raw_decode")
    off = costs.get(f"measure_{alg}_cache_off")
    hit = costs.get(f"measure_{alg}_cache_hit")
    if not (raw and off and hit):
        print(f"{alg}: missing figures, see {sys.argv[1]}"); continue
    print(f"{alg.upper():6} raw decode {raw:>11,.0f}   cache off {off:>11,.0f} ({off/raw:.3f} x raw)"
          f"   cache hit {hit:>9,.0f} (1/{raw/hit:.0f} of raw)")
warp_open = costs.get("measure_warp_no_auth_loop")
warp_auth = costs.get("measure_warp_authenticated_loop")
if warp_open and warp_auth:
    print(f"warp::test GET /api/protected: no auth {warp_open:,.0f}, authenticated (cache hit) {warp_auth:,.0f}"
          f" -> no-auth/auth = {warp_open/warp_auth:.2f}")
PY
echo "callgrind output: $out"
