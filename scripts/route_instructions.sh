#!/usr/bin/env bash
# Instructions per request of GET /health, /api/ping and /api/protected on a
# release example server (valgrind callgrind; BENCHMARKS.md, note 9): the
# server runs its development issuer, a client sends N keep-alive requests per
# route after a warm-up, and the counters are zeroed and dumped around each
# route. User-space instructions only; stable across noisy runs.
#
#   scripts/route_instructions.sh server          # warp; or axum_server, actix_server
#   N=5000 scripts/route_instructions.sh axum_server
set -euo pipefail
cd "$(dirname "$0")/.."
example=${1:-server}
N=${N:-2000}
command -v valgrind >/dev/null || { apt-get install -y valgrind >/dev/null; }
cargo build --release --example "$example"
bin=${CARGO_TARGET_DIR:-target}/release/examples/$example
out=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn PORT=$port valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
    "$bin" >"$out/stdout" 2>"$out/stderr" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
client() { # path count [token]
    python3 - "$port" "$@" <<'PY'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
headers = {"Authorization": "Bearer " + sys.argv[4]} if len(sys.argv) > 4 else {}
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(n):
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"{path}: {response.status}")
PY
}
for _ in $(seq 1 600); do
    grep -q "Bearer" "$out/stdout" 2>/dev/null && client /health 1 2>/dev/null && break
    sleep 0.5
done
token=$(grep -m1 "/api/protected" "$out/stdout" | sed -E "s/.*Bearer ([^']+)'.*/\1/")
client /health 50
client /api/ping 50 "$token"
for route in health api/ping api/protected; do
    callgrind_control -z "$server" >/dev/null 2>&1
    case $route in
        health) client /health "$N" ;;
        *) client "/$route" "$N" "$token" ;;
    esac
    callgrind_control -d "${route//\//_}" "$server" >/dev/null 2>&1
done
echo "$example, token of ${#token} bytes, $N requests per route: instructions per request"
for dump in "$out"/callgrind.out.*; do
    route=$(sed -n 's/^desc: Trigger: dump //p' "$dump")
    total=$(sed -n 's/^totals: //p' "$dump")
    echo "  /${route//_//}: $((total / N))"
done
echo "(callgrind_annotate --inclusive=yes $out/callgrind.out.<n> for the functions)"
