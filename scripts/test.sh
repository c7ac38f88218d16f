#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, then every test.
# Needs the Rust toolchain, git >= 2.38, python3 (the demo's sample project) and npm (the real
# agent CLIs the end-to-end tests drive, installed once into ~/.cache/baton-agent-clients), and
# pip and npm for the tools baton scan's tests drive (ruff, mypy, pytest, eslint, installed once
# into ~/.cache/baton-scan-tools and put on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v git >/dev/null || { echo "git is required" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is required (the demo's sample project)" >&2; exit 2; }

echo "== agent CLIs for the end-to-end tests (cached outside the repository)"
./scripts/agent-clients.sh

echo "== ruff, mypy, pytest and eslint for baton scan's tests (cached outside the repository)"
scan_tool_dirs="$(./scripts/scan-tools.sh)"
while IFS= read -r dir; do
  PATH="$dir:$PATH"
done <<<"$scan_tool_dirs"
export PATH

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
