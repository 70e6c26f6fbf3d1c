#!/usr/bin/env bash
# Runs a command with the mock provider listening on loopback; MOCK_URL tells it where.
# The mock exits when this script does (it watches its stdin), so nothing is left behind.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mock="${CARGO_TARGET_DIR:-$root/target}/debug/mock-provider"
[ -x "$mock" ] || { echo "mock provider not built: run cargo build -p mock-provider" >&2; exit 1; }
fifo="$(mktemp -u)"; mkfifo "$fifo"
out="$(mktemp)"
exec 3<>"$fifo"; rm -f "$fifo"
"$mock" --port 0 --exit-on-stdin-eof <&3 >"$out" &
pid=$!
trap 'exec 3>&-; kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
  url="$(sed -n 's/^mock-provider listening on //p' "$out")"
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "${url:-}" ] || { echo "mock provider did not start" >&2; exit 1; }
export MOCK_URL="$url"
"$@"
