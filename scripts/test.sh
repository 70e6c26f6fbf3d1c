#!/usr/bin/env bash
# Builds everything and runs every test. README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

current=""
step() { current="$*"; printf '\n==> %s\n' "$*"; }
# Say which step failed on both streams, so a CI log cut at either end still shows it.
trap 'rc=$?; if [ $rc -ne 0 ]; then msg="FAILED (exit $rc) in step: ${current:-setup}"; echo "$msg"; echo "$msg" >&2; fi' EXIT

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets -q -- -D warnings

step "third-party mock for the aimock smoke test (npm ci)"
if [ ! -d tests/aimock/node_modules ] || [ tests/aimock/package-lock.json -nt tests/aimock/node_modules ]; then
  npm ci --prefix tests/aimock --no-audit --no-fund --loglevel=error
fi

step "Rust tests (unit, adapters from recorded wire data, mock provider over HTTP, shared scenarios, aimock)"
SWITCHPOINT_REQUIRE_AIMOCK=1 cargo test --workspace --all-targets

# Each binding's suite (Python, Node, C) lives in its own script; each builds its package and
# plays the shared scenarios against the mock provider.
for lang in python node c; do
  if [ -x "scripts/test-$lang.sh" ]; then
    step "$lang binding"
    "scripts/test-$lang.sh"
  fi
done

echo
echo "all tests passed"
