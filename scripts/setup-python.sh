#!/usr/bin/env bash
# Makes .venv, the Python environment of the tests: the packages of requirements-test.txt and,
# once it exists, the Python client (./python) installed editable. Does nothing when .venv is
# already up to date with those files, so `npm test` can call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
stamp=.venv/.installed
inputs=(requirements-test.txt)
[[ -f python/pyproject.toml ]] && inputs+=(python/pyproject.toml)
wanted="$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -x .venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$wanted" ]]; then
  exit 0
fi

echo "setting up .venv (Python test environment)…" >&2
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
if [[ -f python/pyproject.toml ]]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ./python
fi
echo "$wanted" >"$stamp"
