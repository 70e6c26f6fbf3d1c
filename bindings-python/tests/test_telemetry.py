"""Metrics, usage queries and record callbacks through Gateway and AsyncGateway.

Every gateway here is fresh (its own metrics and usage store) and prices `house` at 2 USD
per 1M prompt tokens and 3 per 1M completion tokens. The mock counts a word as a token and
echoes the prompt, so "alpha beta gamma delta" is 4 + 4 tokens = 0.00002 USD exactly.
"""

from __future__ import annotations

import asyncio
import datetime
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from decimal import Decimal
from typing import Any, Dict, List, Optional

import pytest
import switchpoint
from prometheus_client.parser import text_string_to_metric_families

from .conftest import Mock, user

ALPHA = "alpha beta gamma delta"  # 4 + 4 tokens: 0.00002 USD
ONE_TWO = "one two"  # 2 + 2 tokens: 0.00001 USD


def telemetry_config(url: str, **extra: Any) -> Dict[str, Any]:
    return {
        "providers": {"oai": {"kind": "openai", "base_url": url + "/v1", "api_key": "sk-telemetry"}},
        "models": {
            "house": {"provider": "oai", "model": "house-model"},
            "embed": {"provider": "oai", "model": "text-embedding-3-small"},
        },
        "pricing": {"oai": {"house-model": {"input": "2", "output": "3"}}},
        "cache": {"enabled": True, "ttl": "1h"},
        **extra,
    }


@pytest.fixture()
def tgw(mock: Mock) -> switchpoint.Gateway:
    mock.reset()
    return switchpoint.Gateway(config=telemetry_config(mock.url))


def ask(gw: switchpoint.Gateway, text: str, **kwargs: Any) -> switchpoint.ChatCompletion:
    return gw.chat.completions.create(model="house", messages=user(text), **kwargs)


# ---------------------------------------------------------------------------------------------
# Prometheus text


