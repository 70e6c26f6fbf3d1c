"""Keys, audit, reload, rate limits and budgets through Gateway and AsyncGateway (in-memory
state; the Redis proofs across processes are in test_redis.py)."""

from __future__ import annotations

import asyncio
import datetime
import json
import threading
import time
from typing import Any, Dict, List

import pytest
import switchpoint

from .conftest import Mock, config_for, user

#: $1,000 per million tokens: a token costs $0.001, so costs are easy to check.
PRICING = {"oai": {"priced-model": {"input": "1000", "output": "1000", "max_output": 50}}}


def policy_config(url: str, **extra: Any) -> Dict[str, Any]:
    cfg = config_for(url)
    cfg["models"]["priced"] = {"provider": "oai", "model": "priced-model"}
    cfg["pricing"] = PRICING
    cfg.update(extra)
    return cfg


def test_keys_admin_round_trip(mock: Mock) -> None:
    gw = switchpoint.Gateway(config=policy_config(mock.url, virtual_keys={"required": True}))
    started = time.time()
    # Settings as keyword arguments ...
    search = gw.keys.create(name="search", user="svc-search", team="search", models=["gpt"], actor="ana@example.com")
    # ... and as a dict (with a key of our own).
    own = "sk-python-own-key-000000001"
    batch = gw.keys.create({"key": own, "name": "batch", "metadata": {"owner": "bo"}}, actor="bo@example.com")
    assert search["key"].startswith("sk-") and len(search["key"]) >= 20
    assert search["id"].startswith("key-") and len(search["id"]) == 20
    assert (search["source"], search["revoked"], search["revision"]) == ("api", False, 1)
    assert (search["name"], search["user"], search["team"], search["models"]) == (
        "search",
        "svc-search",
        "search",
        ["gpt"],
    )
    assert search["created_by"] == "ana@example.com"
    assert batch["key"] == own and batch["metadata"] == {"owner": "bo"}

    # The key admits requests under its identity.
    r = gw.chat.completions.create(model="gpt", messages=user("hi"), api_key=search["key"])
    assert r.choices[0].message.content == "hi"
    assert r.switchpoint is not None and r.switchpoint.route == "gpt"
    # Its allow-list is enforced.
    with pytest.raises(switchpoint.PolicyDeniedError) as denied:
        gw.chat.completions.create(model="sonnet", messages=user("hi"), api_key=search["key"])
    assert (denied.value.code, denied.value.status_code, denied.value.param) == ("model_not_allowed", 403, "model")
    # Without a key: refused (required).
    with pytest.raises(switchpoint.AuthenticationError) as missing:
        gw.chat.completions.create(model="gpt", messages=user("hi"))
    assert missing.value.code == "missing_api_key"

    # Listing never shows a key's value.
    listed = gw.keys.list()
    assert sorted(k["id"] for k in listed) == sorted([search["id"], batch["id"]])
    assert all("key" not in k for k in listed)
    assert search["key"] not in json.dumps(listed) and own not in json.dumps(listed)
    got = gw.keys.get(search["id"])
    assert got == [k for k in listed if k["id"] == search["id"]][0]
    assert "key" not in got

    # Update with a dict, then with keyword arguments (None removes a setting).
    updated = gw.keys.update(search["id"], {"team": "research", "limits": {"rpm": 100}}, actor="ana@example.com")
    assert (updated["team"], updated["limits"], updated["revision"]) == ("research", {"rpm": 100}, 2)
    updated = gw.keys.update(search["id"], tier="gold", limits=None, actor="ana@example.com")
    assert (updated["tier"], updated["revision"], "limits" in updated) == ("gold", 3, False)
    assert gw.keys.get(search["id"])["team"] == "research"

    # Revoke: the next request with the key is refused.
    revoked = gw.keys.revoke(search["id"], actor="ana@example.com")
    assert (revoked["id"], revoked["revoked"]) == (search["id"], True)
    with pytest.raises(switchpoint.AuthenticationError) as refused:
        gw.chat.completions.create(model="gpt", messages=user("hi"), api_key=search["key"])
    assert (refused.value.kind, refused.value.code, refused.value.status_code) == ("auth", "key_revoked", 401)
    # The other key still works.
    gw.chat.completions.create(model="gpt", messages=user("hi"), api_key=own)

    # The audit log shows every change with its actor, oldest first.
    records = gw.audit()
    actions = [(r["action"], r["actor"], r.get("target")) for r in records]
    assert actions == [
        ("key_created", "ana@example.com", search["id"]),
        ("key_created", "bo@example.com", batch["id"]),
        ("key_updated", "ana@example.com", search["id"]),
        ("key_updated", "ana@example.com", search["id"]),
        ("key_revoked", "ana@example.com", search["id"]),
    ]
    assert all(r["at_ms"] >= int(started * 1000) - 1 for r in records)
    assert own not in json.dumps(records) and search["key"] not in json.dumps(records)
    # `since` as unix seconds, a datetime or a timedelta.
    assert gw.audit(since=time.time() + 60) == []
    assert len(gw.audit(since=datetime.datetime.now() - datetime.timedelta(minutes=5))) == 5
    assert len(gw.audit(since=datetime.timedelta(minutes=5))) == 5


