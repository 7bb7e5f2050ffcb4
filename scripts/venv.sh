#!/usr/bin/env bash
# Creates .venv when missing and installs the project into it, again only when
# pyproject.toml changed; fetches the console's browser assets (scripts/console_assets.sh)
# when missing. Usage: scripts/venv.sh [run|dev]   (dev adds the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-run}"
python="${PYTHON_FOR_VENV:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "venv: Python >= 3.11 is needed; $python is $("$python" --version 2>&1)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "venv: creating .venv with $("$python" --version)" >&2
  "$python" -m venv .venv
fi

target="."
[ "$profile" = dev ] && target=".[dev]"
stamp=".venv/.installed-$profile"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "venv: installing $target" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e "$target"
  echo "$want" > "$stamp"
fi

bash scripts/console_assets.sh
