"""Client benchmark against the mock provider (not a test).

One run prints, side by side: per-call latency p50/p99, calls per second and client CPU per
call for switchpoint (blocking and asyncio), the official openai package (sync and async)
pointed at the same mock, httpx directly, and aiohttp directly; the async clients at
concurrency 1 and 256. Every client sends the same OpenAI chat-completions request to the
same mock endpoint and parses the JSON answer.

    scripts/with-mock.sh .venv/bin/python bindings-python/bench/bench.py
    # or let it start the mock itself (CARGO_TARGET_DIR/debug/mock-provider)
    .venv/bin/python bindings-python/bench/bench.py [--calls 2000] [--async-calls 20000]

Build the extension in release first: (cd bindings-python && maturin develop --release).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "hello benchmark"}]
BODY = {"model": MODEL, "messages": MESSAGES}
KEY = "sk-bench"


class Result:
    def __init__(
        self, name: str, concurrency: int, latencies: List[float], wall: float, cpu: float, mock_cpu: float
    ) -> None:
        self.name = name
        self.concurrency = concurrency
        lat = sorted(latencies)
        self.calls = len(lat)
        self.p50 = lat[len(lat) // 2] * 1e6
        self.p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e6
        self.rate = len(lat) / wall
        self.cpu_us = cpu / len(lat) * 1e6
        self.mock_cpu_us = mock_cpu / len(lat) * 1e6


def start_mock() -> Tuple[str, Optional[subprocess.Popen[str]]]:
    url = os.environ.get("MOCK_URL")
    if url:
        return url, None
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    proc = subprocess.Popen(
        [str(target / "debug" / "mock-provider"), "--port", "0", "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    return line.rsplit(" ", 1)[-1], proc


def mock_pid(url: str, proc: Optional[subprocess.Popen[str]]) -> Optional[int]:
    if proc is not None:
        return proc.pid
    port = url.rsplit(":", 1)[-1]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    if "pid=" in out:
        return int(out.split("pid=")[1].split(",")[0])
    return None


def cpu_of(pid: Optional[int]) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def clear_log(url: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(url + "/_mock/log", method="DELETE"), timeout=10).read()


def run_sync(name: str, call: Callable[[], Any], calls: int, warmup: int, ctx: Dict[str, Any]) -> Result:
    for _ in range(warmup):
        call()
    clear_log(ctx["url"])
    gc.collect()
    lat: List[float] = []
    m0, c0, t0 = cpu_of(ctx["pid"]), time.process_time(), time.perf_counter()
    for _ in range(calls):
        s = time.perf_counter()
        call()
        lat.append(time.perf_counter() - s)
    wall, cpu, mcpu = time.perf_counter() - t0, time.process_time() - c0, cpu_of(ctx["pid"]) - m0
    return Result(name, 1, lat, wall, cpu, mcpu)


async def run_async(
    name: str, call: Callable[[], Awaitable[Any]], calls: int, warmup: int, concurrency: int, ctx: Dict[str, Any]
) -> Result:
    async def worker(n: int, lat: Optional[List[float]]) -> None:
        for _ in range(n):
            s = time.perf_counter()
            await call()
            if lat is not None:
                lat.append(time.perf_counter() - s)

    await asyncio.gather(*(worker(max(1, warmup // concurrency), None) for _ in range(concurrency)))
    clear_log(ctx["url"])
    gc.collect()
    lat: List[float] = []
    per = max(1, calls // concurrency)
    m0, c0, t0 = cpu_of(ctx["pid"]), time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(per, lat) for _ in range(concurrency)))
    wall, cpu, mcpu = time.perf_counter() - t0, time.process_time() - c0, cpu_of(ctx["pid"]) - m0
    return Result(name, concurrency, lat, wall, cpu, mcpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=2000, help="measured calls per sync client")
    ap.add_argument("--async-calls", type=int, default=10000, help="measured calls per async client at 256")
    ap.add_argument("--concurrency", type=int, default=256)
    args = ap.parse_args()

    import aiohttp
    import httpx
    import openai
    import switchpoint

    url, proc = start_mock()
    ctx = {"url": url, "pid": mock_pid(url, proc)}
    config = {
        "providers": {"openai": {"base_url": url + "/v1", "api_key": KEY}},
        "models": {MODEL: {"provider": "openai", "model": MODEL}},
    }
    endpoint = url + "/v1/chat/completions"
    headers = {"authorization": f"Bearer {KEY}"}
    results: List[Result] = []
    n, warm = args.calls, max(200, args.calls // 10)

    # --- blocking -------------------------------------------------------------------------
    gw = switchpoint.Gateway(config=config)
    results.append(
        run_sync(
            "switchpoint Gateway", lambda: gw.chat.completions.create(model=MODEL, messages=MESSAGES), n, warm, ctx
        )
    )
    hx = httpx.Client(headers=headers)
    results.append(run_sync("httpx.Client POST", lambda: hx.post(endpoint, json=BODY).json(), n, warm, ctx))
    oa = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)
    results.append(
        run_sync("openai.OpenAI", lambda: oa.chat.completions.create(model=MODEL, messages=MESSAGES), n, warm, ctx)
    )  # type: ignore[arg-type]

    # --- asyncio ----------------------------------------------------------------------------
    async def async_suite() -> None:
        agw = switchpoint.AsyncGateway(config=config)
        aoa = openai.AsyncOpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)
        ahx = httpx.AsyncClient(headers=headers, limits=httpx.Limits(max_connections=args.concurrency))
        session = aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=args.concurrency))

        async def aio_post() -> Any:
            async with session.post(endpoint, json=BODY) as resp:
                return await resp.json()

        async def ahx_post() -> Any:
            return (await ahx.post(endpoint, json=BODY)).json()

        clients: List[Tuple[str, Callable[[], Awaitable[Any]], float]] = [
            ("switchpoint AsyncGateway", lambda: agw.chat.completions.create(model=MODEL, messages=MESSAGES), 1.0),
            ("aiohttp POST", aio_post, 1.0),
            ("httpx.AsyncClient POST", ahx_post, 1.0),
            # AsyncOpenAI is ~40x slower at high concurrency: fewer calls keep the run short.
            ("openai.AsyncOpenAI", lambda: aoa.chat.completions.create(model=MODEL, messages=MESSAGES), 0.2),  # type: ignore[arg-type]
        ]
        for conc in (1, args.concurrency):
            for name, call, share in clients:
                calls = n if conc == 1 else max(conc * 4, int(args.async_calls * share))
                results.append(await run_async(name, call, calls, warm if conc == 1 else conc * 2, conc, ctx))
        await session.close()
        await ahx.aclose()
        await aoa.close()

    asyncio.run(async_suite())

    print(f"\nclient benchmark: Python {platform.python_version()}, {os.cpu_count()} cores, mock at {url}")
    print(
        f"switchpoint {switchpoint.__version__}, openai {openai.__version__}, httpx {httpx.__version__}, aiohttp {aiohttp.__version__}\n"
    )
    print(
        f"{'client':<28}{'conc':>5}{'calls':>8}{'p50 µs':>10}{'p99 µs':>10}{'calls/s':>10}{'client CPU µs/call':>20}{'mock CPU µs/call':>18}"
    )
    for r in results:
        print(
            f"{r.name:<28}{r.concurrency:>5}{r.calls:>8}{r.p50:>10.0f}{r.p99:>10.0f}{r.rate:>10.0f}"
            f"{r.cpu_us:>20.0f}{r.mock_cpu_us:>18.0f}"
        )
    by = {(r.name, r.concurrency): r for r in results}
    sp, hxr, oar = by[("switchpoint Gateway", 1)], by[("httpx.Client POST", 1)], by[("openai.OpenAI", 1)]
    c = args.concurrency
    asp, aio, aoar = by[("switchpoint AsyncGateway", c)], by[("aiohttp POST", c)], by[("openai.AsyncOpenAI", c)]
    print("\ntargets:")
    print(
        f"  blocking p50 vs bare httpx POST: {sp.p50:.0f} µs vs {hxr.p50:.0f} µs -> {'met' if sp.p50 < hxr.p50 else 'NOT met'}"
        f" ({sp.p50 / oar.p50:.2f}x the openai package's {oar.p50:.0f} µs; target <= 0.5x)"
    )
    print(
        f"  async calls/s at {c} vs bare aiohttp: {asp.rate:.0f} vs {aio.rate:.0f} -> {'met' if asp.rate >= aio.rate else 'NOT met'}"
        f" ({asp.rate / aoar.rate:.1f}x AsyncOpenAI's {aoar.rate:.0f}/s)"
    )
    if proc is not None and proc.stdin is not None:
        proc.stdin.close()
        proc.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