def test_key_admin_errors(mock: Mock) -> None:
    gw = switchpoint.Gateway(
        config=policy_config(mock.url, virtual_keys={"keys": [{"key": "sk-config-key-00000000001", "tier": "free"}]})
    )
    with pytest.raises(switchpoint.NotFoundError) as nf:
        gw.keys.get("key-0000000000000000")
    assert (nf.value.kind, nf.value.status_code) == ("not_found", 404)
    # Config keys change through config, not the admin API.
    config_key = gw.keys.list()[0]
    assert (config_key["source"], config_key["tier"]) == ("config", "free")
    with pytest.raises(switchpoint.BadRequestError) as bad:
        gw.keys.revoke(config_key["id"])
    assert bad.value.param == "id"
    # Settings are checked by the core's schema, naming the field.
    with pytest.raises(switchpoint.BadRequestError) as unknown:
        gw.keys.create(colour="red")
    assert "colour" in unknown.value.message
    with pytest.raises(switchpoint.BadRequestError) as wrong:
        gw.keys.create(limits={"rpm": "many"})
    assert "limits.rpm" in wrong.value.message
    # A setting given twice is a caller's mistake, caught before the core.
    with pytest.raises(TypeError, match="'user' both"):
        gw.keys.create({"user": "a"}, user="b")
    with pytest.raises(TypeError):
        gw.keys.create(["not", "a", "dict"])  # type: ignore[arg-type]


def test_expiry_as_datetime(mock: Mock) -> None:
    gw = switchpoint.Gateway(config=policy_config(mock.url, virtual_keys={"required": True}))
    soon = datetime.datetime.now() + datetime.timedelta(hours=1)
    k = gw.keys.create(expires_at=soon)
    assert abs(k["expires_at_ms"] - soon.timestamp() * 1000) < 2
    gw.chat.completions.create(model="gpt", messages=user("hi"), api_key=k["key"])
    gone = gw.keys.create(expires_at=time.time() - 10)
    with pytest.raises(switchpoint.AuthenticationError) as e:
        gw.chat.completions.create(model="gpt", messages=user("hi"), api_key=gone["key"])
    assert e.value.code == "key_expired"


def test_keys_admin_round_trip_async(mock: Mock) -> None:
    async def play() -> None:
        gw = switchpoint.AsyncGateway(config=policy_config(mock.url, virtual_keys={"required": True}))
        k = await gw.keys.create({"name": "a"}, user="u1", actor="async-admin")
        assert (k["name"], k["user"], k["revision"]) == ("a", "u1", 1)
        r = await gw.chat.completions.create(model="gpt", messages=user("hello"), api_key=k["key"])
        assert r.choices[0].message.content == "hello"
        assert [x["id"] for x in await gw.keys.list()] == [k["id"]]
        assert (await gw.keys.get(k["id"]))["user"] == "u1"
        assert (await gw.keys.update(k["id"], user="u2", actor="async-admin"))["user"] == "u2"
        assert (await gw.keys.revoke(k["id"], actor="async-admin"))["revoked"] is True
        with pytest.raises(switchpoint.AuthenticationError) as e:
            await gw.chat.completions.create(model="gpt", messages=user("hello"), api_key=k["key"])
        assert e.value.code == "key_revoked"
        with pytest.raises(switchpoint.NotFoundError):
            await gw.keys.get("key-0000000000000000")
        records = await gw.audit(since=0)
        assert [(r["action"], r["actor"]) for r in records] == [
            ("key_created", "async-admin"),
            ("key_updated", "async-admin"),
            ("key_revoked", "async-admin"),
        ]
        await gw.reload(policy_config(mock.url, limits=[{"scope": "gateway", "rpm": 1}]), actor="async-deployer")
        assert (await gw.audit())[-1]["action"] == "config_reloaded"
        assert (await gw.audit())[-1]["actor"] == "async-deployer"

    asyncio.run(play())


def test_rate_limit_refusal_is_rate_limit_exceeded_with_retry_after(mock: Mock) -> None:
    gw = switchpoint.Gateway(config=policy_config(mock.url, limits=[{"scope": "user", "rpm": 3}]))
    mock.reset()
    for _ in range(3):
        gw.chat.completions.create(model="gpt", messages=user("hi"), user="alice")
    with pytest.raises(switchpoint.RateLimitExceededError) as e:
        gw.chat.completions.create(model="gpt", messages=user("hi"), user="alice")
    err = e.value
    assert isinstance(err, switchpoint.RateLimitError)
    assert (err.kind, err.code, err.status_code) == ("rate_limit_exceeded", "rpm", 429)
    assert err.retry_after is not None and 0 < err.retry_after <= 60
    assert "alice" in err.message
    # The refused request never reached the provider; another user is not affected.
    assert len(mock.log()) == 3
    gw.chat.completions.create(model="gpt", messages=user("hi"), user="bob")


