#!/usr/bin/env bash
# Make `uv` available: a no-op when it is on PATH, else installed from PyPI with pip.
set -euo pipefail
command -v uv >/dev/null 2>&1 && exit 0
echo "ensure-uv: installing uv with pip" >&2
python3 -m pip install --quiet --disable-pip-version-check uv >&2 \
  || python3 -m pip install --quiet --disable-pip-version-check --user uv >&2
command -v uv >/dev/null 2>&1 || { echo "ensure-uv: uv installed but not on PATH (add ~/.local/bin)" >&2; exit 1; }
