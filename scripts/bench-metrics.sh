#!/usr/bin/env bash
# The `metrics` feature's cost on the cache-hit path, in one session: the
# bench built without the feature, then with it (no recorder, and the
# Prometheus recorder), then the ratios against `feature_off`.
set -euo pipefail
cd "$(dirname "$0")/.."
ARGS=(--warm-up-time 1 --measurement-time 3 --sample-size 20)
cargo bench -p bearer-policy-core --bench metrics -- "${ARGS[@]}"
cargo bench -p bearer-policy-core --bench metrics --features metrics -- "${ARGS[@]}"
python3 - <<'PY'
import json, os
root = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "criterion", "metrics_cache_hit")
def mean(name):
    with open(os.path.join(root, name, "new", "estimates.json")) as f:
        return json.load(f)["mean"]["point_estimate"]
base = mean("feature_off")
for name in ["feature_off", "feature_on_no_recorder", "feature_on_prometheus"]:
    print(f"{name:24} {mean(name):8.1f} ns  {mean(name) / base:5.3f}x")
PY
