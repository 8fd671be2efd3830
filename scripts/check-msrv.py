#!/usr/bin/env python3
"""Fails when a published package declares a `rust-version` lower than one of
its dependencies does (normal and build dependencies, every feature on).

CI cannot download an older toolchain, so instead of compiling with the
declared minimum it checks the declaration against the dependency tree's own:
cargo's MSRV-aware resolver reads the same `rust-version` fields.
"""
import json
import subprocess
import sys

PUBLISHED = ["bearer-policy", "bearer-policy-core", "bearer-policy-macros"]


def version_key(text):
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    metadata = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--all-features"], text=True))
    packages = {package["id"]: package for package in metadata["packages"]}
    nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
    by_name = {packages[id]["name"]: id for id in metadata["workspace_members"]}

    failed = False
    for name in PUBLISHED:
        root = by_name[name]
        declared = packages[root].get("rust_version")
        if declared is None:
            print(f"{name}: no rust-version declared")
            failed = True
            continue
        # Walk normal and build edges only: dev-dependencies never reach users.
        seen, stack = {root}, [root]
        while stack:
            for dep in nodes[stack.pop()]["deps"]:
                kinds = {kind["kind"] for kind in dep["dep_kinds"]}
                if kinds <= {"dev"} or dep["pkg"] in seen:
                    continue
                seen.add(dep["pkg"])
                stack.append(dep["pkg"])
        needed = max(
            ((packages[id].get("rust_version") or "0", packages[id]["name"]) for id in seen - {root}),
            key=lambda pair: version_key(pair[0]),
            default=("0", "nothing"),
        )
        status = "ok" if version_key(declared) >= version_key(needed[0]) else "TOO LOW"
        print(f"{name}: rust-version {declared}; the tree needs {needed[0]} ({needed[1]}): {status}")
        failed |= status != "ok"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
