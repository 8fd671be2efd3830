#!/usr/bin/env bash
# Loopback HTTP load test of the release example server (examples/load.rs):
# /health vs /api/protected, a bad signature, and a random-kid flood beside
# valid traffic. Installs wrk when missing. Exits non-zero if a valid request
# is refused or the issuer gets more JWKS requests than the rate limit allows.
#
#   scripts/load.sh                     # 10 s per run, 32 connections
#   LOAD_SECONDS=5 scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk
fi
cargo build --release --example server --example axum_server --example actix_server
cargo build --release --example peer_server --manifest-path peer-bench/Cargo.toml
exec cargo run --release --example load