def _families(text: str) -> Dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(families: Dict[str, Any], family: str, sample: str, **labels: str) -> float:
    """The sum of the samples of `family` named `sample` whose labels include `labels`."""
    found = [
        s.value
        for s in families[family].samples
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert found, f"no {sample} sample with {labels}"
    return float(sum(found))


def test_metrics_text_parses_with_prometheus_client_and_counts_exactly(tgw: switchpoint.Gateway, mock: Mock) -> None:
    weird = 'we"ird\\user\nnext line'  # quotes, a backslash and a newline must be escaped
    ask(tgw, ALPHA, user="u1", team="a", tags=["faq"])  # miss: 4 + 4 tokens, 0.00002 USD
    hit = ask(tgw, ALPHA, user="u1", team="a", tags=["faq"])  # hit: nothing paid, 0.00002 saved
    assert hit.switchpoint.cache == "hit"
    ask(tgw, ONE_TWO, user=weird, team="a")  # miss: 2 + 2 tokens, 0.00001 USD
    mock.script([{"status": 400}])
    with pytest.raises(switchpoint.BadRequestError):
        ask(tgw, "refused", user="u1", team="a", tags=["faq"])

    # No flush: metrics_text() itself waits for the records of calls that returned.
    fams = _families(tgw.metrics_text())
    assert fams["switchpoint_requests"].type == "counter"
    assert fams["switchpoint_request_duration_seconds"].type == "histogram"
    req = "switchpoint_requests_total"
    base = {"route": "house", "provider": "oai", "model": "house"}
    assert (
        _value(fams, "switchpoint_requests", req, **base, user="u1", team="a", tag="faq", status="ok", cache="miss")
        == 1
    )
    assert (
        _value(fams, "switchpoint_requests", req, **base, user="u1", team="a", tag="faq", status="ok", cache="hit") == 1
    )
    assert (
        _value(fams, "switchpoint_requests", req, **base, user=weird, team="a", tag="", status="ok", cache="miss") == 1
    )
    assert _value(fams, "switchpoint_requests", req, user="u1", status="bad_request") == 1
    assert _value(fams, "switchpoint_requests", req) == 4
    assert _value(fams, "switchpoint_errors", "switchpoint_errors_total", kind="bad_request", user="u1") == 1
    assert _value(fams, "switchpoint_errors", "switchpoint_errors_total") == 1
    tokens = "switchpoint_tokens_total"
    assert _value(fams, "switchpoint_tokens", tokens, user="u1", type="prompt") == 4
    assert _value(fams, "switchpoint_tokens", tokens, user=weird, type="prompt") == 2
    assert _value(fams, "switchpoint_tokens", tokens, type="completion") == 6
    cost = "switchpoint_cost_usd_total"
    assert _value(fams, "switchpoint_cost_usd", cost, user="u1") == float("0.00002")
    assert _value(fams, "switchpoint_cost_usd", cost, user=weird) == float("0.00001")
    saved = "switchpoint_cache_saved_usd_total"
    assert _value(fams, "switchpoint_cache_saved_usd", saved, user="u1") == float("0.00002")
    hist = "switchpoint_request_duration_seconds"
    assert _value(fams, hist, hist + "_count") == 4
    assert _value(fams, hist, hist + "_bucket", le="+Inf") == 4
    assert _value(fams, "switchpoint_telemetry_dropped", "switchpoint_telemetry_dropped_total") == 0
    assert _value(fams, "switchpoint_telemetry_observer_panics", "switchpoint_telemetry_observer_panics_total") == 0


def test_metrics_text_of_an_async_gateway_counts_awaited_calls(mock: Mock) -> None:
    mock.reset()

    async def main() -> str:
        agw = switchpoint.AsyncGateway(config=telemetry_config(mock.url))
        for _ in range(3):
            await agw.chat.completions.create(model="house", messages=user(ALPHA), team="async")
        return agw.metrics_text()

    fams = _families(asyncio.run(main()))
    req = "switchpoint_requests_total"
    assert _value(fams, "switchpoint_requests", req, team="async", cache="miss") == 1
    assert _value(fams, "switchpoint_requests", req, team="async", cache="hit") == 2


def test_a_fresh_gateway_has_no_request_series(tgw: switchpoint.Gateway) -> None:
    fams = _families(tgw.metrics_text())
    assert fams["switchpoint_requests"].samples == []
    assert _value(fams, "switchpoint_telemetry_dropped", "switchpoint_telemetry_dropped_total") == 0


# ---------------------------------------------------------------------------------------------
# Usage queries


def _by_group(rows: List[switchpoint.UsageRow]) -> Dict[Optional[str], int]:
    return {r.group: r.requests for r in rows}


def test_usage_rows_are_typed_exact_and_read_only(tgw: switchpoint.Gateway) -> None:
    ask(tgw, ALPHA, user="u1", team="a")
    ask(tgw, ALPHA, user="u1", team="a")  # hit
    ask(tgw, ONE_TWO, user="u2", team="b")
    rows = tgw.usage(group_by="team")
    assert [r.group for r in rows] == ["a", "b"]  # most expensive first
    a = rows[0]
    assert isinstance(a, switchpoint.UsageRow)
    assert (a.requests, a.errors, a.cache_hits, a.prompt_tokens, a.completion_tokens) == (2, 0, 1, 4, 4)
    assert (a.cached_tokens, a.reasoning_tokens) == (0, 0)
    assert isinstance(a.cost_usd, Decimal) and a.cost_usd == Decimal("0.00002")
    assert a.saved_usd == Decimal("0.00002")
    assert a.to_dict() == {
        "group": "a",
        "requests": 2,
        "errors": 0,
        "cache_hits": 1,
        "prompt_tokens": 4,
        "completion_tokens": 4,
        "cached_tokens": 0,
        "reasoning_tokens": 0,
        "cost_usd": "0.00002",
        "saved_usd": "0.00002",
    }
    with pytest.raises(AttributeError, match="read-only"):
        a.requests = 5  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        del a.group  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(a)) == a
    total = tgw.usage()
    assert len(total) == 1 and total[0].group is None and total[0].requests == 3
    assert total[0].cost_usd == Decimal("0.00003")  # exact: 0.00002 + 0.00001


def test_usage_since_accepts_datetimes_timedeltas_and_seconds(tgw: switchpoint.Gateway) -> None:
    ask(tgw, ALPHA, user="u1")
    now = time.time()
    everything = {"u1": 1}
    hour = datetime.timedelta(hours=1)
    assert _by_group(tgw.usage(since=None, group_by="user")) == everything
    assert _by_group(tgw.usage(since=0, group_by="user")) == everything
    assert _by_group(tgw.usage(since=now - 3600.5, group_by="user")) == everything
    assert _by_group(tgw.usage(since=-5, group_by="user")) == everything
    assert _by_group(tgw.usage(since=hour, group_by="user")) == everything
    assert _by_group(tgw.usage(since=datetime.datetime.now() - hour, group_by="user")) == everything  # naive: local
    utc = datetime.timezone.utc
    assert _by_group(tgw.usage(since=datetime.datetime.now(utc) - hour, group_by="user")) == everything
    # Later than every request: nothing (a timedelta into the future, a time an hour ahead).
    assert tgw.usage(since=-hour, group_by="user") == []
    assert tgw.usage(since=datetime.datetime.now() + hour, group_by="user") == []
    assert tgw.usage(since=datetime.datetime.now(utc) + hour, group_by="user") == []
    assert tgw.usage(since=int(now) + 3600, group_by="user") == []
    assert tgw.usage(since=1e300, group_by="user") == []
    for bad in ("yesterday", True, [0]):
        with pytest.raises(TypeError, match="since must be"):
            tgw.usage(since=bad)
    with pytest.raises(switchpoint.BadRequestError) as nan:
        tgw.usage(since=math.nan)
    assert nan.value.param == "since"


