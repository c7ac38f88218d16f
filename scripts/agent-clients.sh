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
  "opencode opencode-ai@1.18.33 opencode"
)

# Aider is a Python package: a venv in $CACHE/aider, its binary $CACHE/aider/venv/bin/aider.
AIDER_PACKAGE="aider-chat==0.86.2"

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

aider_dir="$CACHE/aider"
aider_stamp="$aider_dir/.installed"
if ! [[ -x "$aider_dir/venv/bin/aider" && -f "$aider_stamp" && "$(cat "$aider_stamp")" == "$AIDER_PACKAGE" ]]; then
  command -v python3 >/dev/null || { echo "python3 is required to install Aider" >&2; exit 2; }
  echo "== installing $AIDER_PACKAGE into $aider_dir/venv"
  rm -rf "$aider_dir"
  mkdir -p "$aider_dir"
  python3 -m venv "$aider_dir/venv"
  ok=0
  for try in 1 2 3; do
    if "$aider_dir/venv/bin/pip" install --quiet --disable-pip-version-check "$AIDER_PACKAGE" >/dev/null; then
      ok=1
      break
    fi
    echo "pip install $AIDER_PACKAGE failed (try $try); retrying" >&2
    sleep 5
  done
  [[ $ok == 1 ]] || { echo "could not install $AIDER_PACKAGE" >&2; exit 1; }
  echo "$AIDER_PACKAGE" >"$aider_stamp"
fi
