"""Threads, asyncio, cancellation, the GIL and the event loop."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import switchpoint

from .conftest import Mock, user


def closed_early(mock: Mock, model: str) -> Dict[str, Any]:
    """The log entry for `model`, once the mock has seen the client leave."""
    log = mock.wait_for(lambda log: any(e["model"] == model and e["client_closed_early"] for e in log))
    entries = [e for e in log if e["model"] == model]
    assert entries, f"no request for {model} reached the mock"
    return entries[-1]


def test_16_threads_x_200_blocking_calls(gw: switchpoint.Gateway, clean: Mock) -> None:
    def worker(t: int) -> List[str]:
        out = []
        for i in range(200):
            r = gw.chat.completions.create(model="gpt", messages=user(f"t{t} c{i}"))
            out.append(r.choices[0].message.content or "")
        return out

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(worker, range(16)))
    for t, answers in enumerate(results):
        assert answers == [f"t{t} c{i}" for i in range(200)]
    assert len(clean.log()) == 3200


def test_1000_concurrent_asyncio_calls(agw: switchpoint.AsyncGateway, clean: Mock) -> None:
    async def main() -> List[str]:
        rs = await asyncio.gather(
            *(agw.chat.completions.create(model="gpt", messages=user(f"n{i}")) for i in range(1000))
        )
        return [r.choices[0].message.content or "" for r in rs]

    assert asyncio.run(main()) == [f"n{i}" for i in range(1000)]
    assert len(clean.log()) == 1000


def test_cancelling_an_awaiting_call_cancels_the_rust_future(agw: switchpoint.AsyncGateway, clean: Mock) -> None:
    async def main() -> None:
        # `provider/model` reaches the provider directly; the mock reads the fault suffix.
        task = asyncio.ensure_future(
            agw.chat.completions.create(model="oai/gpt-4o-mini!delay_ms=5000", messages=user("slow"))
        )
        await asyncio.sleep(0.3)
        task.cancel()
        t0 = time.monotonic()
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert time.monotonic() - t0 < 0.5
        assert task.cancelled()

    asyncio.run(main())
    entry = closed_early(clean, "gpt-4o-mini")
    assert entry["client_closed_early"] is True and entry["completed"] is False


def test_wait_for_timeout_cancels_upstream(agw: switchpoint.AsyncGateway, clean: Mock) -> None:
    clean.script([{"delay_ms": 5000}])

    async def main() -> None:
        try:
            await asyncio.wait_for(agw.chat.completions.create(model="gpt", messages=user("x")), 0.3)
        except asyncio.TimeoutError:
            return
        raise AssertionError("expected a timeout")

    asyncio.run(main())
    assert closed_early(clean, "gpt-4o-mini")["client_closed_early"] is True


def test_cancelling_a_stream_midway(agw: switchpoint.AsyncGateway, clean: Mock) -> None:
    clean.script([{"chunk_delay_ms": 300}])

    async def main() -> List[str]:
        got: List[str] = []

        async def consume() -> None:
            stream = await agw.chat.completions.create(
                model="sonnet", messages=user("a b c d e f g h i j"), max_tokens=50, stream=True
            )
            async for c in stream:
                if c.choices and c.choices[0].delta.content:
                    got.append(c.choices[0].delta.content)

        task = asyncio.ensure_future(consume())
        while len(got) < 2:
            await asyncio.sleep(0.02)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return got

    got = asyncio.run(main())
    assert got[:2] == ["a ", "b "] and len(got) < 10
    entry = closed_early(clean, "claude-sonnet-4-5")
    assert entry["client_closed_early"] is True and entry["completed"] is False


def test_blocking_stream_close_and_break_cancel_upstream(gw: switchpoint.Gateway, clean: Mock) -> None:
    clean.script([{"chunk_delay_ms": 200, "times": 3}])
    # close()
    stream = gw.chat.completions.create(model="gpt", messages=user("a b c d e f g"), stream=True)
    next(stream)
    next(stream)
    stream.close()
    # break out of a with block
    with gw.chat.completions.create(model="flash", messages=user("a b c d e f g"), stream=True) as s2:
        for _ in s2:
            break
    # garbage collection
    s3 = gw.chat.completions.create(model="sonnet", messages=user("a b c d e f g"), max_tokens=30, stream=True)
    next(s3)
    del s3
    gc.collect()
    for model in ("gpt-4o-mini", "gemini-2.5-flash", "claude-sonnet-4-5"):
        assert closed_early(clean, model)["client_closed_early"] is True, model


def test_async_stream_close(agw: switchpoint.AsyncGateway, clean: Mock) -> None:
    clean.script([{"chunk_delay_ms": 200}])

    async def main() -> None:
        stream = await agw.chat.completions.create(model="gpt", messages=user("a b c d e f"), stream=True)
        async with stream:
            async for _ in stream:
                break

    asyncio.run(main())
    assert closed_early(clean, "gpt-4o-mini")["client_closed_early"] is True


def test_blocking_calls_release_the_gil(gw: switchpoint.Gateway, clean: Mock) -> None:
    clean.script([{"delay_ms": 600}])
    done = threading.Event()

    def slow() -> None:
        gw.chat.completions.create(model="gpt", messages=user("slow"))
        done.set()

    t = threading.Thread(target=slow)
    t.start()
    spins = 0
    t0 = time.monotonic()
    while not done.is_set():
        spins += 1  # pure-Python work: only progresses if the waiting thread let go of the GIL
    elapsed = time.monotonic() - t0
    t.join()
    assert elapsed > 0.5
    assert spins > 100_000


def test_async_calls_never_block_the_event_loop(agw: switchpoint.AsyncGateway, clean: Mock) -> None:
    clean.script([{"delay_ms": 500}])

    async def main() -> int:
        ticks = 0
        call = asyncio.ensure_future(agw.chat.completions.create(model="gpt", messages=user("slow")))
        while not call.done():
            await asyncio.sleep(0.01)
            ticks += 1
        (await call).choices  # noqa: B018 (awaiting is the point; the answer is not needed)
        return ticks

    ticks = asyncio.run(main())
    assert ticks >= 10  # ~50 ticks of 10 ms during a 500 ms call; a blocked loop gives 1


def test_async_gateway_across_event_loops_and_threads(agw: switchpoint.AsyncGateway) -> None:
    def in_thread(i: int) -> str:
        async def main() -> str:
            r = await agw.chat.completions.create(model="gpt", messages=user(f"loop{i}"))
            return r.choices[0].message.content or ""

        return asyncio.run(main())

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(in_thread, range(8))) == [f"loop{i}" for i in range(8)]
