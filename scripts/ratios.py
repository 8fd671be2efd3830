#!/usr/bin/env python3
"""Prints the ratios of BENCHMARKS.md from criterion's estimates (median, ns).

    scripts/ratios.py [CRITERION_DIR ...]   # default: target/criterion
"""
import json
import pathlib
import sys

dirs = [pathlib.Path(d) for d in sys.argv[1:]] or [pathlib.Path("target/criterion")]


def median(group, name):
    for d in dirs:
        for g in (group, group.replace("/", "_")):
            f = d / g / name / "new" / "estimates.json"
            if f.exists():
                return json.loads(f.read_text())["median"]["point_estimate"]
    return None


def show(label, value, fmt="{:.3f}"):
    print(f"| {label} | {fmt.format(value) if value is not None else 'n/a'} |")


def ratio(a, b):
    return a / b if a is not None and b else None


print("| figure | value |")
print("| --- | ---: |")
for alg in ("RS256", "ES256", "EdDSA"):
    raw, off, hit = (median(alg, n) for n in ("raw_decode", "cache_off", "cache_hit"))
    if raw is None:
        continue
    show(f"{alg} raw jsonwebtoken::decode (µs)", raw / 1000, "{:.2f}")
    show(f"{alg} ours, cache off ÷ raw decode", ratio(off, raw))
    show(f"{alg} ours, cache hit ÷ raw decode", ratio(hit, raw), "{:.4f}")
    if hit:
        show(f"{alg} raw decode ÷ cache hit (times faster)", ratio(raw, hit), "{:.0f}")
bearer = median("bearer_and_check", "")  # a plain bench_function: one directory level
if bearer is None:
    for d in dirs:
        f = d / "bearer_and_check" / "new" / "estimates.json"
        if f.exists():
            bearer = json.loads(f.read_text())["median"]["point_estimate"]
show("bearer extraction + policy check (ns)", bearer, "{:.0f}")
no_auth = median("warp_in_process", "no_auth")
auth = median("warp_in_process", "authenticated_cache_hit")
show("warp in process: authenticated ÷ no-auth throughput", ratio(no_auth, auth))
axum_no_auth = median("axum_in_process", "no_auth")
axum_auth = median("axum_in_process", "authenticated_cache_hit")
show("axum in process: authenticated ÷ no-auth throughput", ratio(axum_no_auth, axum_auth))
without_kid = median("large_key_set", "forged_without_kid")
with_kid = median("large_key_set", "forged_with_kid")
show("1,500 published keys: forged token without kid ÷ with kid (time)", ratio(without_kid, with_kid))
hit = median("typed_claims", "cache_hit")
hit_and_claims = median("typed_claims", "cache_hit_and_claims")
show("cache hit + claims::<T>() ÷ cache hit alone (time)", ratio(hit_and_claims, hit))
show("cache hit + claims::<T>() ÷ RS256 raw jsonwebtoken::decode (time)",
     ratio(hit_and_claims, median("RS256", "raw_decode")))
for alg in ("RS256", "ES256", "EdDSA"):
    peer = median(f"check/{alg}", "jwt_authorizer")
    if peer is None:
        continue
    show(f"{alg} ours cache off ÷ jwt-authorizer (time)", ratio(median(f"check/{alg}", "policy_cache_off"), peer))
    show(f"{alg} ours cache hit ÷ jwt-authorizer (time)", ratio(median(f"check/{alg}", "policy_cache_hit"), peer), "{:.4f}")
r = lambda n: median("route", n)
if r("axum_jwt_authorizer"):
    show("route: warp+policy cache off ÷ axum+jwt-authorizer (time)", ratio(r("warp_policy_cache_off"), r("axum_jwt_authorizer")))
    show("route: warp+policy cache hit ÷ axum+jwt-authorizer (time)", ratio(r("warp_policy_cache_hit"), r("axum_jwt_authorizer")), "{:.4f}")
    show("route: axum no-auth ÷ warp no-auth (time)", ratio(r("axum_no_auth"), r("warp_no_auth")))
