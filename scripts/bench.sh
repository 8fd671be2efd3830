#!/usr/bin/env bash
# Short criterion runs of every bench (ratios are taken within one run), then
# the ratio table. Timings: 1 s warm-up, 3 s measurement, 20 samples.
#
#   scripts/bench.sh            # policy-core benches + allocation count
#   PEER=1 scripts/bench.sh     # also the jwt-authorizer comparison (peer-bench/)
set -euo pipefail
cd "$(dirname "$0")/.."
ARGS=(--warm-up-time 1 --measurement-time 3 --sample-size 20)
cargo bench -p bearer-policy-core --bench alloc_count
cargo bench -p bearer-policy-core --bench validate -- "${ARGS[@]}"
# Cached opaque vs cached JWT, then the introspection flood (printed).
cargo bench -p bearer-policy-core --bench introspection -- "${ARGS[@]}"
dirs=(target/criterion)
if [[ "${PEER:-0}" == 1 ]]; then
    # Shares the root target directory to reuse its compiled dependencies.
    (cd peer-bench && CARGO_TARGET_DIR=../target cargo bench -- "${ARGS[@]}")
fi
python3 scripts/ratios.py "${dirs[@]}"
