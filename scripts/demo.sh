#!/usr/bin/env bash
# README's demo: builds the mock providers and the Python package (into .venv), then runs the
# Python example against the mock providers on loopback: two wire formats, a stream, a typed
# error. `make demo-rust` runs the same story in Rust.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$PWD/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ ! -x "$venv/bin/maturin" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$(grep '^maturin==' bindings-python/tests/requirements.txt)"
fi
cargo build -q -p mock-provider
(cd bindings-python && VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop -q)
exec scripts/with-mock.sh "$venv/bin/python" bindings-python/examples/demo.py
