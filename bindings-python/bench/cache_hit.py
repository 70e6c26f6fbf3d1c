"""Cache-hit benchmark from Python (not a test): a repeated chat completion answered from the
gateway's exact cache, beside baselines measured in the same process.

Rows (p50 / p99 per call, and process CPU per call, µs):
- switchpoint `Gateway` cache hit: ``gw.chat.completions.create(...)`` answered from the cache
  (request encoding, the core's admit / route / key / lookup / facts / record, the response
  object), and the same with a Python ``on_record`` callback receiving every record;
- switchpoint `AsyncGateway` cache hit (``await``, one event loop);
- baseline: the exact cache a Python program would write itself (canonical JSON key, BLAKE3
  is not in the standard library so blake2b, a dict), returning the stored object, and
  returning a fresh object from the stored JSON (what the gateway hands back);
- the cache miss to the mock provider, for scale.

    .venv/bin/python bindings-python/bench/cache_hit.py [--calls 200000]

Build the extension in release first: (cd bindings-python && maturin develop --release).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import start_mock  # noqa: E402 - the mock helper next to this file

MESSAGES = [{"role": "user", "content": "hello cached benchmark"}]


#: p50 and p99 latency per call, and the process's CPU time per call (all threads: the
#: telemetry worker's share of a request included), µs.
Figures = Tuple[float, float, float]


def figures(samples: List[int], cpu: float) -> Figures:
    s = sorted(samples)
    return s[len(s) // 2] / 1e3, s[min(len(s) - 1, int(len(s) * 0.99))] / 1e3, cpu / len(s) * 1e6


def measure(call: Callable[[], Any], calls: int) -> Figures:
    for _ in range(min(calls // 10, 20000)):
        call()
    gc.collect()
    clock = time.perf_counter_ns
    lat = [0] * calls
    c0 = time.process_time()
    for i in range(calls):
        t = clock()
        call()
        lat[i] = clock() - t
    return figures(lat, time.process_time() - c0)


async def measure_async(call: Callable[[], Any], calls: int) -> Figures:
    for _ in range(min(calls // 10, 20000)):
        await call()
    gc.collect()
    clock = time.perf_counter_ns
    lat = [0] * calls
    c0 = time.process_time()
    for i in range(calls):
        t = clock()
        await call()
        lat[i] = clock() - t
    return figures(lat, time.process_time() - c0)


class PythonCache:
    """The baseline: an exact cache keyed by the canonical request, in plain Python."""

    def __init__(self, answer: Any) -> None:
        self.store: Dict[bytes, Any] = {}
        self.text: Dict[bytes, str] = {}
        self.answer = answer

    @staticmethod
    def key(**request: Any) -> bytes:
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.blake2b(canonical, digest_size=32).digest()

    def put(self, **request: Any) -> None:
        k = self.key(**request)
        self.store[k] = self.answer
        self.text[k] = self.answer.model_dump_json()

    def get(self, **request: Any) -> Any:
        return self.store[self.key(**request)]

    def get_fresh(self, **request: Any) -> Any:
        return type(self.answer).model_validate(json.loads(self.text[self.key(**request)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=200000, help="measured calls per row")
    ap.add_argument("--miss-calls", type=int, default=2000, help="measured calls of the cache-miss row")
    args = ap.parse_args()

    import switchpoint

    url, proc = start_mock()
    config = {
        "providers": {"openai": {"base_url": url + "/v1", "api_key": "sk-bench"}},
        "models": {"gpt": {"provider": "openai", "model": "gpt-4o-mini"}},
        "cache": {"enabled": True, "ttl": "1h"},
    }
    gw = switchpoint.Gateway(config=config)
    first = gw.chat.completions.create(model="gpt", messages=MESSAGES)
    assert first.switchpoint.cache == "miss"

    def hit() -> Any:
        return gw.chat.completions.create(model="gpt", messages=MESSAGES)

    assert hit().switchpoint.cache == "hit"
    rows: List[Tuple[str, Figures]] = []
    rows.append(("switchpoint Gateway, cache hit", measure(hit, args.calls)))
    with gw.on_record(lambda record: None):
        rows.append(("  ... with a Python on_record callback", measure(hit, args.calls)))

    async def async_rows() -> Figures:
        agw = switchpoint.AsyncGateway(config=config)
        await agw.chat.completions.create(model="gpt", messages=MESSAGES)

        async def ahit() -> Any:
            return await agw.chat.completions.create(model="gpt", messages=MESSAGES)

        assert (await ahit()).switchpoint.cache == "hit"
        return await measure_async(ahit, args.calls)

    rows.append(("switchpoint AsyncGateway, cache hit", asyncio.run(async_rows())))

    cache = PythonCache(first)
    cache.put(model="gpt", messages=MESSAGES)
    rows.append(
        (
            "baseline: Python dict cache, stored object",
            measure(lambda: cache.get(model="gpt", messages=MESSAGES), args.calls),
        )
    )
    rows.append(
        (
            "baseline: Python dict cache, fresh object",
            measure(lambda: cache.get_fresh(model="gpt", messages=MESSAGES), args.calls),
        )
    )

    def miss() -> Any:
        return gw.chat.completions.create(model="gpt", messages=MESSAGES, cache={"no_read": True, "no_store": True})

    rows.append(("switchpoint Gateway, cache miss (mock)", measure(miss, args.miss_calls)))

    print(
        f"\ncache-hit benchmark: Python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    print(f"switchpoint {switchpoint.__version__}, {args.calls} calls per row\n")
    print(f"{'what':<46}{'p50 µs':>10}{'p99 µs':>10}{'CPU µs/call':>13}")
    for name, (p50, p99, cpu) in rows:
        print(f"{name:<46}{p50:>10.2f}{p99:>10.2f}{cpu:>13.2f}")
    hit_p50 = rows[0][1][0]
    print(
        f"\ntarget: a cache hit under 10 µs p50 from Python: {hit_p50:.2f} µs -> {'met' if hit_p50 < 10 else 'NOT met'}"
    )
    if proc is not None and proc.stdin is not None:
        proc.stdin.close()
        proc.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
