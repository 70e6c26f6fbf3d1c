"""The `cache=` keyword: per-request cache controls, checked against the mock's request log
(a hit never reaches the provider), through Gateway and AsyncGateway."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List

import pytest
import switchpoint

from .conftest import Mock, user

PROMPT = "alpha beta gamma delta"


def cache_config(url: str) -> Dict[str, Any]:
    return {
        "providers": {"oai": {"kind": "openai", "base_url": url + "/v1", "api_key": "sk-cache"}},
        "models": {
            "gpt": {"provider": "oai", "model": "gpt-4o-mini"},
            "embed": {"provider": "oai", "model": "text-embedding-3-small"},
        },
        "cache": {"enabled": True, "ttl": "1h"},
    }


@pytest.fixture()
def cgw(mock: Mock) -> switchpoint.Gateway:
    mock.reset()
    return switchpoint.Gateway(config=cache_config(mock.url))


class Calls:
    """Asks the same question and counts the provider calls the mock logged."""

    def __init__(self, gw: switchpoint.Gateway, mock: Mock) -> None:
        self.gw, self.mock = gw, mock

    def ask(self, **kwargs: Any) -> switchpoint.ChatCompletion:
        return self.gw.chat.completions.create(model="gpt", messages=user(PROMPT), team="t", **kwargs)

    def upstream(self) -> int:
        return len(self.mock.log())


def test_a_repeat_is_a_hit_that_reaches_no_provider(cgw: switchpoint.Gateway, mock: Mock) -> None:
    c = Calls(cgw, mock)
    first = c.ask()
    assert (first.switchpoint.cache, c.upstream()) == ("miss", 1)
    cost = first.switchpoint.cost
    assert cost is not None and cost.usd == Decimal("0.000003") and cost.saved_usd is None
    second = c.ask()
    assert (second.switchpoint.cache, c.upstream()) == ("hit", 1)
    saved = second.switchpoint.cost
    assert saved is not None and (saved.usd, saved.saved_usd) == (Decimal("0"), Decimal("0.000003"))
    assert isinstance(saved.usd, Decimal)
    assert second.to_dict()["switchpoint"]["cost"] == {"usd": "0", "saved_usd": "0.000003"}
    assert second.switchpoint.attempts == []
    assert second.choices[0].message.content == PROMPT


def test_no_read_asks_the_provider_and_still_stores(cgw: switchpoint.Gateway, mock: Mock) -> None:
    c = Calls(cgw, mock)
    c.ask()
    bypass = c.ask(cache={"no_read": True})
    assert (bypass.switchpoint.cache, c.upstream()) == ("bypass", 2)
    assert mock.log()[-1]["path"] == "/v1/chat/completions"
    assert c.ask().switchpoint.cache == "hit"
    assert c.upstream() == 2


def test_no_store_leaves_the_cache_empty(cgw: switchpoint.Gateway, mock: Mock) -> None:
    c = Calls(cgw, mock)
    assert c.ask(cache={"no_store": True}).switchpoint.cache == "miss"
    assert c.ask(cache={"no_store": True}).switchpoint.cache == "miss"
    assert c.upstream() == 2
    assert c.ask().switchpoint.cache == "miss"  # stored now
    assert c.ask().switchpoint.cache == "hit"
    assert c.upstream() == 3


def test_ttl_expires_the_stored_answer(cgw: switchpoint.Gateway, mock: Mock) -> None:
    c = Calls(cgw, mock)
    assert c.ask(cache={"ttl": 0.3}).switchpoint.cache == "miss"
    assert c.ask().switchpoint.cache == "hit"
    time.sleep(0.6)
    assert c.ask().switchpoint.cache == "miss"  # expired: asked again
    assert c.upstream() == 2


def test_refresh_asks_again_and_replaces_the_stored_answer(cgw: switchpoint.Gateway, mock: Mock) -> None:
    c = Calls(cgw, mock)
    c.ask()
    # The refreshed answer differs from the stored one: it reports cached prompt tokens.
    mock.script([{"cached_tokens": 3}])
    fresh = c.ask(cache={"refresh": True})
    assert (fresh.switchpoint.cache, c.upstream()) == ("bypass", 2)
    details = fresh.usage.prompt_tokens_details if fresh.usage else None
    assert details is not None and details.cached_tokens == 3
    again = c.ask()
    assert (again.switchpoint.cache, c.upstream()) == ("hit", 2)
    replaced = again.usage.prompt_tokens_details if again.usage else None
    assert replaced is not None and replaced.cached_tokens == 3


def test_namespaces_keep_answers_apart(cgw: switchpoint.Gateway, mock: Mock) -> None:
    c = Calls(cgw, mock)
    assert c.ask().switchpoint.cache == "miss"
    assert c.ask(cache={"namespace": "exp-1"}).switchpoint.cache == "miss"
    assert c.ask(cache={"namespace": "exp-1"}).switchpoint.cache == "hit"
    assert c.ask(cache={"namespace": "exp-2"}).switchpoint.cache == "miss"
    assert c.ask().switchpoint.cache == "hit"
    assert c.upstream() == 3


def test_streams_take_the_same_controls(cgw: switchpoint.Gateway, mock: Mock) -> None:
    def stream(**kwargs: Any) -> "tuple[str, Any]":
        s = cgw.chat.completions.create(model="gpt", messages=user("streamed words"), stream=True, **kwargs)
        text = "".join(ch.choices[0].delta.content or "" for ch in s if ch.choices)
        facts = s.switchpoint
        return text, facts.cache if facts else None

    assert stream() == ("streamed words", "miss")
    assert stream() == ("streamed words", "hit")
    assert stream(cache={"no_read": True}) == ("streamed words", "bypass")
    assert len(mock.log()) == 2


def test_cache_controls_are_checked_by_name_and_type(cgw: switchpoint.Gateway, mock: Mock) -> None:
    c = Calls(cgw, mock)
    with pytest.raises(switchpoint.BadRequestError) as typo:
        c.ask(cache={"no_reed": True})
    assert typo.value.param == "cache.no_reed"
    assert typo.value.message == (
        "invalid `cache.no_reed`: unknown field `no_reed`, expected one of "
        "`no_read`, `no_store`, `ttl`, `refresh`, `namespace`"
    )
    with pytest.raises(switchpoint.BadRequestError) as ttl:
        c.ask(cache={"ttl": -1})
    assert "cache.ttl must be a non-negative number of seconds" in ttl.value.message
    with pytest.raises(switchpoint.BadRequestError) as kind:
        c.ask(cache="no_read")
    assert kind.value.param == "cache"
    with pytest.raises(switchpoint.BadRequestError):
        c.ask(cache={"no_read": "yes"})
    assert c.upstream() == 0  # nothing was sent
    # None means "no controls", like every other keyword argument.
    assert c.ask(cache=None).switchpoint.cache == "miss"


def test_embeddings_accept_cache_controls(cgw: switchpoint.Gateway, mock: Mock) -> None:
    e = cgw.embeddings.create(model="embed", input="vector", cache={"no_store": True, "namespace": "n"})
    assert len(e.data) == 1
    with pytest.raises(switchpoint.BadRequestError) as typo:
        cgw.embeddings.create(model="embed", input="vector", cache={"ttl_seconds": 5})
    assert typo.value.param == "cache.ttl_seconds"


def test_async_gateway_cache_controls(mock: Mock) -> None:
    mock.reset()

    async def main() -> List[Any]:
        agw = switchpoint.AsyncGateway(config=cache_config(mock.url))

        async def ask(**kwargs: Any) -> Any:
            r = await agw.chat.completions.create(model="gpt", messages=user(PROMPT), **kwargs)
            return r.switchpoint.cache

        out = [await ask(), await ask(), await ask(cache={"no_read": True}), await ask(cache={"namespace": "a"})]
        out.append(await ask(cache={"namespace": "a"}))
        out.append(await ask(cache={"refresh": True, "ttl": 60}))
        try:
            await ask(cache={"refrsh": True})
        except switchpoint.BadRequestError as e:
            out.append(e.param)
        return out

    assert asyncio.run(main()) == ["miss", "hit", "bypass", "miss", "hit", "bypass", "cache.refrsh"]
    assert len(mock.log()) == 4


def test_the_cache_hit_benchmark_runs(mock: Mock) -> None:
    # A short run so the benchmark cannot rot; its figures come from a release build.
    bench = Path(__file__).resolve().parents[1] / "bench" / "cache_hit.py"
    env = {**os.environ, "MOCK_URL": mock.url}
    result = subprocess.run(
        [sys.executable, str(bench), "--calls", "300", "--miss-calls", "30"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for row in (
        "switchpoint Gateway, cache hit",
        "switchpoint AsyncGateway, cache hit",
        "baseline: Python dict cache, stored object",
        "switchpoint Gateway, cache miss (mock)",
    ):
        assert any(line.startswith(row) for line in lines), row
    assert lines[-1].startswith("target: a cache hit under 10 µs p50 from Python: ")
