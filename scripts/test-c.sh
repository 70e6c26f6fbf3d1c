#!/usr/bin/env bash
# The C ABI and uniffi suite: builds libswitchpoint (debug), checks the committed header,
# then runs the C test program (every shared scenario, threads, early-stopped streams, every
# error kind, bad inputs, metrics / usage / record callbacks, virtual keys / audit / reload /
# limits / budgets / guardrail callbacks) plainly and under valgrind, a C++ program (static link), a Go
# program (cgo + pkg-config), and the uniffi-generated Python bindings; Kotlin and Swift
# sources are generated and checked for presence (no toolchains for them here).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n--> %s\n' "$*"; }

TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
LIBDIR="$TARGET/debug"
OUT="$TARGET/ffi-tests"
MOCK_BIN="$LIBDIR/mock-provider"
mkdir -p "$OUT/pkgconfig"

step "build libswitchpoint (.so, .a), uniffi-bindgen and the mock provider"
cargo build -q -p switchpoint-ffi -p mock-provider

step "include/switchpoint.h matches a fresh cbindgen run; Rust unit tests of the binding"
cargo test -q -p switchpoint-ffi

step "pkg-config file"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
sed -e "s|@PREFIX@|$TARGET|" -e "s|@LIBDIR@|$LIBDIR|" \
    -e "s|@INCLUDEDIR@|$PWD/bindings-ffi/include|" -e "s|@VERSION@|$version|" \
    bindings-ffi/switchpoint.pc.in > "$OUT/pkgconfig/switchpoint.pc"
export PKG_CONFIG_PATH="$OUT/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --modversion switchpoint

step "C test program (cc, linked through pkg-config)"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -g -O0 $(pkg-config --cflags switchpoint) \
   -I bindings-ffi/tests/c bindings-ffi/tests/c/*.c -o "$OUT/test_switchpoint" \
   $(pkg-config --libs switchpoint) -lcjson -lpthread -lm
"$OUT/test_switchpoint" "$MOCK_BIN" tests/scenarios

step "C test program under valgrind (no definite leaks, no invalid reads or writes)"
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)"; exit 1; }
# No suppressions: only "definitely lost" counts as a leak error; the runtime's worker
# threads keep some allocations "still reachable" / "possibly lost" until exit by design.
valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 \
  "$OUT/test_switchpoint" "$MOCK_BIN" tests/scenarios > "$OUT/valgrind.log" 2>&1 \
  || { cat "$OUT/valgrind.log"; echo "valgrind found errors"; exit 1; }
grep -E "passed, .* failed" "$OUT/valgrind.log"
echo "valgrind: 0 errors"

# One mock provider for the C++, Go and Python programs; closing its stdin stops it.
coproc MOCK { exec "$MOCK_BIN" --port 0 --exit-on-stdin-eof; }
MOCK_IN=${MOCK[1]}
read -r line <&"${MOCK[0]}"
MOCK_URL="${line##* }"
stop_mock() { exec {MOCK_IN}>&- || true; wait 2>/dev/null || true; }
trap stop_mock EXIT
echo "mock provider at $MOCK_URL"

step "C++ program (g++, static libswitchpoint.a)"
static_deps=$(pkg-config --static --libs-only-l switchpoint | sed 's/-lswitchpoint//')
# shellcheck disable=SC2046,SC2086
g++ -std=c++17 -Wall -Wextra -Werror -g $(pkg-config --cflags switchpoint) \
    bindings-ffi/tests/cpp/chat.cpp "$LIBDIR/libswitchpoint.a" $static_deps -o "$OUT/chat_cpp"
if ldd "$OUT/chat_cpp" | grep -q libswitchpoint; then echo "chat_cpp is not static"; exit 1; fi
"$OUT/chat_cpp" "$MOCK_URL"

step "Go program (cgo, pkg-config; standard library only, no network)"
(cd bindings-ffi/tests/go && GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local \
   GOCACHE="$OUT/go-cache" GOPATH="$OUT/gopath" go run . "$MOCK_URL")

step "uniffi: generate Python, Kotlin and Swift bindings"
rm -rf "$OUT/uniffi"
for lang in python kotlin swift; do
  "$LIBDIR/uniffi-bindgen" generate --library "$LIBDIR/libswitchpoint.so" \
    --language "$lang" --out-dir "$OUT/uniffi/$lang" --no-format
done
test -s "$OUT/uniffi/python/switchpoint.py"
kt=$(find "$OUT/uniffi/kotlin" -name '*.kt' | head -1)
swift="$OUT/uniffi/swift/switchpoint.swift"
test -n "$kt"
test -s "$swift"
test -s "$OUT/uniffi/swift/switchpointFFI.h"
# One check per line: under `set -e` a failing grep inside an `a && b` list would not stop
# the script.
for pat in 'class Gateway' 'suspend fun `?chat' 'interface ChunkListener' \
           'interface RecordListener' 'fun `?metricsText' 'fun `?usage' \
           'interface GuardrailHook' 'suspend fun `?createKey' 'fun `?reload' \
           'fun `?addGuardrail'; do
  grep -Eq "$pat" "$kt" || { echo "Kotlin bindings lack: $pat"; exit 1; }
done
for pat in 'func chat\(' 'async throws' 'func metricsText\(' 'protocol RecordListener' \
           'protocol GuardrailHook' 'func revokeKey\(' 'func addGuardrail\('; do
  grep -Eq "$pat" "$swift" || { echo "Swift bindings lack: $pat"; exit 1; }
done
echo "generated: $kt, $OUT/uniffi/swift/switchpoint.swift, $OUT/uniffi/python/switchpoint.py"

step "uniffi Python bindings against the mock (system python3)"
ln -sf "$LIBDIR/libswitchpoint.so" "$OUT/uniffi/python/libswitchpoint.so"
MOCK_URL="$MOCK_URL" python3 bindings-ffi/tests/python/test_uniffi.py "$OUT/uniffi/python"

echo
echo "C ABI and uniffi suite passed"
