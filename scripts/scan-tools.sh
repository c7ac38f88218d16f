#!/usr/bin/env bash
# Installs the tools `baton scan`'s tests drive, at pinned versions, into a cache outside the
# repository (default ~/.cache/baton-scan-tools, or $BATON_SCAN_TOOLS), and reuses what is
# there: ruff, mypy and pytest in a Python venv ($CACHE/venv/bin), eslint from npm
# ($CACHE/eslint/node_modules/.bin). Prints the directories to put on PATH, one a line, on
# stdout; everything else goes to stderr.
set -euo pipefail

CACHE="${BATON_SCAN_TOOLS:-$HOME/.cache/baton-scan-tools}"

PY_PACKAGES=(ruff==0.17.5 mypy==2.4.1 pytest==9.2.0)
ESLINT_PACKAGE="eslint@10.15.0"

retry() {
  local what="$1"
  shift
  for try in 1 2 3; do
    if "$@" >&2; then
      return 0
    fi
    echo "$what failed (try $try); retrying" >&2
    sleep 5
  done
  echo "could not install $what" >&2
  return 1
}

venv="$CACHE/venv"
py_stamp="$CACHE/.python-installed"
if ! [[ -x "$venv/bin/ruff" && -x "$venv/bin/mypy" && -x "$venv/bin/pytest" && -f "$py_stamp" \
  && "$(cat "$py_stamp")" == "${PY_PACKAGES[*]}" ]]; then
  command -v python3 >/dev/null || { echo "python3 is required to install ruff and mypy" >&2; exit 2; }
  echo "== installing ${PY_PACKAGES[*]} into $venv" >&2
  rm -rf "$venv" "$py_stamp"
  mkdir -p "$CACHE"
  python3 -m venv "$venv"
  retry "pip install ${PY_PACKAGES[*]}" \
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
  echo "${PY_PACKAGES[*]}" >"$py_stamp"
fi

eslint_dir="$CACHE/eslint"
eslint_stamp="$eslint_dir/.installed"
if ! [[ -x "$eslint_dir/node_modules/.bin/eslint" && -f "$eslint_stamp" \
  && "$(cat "$eslint_stamp")" == "$ESLINT_PACKAGE" ]]; then
  command -v npm >/dev/null || { echo "npm is required to install eslint" >&2; exit 2; }
  echo "== installing $ESLINT_PACKAGE into $eslint_dir" >&2
  rm -rf "$eslint_dir"
  mkdir -p "$eslint_dir"
  retry "npm install $ESLINT_PACKAGE" \
    npm install --prefix "$eslint_dir" --no-audit --no-fund --loglevel=error "$ESLINT_PACKAGE"
  echo "$ESLINT_PACKAGE" >"$eslint_stamp"
fi

echo "$venv/bin"
echo "$eslint_dir/node_modules/.bin"