def test_usage_with_a_bad_group_by_is_a_bad_request_naming_the_parameter(tgw: switchpoint.Gateway) -> None:
    with pytest.raises(switchpoint.BadRequestError) as caught:
        tgw.usage(group_by="teams")  # type: ignore[arg-type]
    err = caught.value
    assert (err.kind, err.param, err.status_code) == ("bad_request", "group_by", None)
    assert err.message == (
        "group_by: unknown grouping `teams`; allowed: total, user, team, model, route, provider, tag, key"
    )
    with pytest.raises(TypeError):
        tgw.usage(group_by=None)  # type: ignore[arg-type]


def test_usage_of_an_async_gateway(mock: Mock) -> None:
    mock.reset()

    async def main() -> List[switchpoint.UsageRow]:
        agw = switchpoint.AsyncGateway(config=telemetry_config(mock.url))
        await agw.chat.completions.create(model="house", messages=user(ALPHA), tags=["x", "y"])
        await agw.chat.completions.create(model="house", messages=user(ONE_TWO), tags=["y"])
        return agw.usage(since=datetime.timedelta(minutes=5), group_by="tag")

    rows = asyncio.run(main())
    assert [(r.group, r.requests, r.cost_usd) for r in rows] == [
        ("y", 2, Decimal("0.00003")),
        ("x", 1, Decimal("0.00002")),
    ]


# ---------------------------------------------------------------------------------------------
# Record callbacks


