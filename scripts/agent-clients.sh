#!/usr/bin/env bash
# Installs the real agent CLIs the end-to-end tests drive, at pinned versions, into a cache
# outside the repository (default ~/.cache/baton-agent-clients, or $BATON_AGENT_CLIENTS), and
# reuses what is there. Prints nothing when everything is cached.
set -euo pipefail

CACHE="${BATON_AGENT_CLIENTS:-$HOME/.cache/baton-agent-clients}"

# name  npm package@version  binary
CLIENTS=(
  "claude @anthropic-ai/claude-code@2.1.197 claude"
  "codex @openai/codex@0.169.0 codex"
  "gemini @google/gemini-cli@0.61.0 gemini"
)

command -v npm >/dev/null || { echo "npm is required to install the agent CLIs the tests drive" >&2; exit 2; }

for entry in "${CLIENTS[@]}"; do
  read -r name package binary <<<"$entry"
  dir="$CACHE/$name"
  stamp="$dir/.installed"
  if [[ -x "$dir/node_modules/.bin/$binary" && -f "$stamp" && "$(cat "$stamp")" == "$package" ]]; then
    continue
  fi
  echo "== installing $package into $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  ok=0
  for try in 1 2 3; do
    if (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "$package" >/dev/null); then
      ok=1
      break
    fi
    echo "npm install $package failed (try $try); retrying" >&2
    sleep 5
  done
  [[ $ok == 1 ]] || { echo "could not install $package" >&2; exit 1; }
  echo "$package" >"$stamp"
done
