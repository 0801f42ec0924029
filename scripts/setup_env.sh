#!/usr/bin/env bash
# Creates (once) the developers' Python 3.10 environment, the runtime lock (constraints.txt) plus
# the test and lint tools (constraints-dev.txt), and links it as .venv. The environment lives
# outside the checkout, keyed by both locks' hashes, so every fresh clone with the same locks
# reuses it; a changed lock builds a new one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bridge_home=${BRIDGE_HOME:-$HOME/.cache/bridge}
lock_hash=$(cat "$root/constraints.txt" "$root/constraints-dev.txt" | sha256sum | cut -c1-16)
venv="$bridge_home/venv-py310-$lock_hash"

is_python310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

find_python310() {
  local candidates=()
  command -v pyenv >/dev/null 2>&1 && candidates+=("$(pyenv root)"/versions/3.10.*/bin/python3.10)
  candidates+=("$HOME"/.pyenv/versions/3.10.*/bin/python3.10 "$(command -v python3.10 || true)" /usr/local/bin/python3.10 /usr/bin/python3.10)
  for candidate in "${candidates[@]}"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && is_python310 "$candidate" && { echo "$candidate"; return 0; }
  done
  return 1
}

if [ ! -f "$venv/.complete" ]; then
  python310=$(find_python310) || {
    echo "setup: Python 3.10 not found (Rasa 3.6 needs it). Install it, e.g. 'pyenv install 3.10.13', and run again." >&2
    exit 1
  }
  echo "setup: creating $venv with $python310 (first time: several minutes, downloads torch) ..."
  rm -rf "$venv"
  mkdir -p "$bridge_home"
  "$python310" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pip==24.2" "setuptools==70.3.0" "wheel==0.45.1"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/constraints-dev.txt"
  touch "$venv/.complete"
fi

# The checkout itself: an editable install gives the `bridge` command; cheap, no dependencies.
if [ "$(readlink "$root/.venv" 2>/dev/null)" != "$venv" ] || ! "$venv/bin/python" -c "import bot, pathlib, sys; sys.exit(pathlib.Path(bot.__file__).resolve().parents[1] != pathlib.Path('$root'))" 2>/dev/null; then
  (cd / && "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$root")
  ln -sfn "$venv" "$root/.venv"
fi
echo "setup: environment ready ($venv)"