def test_a_callback_receives_every_record_with_its_fields(tgw: switchpoint.Gateway, mock: Mock) -> None:
    records: List[switchpoint.RequestRecord] = []
    sub = tgw.on_record(records.append)
    assert isinstance(sub, switchpoint.RecordSubscription) and sub.active
    miss = ask(tgw, ALPHA, user="u1", team="a", tier="pro", tags=["faq", "beta"])
    hit = ask(tgw, ALPHA, user="u1", team="a", tier="pro", tags=["faq", "beta"])
    mock.script([{"status": 400}])
    with pytest.raises(switchpoint.BadRequestError):
        ask(tgw, "refused", user="u2")
    stream = tgw.chat.completions.create(
        model="house", messages=user(ONE_TWO), stream=True, stream_options={"include_usage": True}
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == ONE_TWO
    tgw.embeddings.create(model="embed", input="vector")
    assert tgw.flush_telemetry() is True
    assert [r.call for r in records] == ["chat", "chat", "chat", "chat_stream", "embed"]

    first = records[0]
    assert isinstance(first, switchpoint.RequestRecord)
    assert first.id == miss.id
    assert (first.model, first.route, first.provider, first.provider_model) == ("house", "house", "oai", "house-model")
    assert first.provider_kind == "openai"
    assert first.status == "ok" and first.error_kind is None
    assert first.finish_reasons == ["stop"]
    assert first.started_at_ms <= first.ended_at_ms and first.latency_ms > 0
    assert abs(first.started_at_ms / 1000 - time.time()) < 60
    assert first.tags == ["faq", "beta"]
    caller = first.caller
    assert isinstance(caller, switchpoint.RecordCaller)
    assert (caller.user, caller.team, caller.tier, caller.key_id) == ("u1", "a", "pro", None)
    tokens = first.tokens
    assert isinstance(tokens, switchpoint.RecordTokens)
    assert (tokens.prompt, tokens.completion, tokens.cached, tokens.cache_write, tokens.reasoning) == (4, 4, 0, 0, 0)
    cost = first.cost
    assert isinstance(cost, switchpoint.RecordCost)
    assert (cost.total, cost.input, cost.output, cost.reasoning) == (
        Decimal("0.00002"),
        Decimal("0.000008"),
        Decimal("0.000012"),
        Decimal("0"),
    )
    assert isinstance(first.cache, switchpoint.RecordCache)
    assert (first.cache.status, first.cache.saved_usd) == ("miss", None)
    assert [a.status for a in first.attempts] == ["ok"] and first.attempts[0].provider == "oai"
    assert first.content is None  # record_content is off
    assert first.to_dict()["cost"]["total"] == "0.00002"  # the wire's text

    second = records[1]
    assert second.id == hit.id
    assert (second.cache.status, second.cache.saved_usd) == ("hit", Decimal("0.00002"))
    assert second.cost is None  # nothing was billed: the saving is under cache.saved_usd
    assert second.attempts == []

    failed = records[2]
    assert (failed.status, failed.error_kind, failed.caller.user) == ("error", "bad_request", "u2")
    assert failed.cost is None and failed.tokens.prompt == 0

    streamed = records[3]
    assert streamed.ttft_ms is not None and streamed.ttft_ms <= streamed.latency_ms
    assert (streamed.tokens.prompt, streamed.tokens.completion) == (2, 2)
    assert streamed.cost is not None and streamed.cost.total == Decimal("0.00001")
    sub.remove()


def test_an_exception_in_a_callback_goes_to_unraisablehook_not_the_request(
    tgw: switchpoint.Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    caught: List[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", caught.append)

    def broken(record: switchpoint.RequestRecord) -> None:
        raise ValueError(f"callback failed on {record.id}")

    good: List[str] = []
    tgw.on_record(broken)
    tgw.on_record(lambda r: good.append(r.id))
    r1 = ask(tgw, ALPHA)
    r2 = ask(tgw, ONE_TWO)
    assert r1.choices[0].message.content == ALPHA  # the request never sees the exception
    assert tgw.flush_telemetry()
    assert good == [r1.id, r2.id]  # the other callback still ran, every time
    assert [str(u.exc_value) for u in caught] == [f"callback failed on {r1.id}", f"callback failed on {r2.id}"]
    assert all(isinstance(u.exc_value, ValueError) and u.object is broken for u in caught)
    fams = _families(tgw.metrics_text())
    assert _value(fams, "switchpoint_telemetry_observer_panics", "switchpoint_telemetry_observer_panics_total") == 0


def test_remove_stops_delivery_and_is_idempotent(tgw: switchpoint.Gateway) -> None:
    seen: List[str] = []
    sub = tgw.on_record(lambda r: seen.append(r.id))
    ask(tgw, "before removal")
    assert tgw.flush_telemetry()
    assert len(seen) == 1
    assert sub.remove() is True
    assert sub.active is False
    assert sub.remove() is False
    ask(tgw, "after removal")
    assert tgw.flush_telemetry()
    assert len(seen) == 1
    assert repr(sub) == "<RecordSubscription removed>"

    in_block: List[str] = []
    with tgw.on_record(lambda r: in_block.append(r.id)) as scoped:
        assert scoped.active
        ask(tgw, "inside the with block")
        assert tgw.flush_telemetry()
    assert not scoped.active
    ask(tgw, "after the with block")
    assert tgw.flush_telemetry()
    assert len(in_block) == 1


def test_records_already_queued_are_not_delivered_after_remove(tgw: switchpoint.Gateway) -> None:
    seen: List[str] = []
    first = threading.Event()

    def slow(record: switchpoint.RequestRecord) -> None:
        seen.append(record.id)
        first.set()
        time.sleep(0.05)  # releases the GIL: remove() can run meanwhile

    sub = tgw.on_record(slow)
    for i in range(10):
        ask(tgw, f"queued {i}")  # ten records queue up behind the slow callback
    assert first.wait(10)
    sub.remove()
    at_removal = len(seen)
    assert tgw.flush_telemetry()
    # At most the call under way when remove() ran finishes; no call starts afterwards.
    assert len(seen) <= at_removal + 1 < 10


def test_a_slow_callback_drops_records_instead_of_slowing_requests(mock: Mock) -> None:
    mock.reset()
    gw = switchpoint.Gateway(config=telemetry_config(mock.url, telemetry={"queue_size": 2}))
    seen: List[str] = []

    def slow(record: switchpoint.RequestRecord) -> None:
        seen.append(record.id)
        time.sleep(0.2)

    gw.on_record(slow)
    t0 = time.monotonic()
    for i in range(20):
        ask(gw, f"drop {i}")
    assert time.monotonic() - t0 < 3  # 20 x 0.2 s would be 4 s if requests waited
    assert gw.flush_telemetry(timeout=10)
    dropped = _value(
        _families(gw.metrics_text()), "switchpoint_telemetry_dropped", "switchpoint_telemetry_dropped_total"
    )
    assert dropped > 0
    assert len(seen) + dropped == 20  # each record was delivered or dropped, none twice


def test_callbacks_and_queries_from_many_threads_do_not_deadlock(tgw: switchpoint.Gateway) -> None:
    seen: List[str] = []
    lock = threading.Lock()

    def callback(record: switchpoint.RequestRecord) -> None:
        with lock:
            seen.append(record.id)
        sum(range(2000))  # Python work with the GIL held, on the telemetry thread

    tgw.on_record(callback)
    failures: List[BaseException] = []

    def worker(i: int) -> None:
        try:
            for j in range(20):
                ask(tgw, f"thread {i} call {j}", user=f"t{i}")
                if j % 5 == 0:
                    # Each waits for the telemetry thread, which needs the GIL for the callback.
                    tgw.usage(group_by="user")
                    tgw.metrics_text()
                    assert tgw.flush_telemetry(timeout=10)
        except BaseException as e:  # noqa: B036 - reported below
            failures.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "deadlock: threads still running"
    assert failures == []
    assert tgw.flush_telemetry()
    assert len(seen) == 120 and len(set(seen)) == 120
    assert _by_group(tgw.usage(group_by="user")) == {f"t{i}": 20 for i in range(6)}


def test_waiting_for_telemetry_inside_a_callback_does_not_hang(tgw: switchpoint.Gateway) -> None:
    results: List[Any] = []

    def callback(record: switchpoint.RequestRecord) -> None:
        t0 = time.monotonic()
        results.append((tgw.flush_telemetry(timeout=30), time.monotonic() - t0))

    tgw.on_record(callback)
    ask(tgw, ALPHA)
    assert tgw.flush_telemetry()
    [(flushed, waited)] = results
    assert flushed is False and waited < 1  # the telemetry thread cannot wait for itself


def test_async_gateway_callbacks_and_flush(mock: Mock) -> None:
    mock.reset()

    async def main() -> List[switchpoint.RequestRecord]:
        agw = switchpoint.AsyncGateway(config=telemetry_config(mock.url))
        records: List[switchpoint.RequestRecord] = []
        with agw.on_record(records.append):
            r = await agw.chat.completions.create(model="house", messages=user(ALPHA), user="async-user")
            # The wait runs off the loop: another task keeps running meanwhile.
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0)

            task = asyncio.ensure_future(ticker())
            assert await agw.flush_telemetry() is True
            task.cancel()
            assert ticks > 0
            assert records[0].id == r.id
        await agw.chat.completions.create(model="house", messages=user("after"))
        assert await agw.flush_telemetry(timeout=5)
        return records

    records = asyncio.run(main())
    assert [(r.call, r.caller.user) for r in records] == [("chat", "async-user")]


def test_flush_telemetry_rejects_a_bad_timeout(tgw: switchpoint.Gateway) -> None:
    assert tgw.flush_telemetry(timeout=0) in (True, False)
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(switchpoint.BadRequestError) as caught:
            tgw.flush_telemetry(timeout=bad)
        assert caught.value.param == "timeout"


def test_on_record_needs_a_callable(tgw: switchpoint.Gateway) -> None:
    with pytest.raises(TypeError, match="callable"):
        tgw.on_record("print")  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_callbacks_follow_the_gateway_into_a_forked_child(tgw: switchpoint.Gateway) -> None:
    seen: List[str] = []
    tgw.on_record(lambda r: seen.append(r.caller.user or ""))
    ask(tgw, ALPHA, user="parent")
    assert tgw.flush_telemetry()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 1
        try:
            ask(tgw, ALPHA, user="child")  # the child's gateway is rebuilt: a fresh cache
            ok = tgw.flush_telemetry(timeout=10)
            rows = tgw.usage(group_by="user")
            os.write(w, f"{ok}|{','.join(seen)}|{[(x.group, x.requests) for x in rows]}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    deadline = time.monotonic() + 30
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
    assert answer == "True|parent,child|[('child', 1)]"
    assert seen == ["parent"]


def test_the_interpreter_exits_cleanly_with_callbacks_under_way(mock: Mock) -> None:
    # Records still queued behind a slow callback at exit: the callbacks stop before the
    # interpreter finalizes (no crash, no hang), and the exit code is the program's.
    script = textwrap.dedent(
        f"""
        import time, switchpoint
        gw = switchpoint.Gateway(config={telemetry_config(mock.url)!r})
        gw.on_record(lambda r: time.sleep(0.05))
        for i in range(20):
            gw.chat.completions.create(model="house", messages=[{{"role": "user", "content": f"exit {{i}}"}}])
        print("done", flush=True)
        """
    )
    t0 = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert result.stderr == ""
    assert time.monotonic() - t0 < 20
