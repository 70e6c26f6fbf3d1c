"""Process-level behaviour: Ctrl-C during a blocking call, fork(), memory over 100,000 calls,
and import time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any, Dict

import pytest
import switchpoint

from .conftest import Mock, user


def test_ctrl_c_interrupts_a_slow_blocking_call_within_a_second(mock: Mock, config: Dict[str, Any]) -> None:
    mock.reset()
    script = textwrap.dedent(
        f"""
        import json, sys, time, switchpoint
        gw = switchpoint.Gateway(config=json.loads({__import__("json").dumps(__import__("json").dumps(config))}))
        print("ready", flush=True)
        t0 = time.monotonic()
        try:
            gw.chat.completions.create(model="oai/gpt-4o-mini!delay_ms=20000", messages=[{{"role": "user", "content": "x"}}])
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # well inside the call
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    word, at = out.split()
    assert word == "interrupted"
    assert float(at) - sent < 1.0, f"KeyboardInterrupt {float(at) - sent:.3f}s after SIGINT"
    assert proc.returncode == 0
    # The abandoned upstream request was cancelled too.
    log = mock.wait_for(lambda log: any(e["client_closed_early"] for e in log))
    assert log[-1]["client_closed_early"] is True


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_forked_child_makes_calls(gw: switchpoint.Gateway, agw: switchpoint.AsyncGateway, clean: Mock) -> None:
    # The parent has live pools and a running runtime before the fork.
    assert gw.chat.completions.create(model="gpt", messages=user("parent")).choices[0].message.content == "parent"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: must not hang on the parent's runtime or reuse its connections
        os.close(r)
        code = 1
        try:
            a = gw.chat.completions.create(model="gpt", messages=user("child")).choices[0].message.content
            s = "".join(
                c.choices[0].delta.content or ""
                for c in gw.chat.completions.create(model="sonnet", messages=user("x y"), max_tokens=9, stream=True)
                if c.choices
            )
            import asyncio

            async def main() -> str:
                rr = await agw.chat.completions.create(model="flash", messages=user("child async"))
                return rr.choices[0].message.content or ""

            b = asyncio.run(main())
            os.write(w, f"{a}|{s}|{b}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.02)
    answer = os.read(r, 1000).decode()
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0
    assert answer == "child|x y|child async"
    # The parent still works afterwards.
    assert gw.chat.completions.create(model="gpt", messages=user("again")).choices[0].message.content == "again"


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_100k_calls_rss_growth_under_10_mib(gw: switchpoint.Gateway, clean: Mock) -> None:
    from concurrent.futures import ThreadPoolExecutor

    messages = user("soak")

    def run(n: int) -> None:
        create = gw.chat.completions.create
        for _ in range(n):
            r = create(model="gpt", messages=messages)
            assert r.choices[0].message.content == "soak"

    threads = 4
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, [2_500] * threads))  # warm-up: pools, caches, allocator arenas
        before = _rss_bytes()
        list(pool.map(run, [25_000] * threads))  # 100,000 calls
        after = _rss_bytes()
    growth = (after - before) / (1024 * 1024)
    print(f"RSS before {before / 2**20:.1f} MiB, after {after / 2**20:.1f} MiB, growth {growth:.2f} MiB")
    assert growth < 10.0


def _import_time_us() -> "tuple[int, str]":
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import switchpoint"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    line = [ln for ln in out.splitlines() if ln.rstrip().endswith("| switchpoint")][0]
    return int(line.split("|")[1]), out


def test_import_is_fast() -> None:
    # The best of five runs, so a busy machine (parallel builds) does not decide the result.
    runs = [_import_time_us() for _ in range(5)]
    best, out = min(runs)
    print(f"import switchpoint: best {best / 1000:.1f} ms of {[round(r / 1000, 1) for r, _ in runs]}")
    assert best < 50_000
    # asyncio and typing are only imported when needed, not by `import switchpoint`.
    modules = {ln.split("|")[2].strip() for ln in out.splitlines() if ln.count("|") == 2}
    assert "asyncio" not in modules and "typing" not in modules
