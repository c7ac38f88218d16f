#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, then every test.
# Needs only the Rust toolchain, git >= 2.38 and python3 (the demo's sample project).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v git >/dev/null || { echo "git is required" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is required (the demo's sample project)" >&2; exit 2; }

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
