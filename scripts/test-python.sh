#!/usr/bin/env bash
# The Python binding's suite: builds the `switchpoint` package (debug) into the project venv
# (.venv) and runs its pytest suite, which starts the mock provider and plays the shared
# scenarios through Gateway and AsyncGateway, plus threads, asyncio, cancellation, Ctrl-C,
# fork, a 100,000-call soak, cache controls, metrics (parsed by prometheus_client), usage
# queries and record callbacks, mypy --strict, stubtest and the openai-program check.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
venv="$root/.venv"
py="$venv/bin/python"

if [ ! -x "$py" ]; then
  python3 -m venv "$venv"
fi
"$py" -m pip install -q --disable-pip-version-check -r bindings-python/tests/requirements.txt

# The mock provider (a no-op when `cargo test --workspace` already built it).
cargo build -q -p mock-provider

# Debug build of the extension, installed editable into the venv.
(cd bindings-python && VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop -q)

# Ruff-clean: lints and formatting of the package, its tests, examples and benchmark, and the
# uniffi test script (with the package's ruff settings).
"$venv/bin/ruff" check bindings-python
"$venv/bin/ruff" format --check -q bindings-python
"$venv/bin/ruff" check --config bindings-python/pyproject.toml bindings-ffi/tests/python

export PYTHONDONTWRITEBYTECODE=1
"$py" -m pytest -q -p no:cacheprovider bindings-python/tests "$@"
