#!/usr/bin/env bash
# The Node binding's suite: builds the addon (debug) and the mock provider, installs the npm
# dev tools from the committed lockfile, and runs bindings-node/tests with node's test runner
# (shared scenarios, concurrency, cancellation, errors, exit, memory, openai drop-in, tsc).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p mock-provider

cd bindings-node
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Debug build of the addon (switchpoint.<platform>.node); regenerates native.js/native.d.ts.
npx napi build --platform --js native.js --dts native.d.ts

# One file at a time (the memory and concurrency tests measure the process), and a per-test
# timeout so a hang fails with a name instead of stalling CI.
node --test --test-concurrency=1 --test-timeout=600000 --expose-gc tests/