def test_budget_refusal_is_budget_exceeded(mock: Mock) -> None:
    budget = {"scope": "team", "id": "research", "period": "day", "limit_usd": "0.03"}
    gw = switchpoint.Gateway(config=policy_config(mock.url, budgets=[budget]))
    # "one two three" costs 3 prompt + 3 answer tokens = $0.006; the worst case of the next
    # (prompt estimate + max_tokens 20: $0.028) no longer fits the $0.024 left.
    first = gw.chat.completions.create(model="priced", messages=user("one two three"), team="research", max_tokens=20)
    assert first.switchpoint is not None and first.switchpoint.cost is not None
    with pytest.raises(switchpoint.BudgetExceededError) as e:
        gw.chat.completions.create(model="priced", messages=user("one two three"), team="research", max_tokens=20)
    assert (e.value.kind, e.value.code, e.value.status_code) == ("budget_exceeded", "budget_day", 429)
    assert e.value.retry_after is not None and e.value.retry_after > 0
    assert f"retry in {e.value.retry_after:.1f} s" in e.value.message
    assert "team `research` may spend $0.03 per day" in e.value.message
    # Other teams have no budget.
    gw.chat.completions.create(model="priced", messages=user("one two three"), team="ops", max_tokens=20)


def test_reload_swaps_model_and_key_while_calls_continue(mock: Mock) -> None:
    def cfg(model: str, key: str) -> Dict[str, Any]:
        return {
            "providers": {"oai": {"kind": "openai", "base_url": mock.url + "/v1", "api_key": key}},
            "models": {"gpt": {"provider": "oai", "model": model}},
        }

    gw = switchpoint.Gateway(config=cfg("old-model", "sk-old-key"))
    mock.reset()
    failures: List[BaseException] = []
    served: List[str] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            try:
                r = gw.chat.completions.create(model="gpt", messages=user("hi"))
                assert r.switchpoint is not None
                served.append(r.switchpoint.provider_model)
            except BaseException as e:  # noqa: B036 - every failure counts
                failures.append(e)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    gw.reload(cfg("new-model", "sk-new-key"), actor="deployer")
    before = len(served)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert before > 0 and len(served) > before
    assert served[0] == "old-model" and served[-1] == "new-model"
    # Each request went out whole with one config's model and key, never a mix; the last
    # ones with the new config.
    log = mock.log()
    pairs = {(e["model"], e["headers"]["authorization"]) for e in log}
    assert pairs == {("old-model", "Bearer sk-old-key"), ("new-model", "Bearer sk-new-key")}
    assert log[-1]["model"] == "new-model"
    assert len(log) == len(served)
    assert gw.audit()[-1]["action"] == "config_reloaded"
    assert gw.audit()[-1]["actor"] == "deployer"


def test_reload_from_text_and_file_and_bad_config(mock: Mock, tmp_path: Any) -> None:
    gw = switchpoint.Gateway(config=policy_config(mock.url))
    text = json.dumps(
        {
            "providers": {"oai": {"kind": "openai", "base_url": mock.url + "/v1", "api_key": "sk-text"}},
            "models": {"gpt": {"provider": "oai", "model": "from-text"}},
        }
    )
    gw.reload(text)
    r = gw.chat.completions.create(model="gpt", messages=user("hi"))
    assert r.switchpoint is not None and r.switchpoint.provider_model == "from-text"
    path = tmp_path / "gw.yaml"
    path.write_text(
        f"providers:\n  oai: {{kind: openai, base_url: '{mock.url}/v1', api_key: sk-file}}\n"
        "models:\n  gpt: {provider: oai, model: from-file}\n"
    )
    gw.reload(path, actor="file-deployer")
    r = gw.chat.completions.create(model="gpt", messages=user("hi"))
    assert r.switchpoint is not None and r.switchpoint.provider_model == "from-file"
    # A bad config is refused with the field named, and the current one stays in force.
    with pytest.raises(switchpoint.ConfigError) as e:
        gw.reload({"providers": {"oai": {"kind": "nope", "base_url": "http://x"}}, "models": {}})
    assert "kind" in e.value.message
    r = gw.chat.completions.create(model="gpt", messages=user("hi"))
    assert r.switchpoint is not None and r.switchpoint.provider_model == "from-file"
    with pytest.raises(TypeError):
        gw.reload(42)  # type: ignore[arg-type]
    assert [(r["action"], r["actor"]) for r in gw.audit()] == [
        ("config_reloaded", "api"),
        ("config_reloaded", "file-deployer"),
    ]


def test_budget_retry_after_is_the_period_end(mock: Mock) -> None:
    budget = {"scope": "user", "period": "day", "limit_usd": "0.03"}
    gw = switchpoint.Gateway(config=policy_config(mock.url, budgets=[budget]))
    gw.chat.completions.create(model="priced", messages=user("one two three"), user="carol", max_tokens=20)
    with pytest.raises(switchpoint.BudgetExceededError) as e:
        gw.chat.completions.create(model="priced", messages=user("one two three"), user="carol", max_tokens=20)
    now = time.time()
    midnight = (int(now) // 86_400 + 1) * 86_400  # the next 00:00 UTC
    assert e.value.retry_after == pytest.approx(midnight - now, abs=5)
