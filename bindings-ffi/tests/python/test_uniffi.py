"""The uniffi-generated Python bindings against the mock provider: chat, streams, errors,
metrics, usage queries, record listeners, virtual keys, audit, reload, limits, budgets and guardrail hooks.

usage: MOCK_URL=http://127.0.0.1:PORT python3 test_uniffi.py GENERATED_DIR
GENERATED_DIR holds switchpoint.py (from uniffi-bindgen) and libswitchpoint.so. Standard
library only; prints one line per failure and ends with "N passed, N failed".
"""

import asyncio
import json
import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, sys.argv[1])
import switchpoint as sp  # noqa: E402  (generated module)

MOCK = os.environ["MOCK_URL"]
passed = failed = 0
# Every stream started, so the test can wait until the library released each listener
# before the interpreter shuts down (see StreamHandle.is_finished).
handles = []


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def mock(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(MOCK + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
    return json.loads(text) if text else None


def reset(faults=None):
    mock("DELETE", "/_mock/log")
    mock("DELETE", "/_mock/script")
    if faults:
        mock("POST", "/_mock/script", faults)


def last_log_entry_closed_early():
    for _ in range(100):
        entry = mock("GET", "/_mock/log")[-1]
        if entry["client_closed_early"]:
            return True
        if entry["completed"]:
            return False
        time.sleep(0.02)
    return False


CONFIG = json.dumps(
    {
        "providers": {
            "oai": {"kind": "openai", "base_url": MOCK + "/v1", "api_key": "sk-test"},
            "native": {
                "kind": "openai",
                "base_url": MOCK + "/v1",
                "api_key": "sk-test",
                "responses": "native",
            },
            "claude": {"kind": "anthropic", "base_url": MOCK, "api_key": "sk-ant"},
            "bad": {"kind": "openai", "base_url": MOCK + "/v1", "api_key": "bad-key"},
        },
        "models": {
            "gpt": {"provider": "oai", "model": "gpt-4o-mini"},
            "gpt-native": {"provider": "native", "model": "gpt-4o"},
            "sonnet": {"provider": "claude", "model": "claude-sonnet-4-5"},
            "embed": {"provider": "oai", "model": "text-embedding-3-small"},
            "locked": {"provider": "bad", "model": "gpt-4o-mini"},
        },
    }
)


def start(gw, req, listener):
    handle = gw.chat_stream(req, None, listener)
    handles.append(handle)
    return handle


def request(model, text, **extra):
    return json.dumps(
        {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    )


class Collector(sp.ChunkListener):
    """Collects a stream; `stop_after` chunks makes on_chunk return False."""

    def __init__(self, stop_after=None):
        self.chunks, self.facts, self.error = [], None, None
        self.stop_after = stop_after
        self.ended = threading.Event()
        self.first = threading.Event()

    def on_chunk(self, chunk_json):
        self.chunks.append(json.loads(chunk_json))
        self.first.set()
        return self.stop_after is None or len(self.chunks) < self.stop_after

    def on_done(self, facts_json):
        self.facts = json.loads(facts_json)
        self.ended.set()

    def on_error(self, error):
        self.error = error
        self.ended.set()

    def text(self):
        return "".join(
            c["choices"][0]["delta"].get("content") or ""
            for c in self.chunks
            if c["choices"]
        )


def test_chat(gw):
    reset()
    resp = json.loads(
        asyncio.run(gw.chat(request("sonnet", "hello uniffi"), '{"user": "u1"}'))
    )
    check(
        resp["choices"][0]["message"]["content"] == "hello uniffi",
        f"chat content {resp}",
    )
    check(resp["object"] == "chat.completion", "chat object")
    check(
        resp["switchpoint"]["provider"] == "claude", f"facts {resp.get('switchpoint')}"
    )
    check(mock("GET", "/_mock/log")[-1]["path"] == "/v1/messages", "anthropic path")

    async def many():
        return await asyncio.gather(
            *(gw.chat(request("gpt", f"n{i}"), None) for i in range(10))
        )

    answers = [
        json.loads(a)["choices"][0]["message"]["content"] for a in asyncio.run(many())
    ]
    check(answers == [f"n{i}" for i in range(10)], f"concurrent chats {answers}")

    emb = json.loads(
        asyncio.run(
            gw.embed(
                json.dumps({"model": "embed", "input": ["a", "b"], "dimensions": 3}),
                None,
            )
        )
    )
    check(
        len(emb["data"]) == 2 and len(emb["data"][0]["embedding"]) == 3, f"embed {emb}"
    )


def test_stream(gw):
    reset()
    c = Collector()
    handle = start(
        gw,
        request(
            "gpt",
            "one two three four",
            stream=True,
            stream_options={"include_usage": True},
        ),
        c,
    )
    check(c.ended.wait(10), "stream ended")
    check(c.error is None, f"stream error {c.error!r}")
    check(c.text() == "one two three four", f"stream text {c.text()!r}")
    check(
        c.chunks[0]["choices"][0]["delta"].get("role") == "assistant",
        "first chunk role",
    )
    check(c.chunks[-1]["usage"]["total_tokens"] == 8, f"usage chunk {c.chunks[-1]}")
    check(
        c.facts["provider"] == "oai" and c.facts["attempts"][0]["status"] == "ok",
        f"facts {c.facts}",
    )
    for _ in range(100):
        if handle.is_finished():
            break
        time.sleep(0.01)
    check(handle.is_finished(), "handle reports the stream finished")


def test_stream_cancel(gw):
    long_text = " ".join(f"w{i}" for i in range(30))
    # Cancelled through the handle.
    reset([{"chunk_delay_ms": 100}])
    c = Collector()
    handle = start(gw, request("gpt", long_text, stream=True), c)
    check(c.first.wait(10), "first chunk before cancel")
    handle.cancel()
    check(c.ended.wait(10), "cancelled stream ends")
    check(
        isinstance(c.error, sp.SwitchpointError.Cancelled), f"cancel error {c.error!r}"
    )
    check(len(c.chunks) < 30, f"{len(c.chunks)} chunks after cancel")
    check(last_log_entry_closed_early(), "cancel closed the upstream connection")
    handle.cancel()  # a second cancel is harmless
    # Stopped by the listener's return value.
    reset([{"chunk_delay_ms": 100}])
    c = Collector(stop_after=2)
    start(gw, request("gpt", long_text, stream=True), c)
    check(c.ended.wait(10), "stopped stream ends")
    check(len(c.chunks) == 2, f"{len(c.chunks)} chunks after stop at 2")
    check(isinstance(c.error, sp.SwitchpointError.Cancelled), f"stop error {c.error!r}")
    check(last_log_entry_closed_early(), "stop closed the upstream connection")


def test_errors(gw):
    reset([{"status": 429, "retry_after": 2}])
    try:
        asyncio.run(gw.chat(request("gpt", "x"), None))
        check(False, "429 raised nothing")
    except sp.SwitchpointError.RateLimited as e:
        check(
            e.status == 429 and e.provider == "oai" and abs(e.retry_after - 2.0) < 1e-3,
            f"429 detail {e!r}",
        )
    try:
        asyncio.run(gw.chat('{"model": "gpt", "messages": [{"role": "robot"}]}', None))
        check(False, "bad request raised nothing")
    except sp.SwitchpointError.BadRequest as e:
        check(e.param == "messages[0].role", f"bad request param {e!r}")
    try:
        gw.chat_stream("{not json", None, Collector())
        check(False, "bad stream request raised nothing")
    except sp.SwitchpointError.BadRequest:
        check(True, "")
    try:
        asyncio.run(gw.chat(request("no-such-model", "x"), None))
        check(False, "unknown model raised nothing")
    except sp.SwitchpointError.NotFound as e:
        check(e.param == "model", f"unknown model {e!r}")
    try:
        sp.Gateway.from_text('{"providers": {"p": {"kind": "nope"}}}')
        check(False, "bad config raised nothing")
    except sp.SwitchpointError.Config as e:
        check("kind" in e.message, f"config error {e!r}")
    # An error before the first chunk reaches the listener.
    reset()
    c = Collector()
    start(gw, request("locked", "x", stream=True), c)
    check(c.ended.wait(10), "failed stream ends")
    check(
        isinstance(c.error, sp.SwitchpointError.Auth) and c.error.status == 401,
        f"stream auth error {c.error!r}",
    )
    # A stream cut mid-way ends in a typed error after its chunks.
    reset([{"cut_after": 2}])
    c = Collector()
    start(gw, request("gpt", "a b c d e", stream=True), c)
    check(c.ended.wait(10), "cut stream ends")
    check(
        isinstance(c.error, sp.SwitchpointError.Connection) and len(c.chunks) >= 2,
        f"cut stream {c.error!r} after {len(c.chunks)} chunks",
    )


PRICED_CONFIG = json.dumps(
    {
        "providers": {
            "oai": {"kind": "openai", "base_url": MOCK + "/v1", "api_key": "sk-test"}
        },
        "models": {"house": {"provider": "oai", "model": "house-model"}},
        "pricing": {"oai": {"house-model": {"input": "2", "output": "3"}}},
        "cache": {"enabled": True, "ttl": "1h"},
    }
)
U1 = json.dumps({"user": "u1", "team": "a", "tags": ["faq"]})


class Records(sp.RecordListener):
    """Keeps every record it is given, and the threads it was called on."""

    def __init__(self):
        self.records, self.threads = [], set()
        self.lock = threading.Lock()

    def on_record(self, record_json):
        with self.lock:
            self.records.append(json.loads(record_json))
            self.threads.add(threading.get_ident())


class Raises(sp.RecordListener):
    def __init__(self):
        self.calls = 0

    def on_record(self, record_json):
        self.calls += 1
        raise RuntimeError("listener bug")


def sample(text, metric, *labels):
    """The value of the one line of `metric` holding every label, or None."""
    found = [
        line.rsplit(" ", 1)[1]
        for line in text.splitlines()
        if line.startswith(metric + "{") and all(label in line for label in labels)
    ]
    return found[0] if len(found) == 1 else None


def test_telemetry():
    gw = sp.Gateway.from_text(PRICED_CONFIG)
    records = Records()
    sub = gw.on_record(records)
    reset()
    first = json.loads(
        asyncio.run(gw.chat(request("house", "alpha beta gamma delta"), U1))
    )
    check(first["switchpoint"]["cost"] == {"usd": "0.00002"}, f"cost facts {first}")
    again = json.loads(
        asyncio.run(gw.chat(request("house", "alpha beta gamma delta"), U1))
    )
    check(
        again["switchpoint"]["cache"] == "hit"
        and again["switchpoint"]["cost"] == {"usd": "0", "saved_usd": "0.00002"},
        f"hit facts {again['switchpoint']}",
    )
    reset([{"status": 400}])
    try:
        asyncio.run(gw.chat(request("house", "no"), '{"user": "u2"}'))
        check(False, "the 400 raised nothing")
    except sp.SwitchpointError.BadRequest:
        pass
    reset()
    skipped = json.loads(
        asyncio.run(
            gw.chat(
                request("house", "alpha beta gamma delta"),
                json.dumps({"user": "u1", "team": "a", "cache": {"no_read": True}}),
            )
        )
    )
    check(
        skipped["switchpoint"]["cache"] == "bypass", f"no_read {skipped['switchpoint']}"
    )
    check(gw.flush_telemetry(5.0), "flush_telemetry")

    # Records: four, on the telemetry thread, field by field.
    check(len(records.records) == 4, f"{len(records.records)} records for 4 calls")
    check(
        threading.get_ident() not in records.threads,
        "listener ran on the caller thread",
    )
    miss, hit, err, bypass = (records.records + [{}] * 4)[:4]
    check(
        miss.get("id") == first["id"]
        and miss.get("model") == "house"
        and miss.get("provider") == "oai"
        and miss.get("status") == "ok"
        and miss.get("caller") == {"user": "u1", "team": "a"}
        and miss.get("tags") == ["faq"]
        and miss.get("cache") == {"status": "miss"}
        and miss.get("cost", {}).get("total") == "0.00002"
        and miss.get("tokens", {}).get("prompt") == 4,
        f"miss record {miss}",
    )
    check(hit.get("cache") == {"status": "hit", "saved_usd": "0.00002"}, f"hit {hit}")
    check(
        err.get("status") == "error" and err.get("error_kind") == "bad_request",
        f"error record {err}",
    )
    check(bypass.get("cache") == {"status": "bypass"}, f"bypass record {bypass}")

    # Prometheus text with exact values.
    text = gw.metrics_text()
    labels = 'route="house",provider="oai",model="house",user="u1",team="a",tag="faq"'
    want = {
        ("switchpoint_requests_total", labels + ',status="ok",cache="miss"'): "1",
        ("switchpoint_requests_total", labels + ',status="ok",cache="hit"'): "1",
        ("switchpoint_requests_total", 'status="ok",cache="bypass"'): "1",
        ("switchpoint_errors_total", 'user="u2"'): "1",
        ("switchpoint_tokens_total", labels + ',type="prompt"'): "4",
        ("switchpoint_tokens_total", 'tag="",type="prompt"'): "4",
        ("switchpoint_cost_usd_total", labels): "0.00002",
        ("switchpoint_cache_saved_usd_total", labels): "0.00002",
        ("switchpoint_request_duration_seconds_count", 'status="ok"'): "3",
    }
    for (metric, label), value in want.items():
        got = sample(text, metric, label)
        check(got == value, f"{metric}{{{label}}} = {got}, want {value}")
    check("\nswitchpoint_telemetry_dropped_total 0\n" in text, "dropped counter")

    # Usage rows, typed.
    rows = gw.usage(0, None)
    check(
        rows
        == [
            sp.UsageRow(
                group=None,
                requests=4,
                errors=1,
                cache_hits=1,
                prompt_tokens=8,
                completion_tokens=8,
                cached_tokens=0,
                reasoning_tokens=0,
                cost_usd="0.00004",
                saved_usd="0.00002",
            )
        ],
        f"usage total {rows}",
    )
    by_user = gw.usage(time.time() - 3600, "user")
    check(
        [(r.group, r.requests, r.errors) for r in by_user]
        == [("u1", 3, 0), ("u2", 1, 1)],
        f"usage by user {by_user}",
    )
    check(gw.usage(4102444800, "team") == [], "usage in the future")
    try:
        gw.usage(0, "users")
        check(False, "a bad group_by raised nothing")
    except sp.SwitchpointError.BadRequest as e:
        check(
            e.param == "group_by" and "allowed: total, user, team" in e.message,
            f"bad group_by {e!r}",
        )

    # After remove() nothing arrives; remove() again is harmless.
    sub.remove()
    sub.remove()
    asyncio.run(gw.chat(request("house", "after removal"), None))
    check(gw.flush_telemetry(5.0), "flush after removal")
    check(len(records.records) == 4, f"{len(records.records)} records after removal")

    # A listener that raises is counted and never reaches the request. (The library reports
    # it as a caught panic; its one-line message on stderr is expected, without a backtrace.)
    os.environ["RUST_BACKTRACE"] = "0"
    boom = Raises()
    boom_sub = gw.on_record(boom)
    answer = json.loads(asyncio.run(gw.chat(request("house", "still fine"), None)))
    check(
        answer["choices"][0]["message"]["content"] == "still fine", "request unharmed"
    )
    check(gw.flush_telemetry(5.0), "flush with a raising listener")
    check(boom.calls == 1, f"raising listener called {boom.calls} times")
    check(
        "\nswitchpoint_telemetry_observer_panics_total 1\n" in gw.metrics_text(),
        "the listener's exception is counted",
    )
    boom_sub.remove()


def test_responses(gw):
    reset()
    resp = json.loads(
        asyncio.run(
            gw.responses(
                json.dumps({"model": "sonnet", "input": "hello responses"}), None
            )
        )
    )
    check(resp["object"] == "response", f"responses object {resp}")
    text = resp["output"][0]["content"][0]["text"]
    check(text == "hello responses", f"responses text {text!r}")
    check(mock("GET", "/_mock/log")[-1]["path"] == "/v1/messages", "translated path")
    reset()
    c = Collector()
    req = json.dumps({"model": "gpt-native", "input": "one two three", "stream": True})
    handles.append(gw.responses_stream(req, None, c))
    check(c.ended.wait(10), "responses stream ended")
    check(c.error is None, f"responses stream error {c.error!r}")
    types = [e["type"] for e in c.chunks]
    check(
        types[0] == "response.created" and types[-1] == "response.completed",
        f"event types {types}",
    )
    deltas = "".join(
        e["delta"] for e in c.chunks if e["type"] == "response.output_text.delta"
    )
    check(deltas == "one two three", f"deltas {deltas!r}")
    check(mock("GET", "/_mock/log")[-1]["path"] == "/v1/responses", "native path")
    check(c.facts["provider"] == "native", f"responses facts {c.facts}")


def policy_config(model="model-a", provider_key="sk-provider-1", **extra):
    return json.dumps(
        {
            "providers": {
                "oai": {
                    "kind": "openai",
                    "base_url": MOCK + "/v1",
                    "api_key": provider_key,
                }
            },
            "models": {
                "gpt": {"provider": "oai", "model": model},
                "other": {"provider": "oai", "model": "other-model"},
            },
            "pricing": {"oai": {model: {"input": "1000", "output": "1000"}}},
            **extra,
        }
    )


def raises(fn, cls):
    """The error `fn()` raised if it is a `cls`, else None (and a failed check)."""
    try:
        fn()
    except cls as e:
        return e
    except Exception as e:  # noqa: BLE001
        check(False, f"expected {cls.__name__}, got {e!r}")
        return None
    check(False, f"expected {cls.__name__}, nothing raised")
    return None


def test_policy():
    gw = sp.Gateway.from_text(policy_config(virtual_keys={"required": True}))
    own = "sk-uniffi-own-key-0123456789"
    created = json.loads(
        asyncio.run(
            gw.create_key(
                json.dumps({"key": own, "user": "alice", "models": ["gpt"]}), "ops"
            )
        )
    )
    check(
        created["key"] == own and created["created_by"] == "ops", f"created {created}"
    )
    check(
        created["id"].startswith("key-") and created["source"] == "api", f"id {created}"
    )
    generated = json.loads(asyncio.run(gw.create_key()))
    check(
        generated["key"].startswith("sk-sp-") and generated["created_by"] == "api",
        f"generated {generated}",
    )
    listed = asyncio.run(gw.list_keys())
    check(
        own not in listed
        and generated["key"] not in listed
        and len(json.loads(listed)) == 2,
        f"list {listed}",
    )
    check(json.loads(asyncio.run(gw.get_key(created["id"])))["user"] == "alice", "get")
    e = raises(
        lambda: asyncio.run(gw.get_key("key-0000000000000000")),
        sp.SwitchpointError.NotFound,
    )
    check(e is None or e.param == "id", f"get unknown {e!r}")

    def chat(key, model="gpt"):
        return asyncio.run(gw.chat(request(model, "hi"), json.dumps({"api_key": key})))

    check(json.loads(chat(own))["object"] == "chat.completion", "chat with a key")
    e = raises(
        lambda: asyncio.run(gw.chat(request("gpt", "hi"), None)),
        sp.SwitchpointError.Auth,
    )
    check(e is None or e.code == "missing_api_key", f"no key {e!r}")
    updated = json.loads(
        asyncio.run(gw.update_key(created["id"], '{"models": ["other"]}', "bob"))
    )
    check(
        updated["models"] == ["other"] and updated["revision"] == 2,
        f"updated {updated}",
    )
    e = raises(lambda: chat(own), sp.SwitchpointError.PolicyDenied)
    check(e is None or e.code == "model_not_allowed", f"model not allowed {e!r}")
    revoked = json.loads(asyncio.run(gw.revoke_key(created["id"], "carol")))
    check(revoked["revoked"] is True, f"revoked {revoked}")
    e = raises(lambda: chat(own, "other"), sp.SwitchpointError.Auth)
    check(e is None or e.code == "key_revoked", f"revoked key {e!r}")
    e = raises(
        lambda: asyncio.run(gw.create_key('{"key": "short"}')),
        sp.SwitchpointError.BadRequest,
    )
    check(e is None or e.param == "key", f"short key {e!r}")
    audit = json.loads(asyncio.run(gw.audit()))
    check(
        [(r["actor"], r["action"]) for r in audit]
        == [
            ("ops", "key_created"),
            ("api", "key_created"),
            ("bob", "key_updated"),
            ("carol", "key_revoked"),
        ],
        f"audit {audit}",
    )
    check(
        json.loads(asyncio.run(gw.audit(time.time() + 60))) == [], "audit since later"
    )

    # Reload: the new model and provider key serve the next call; a bad config is refused.
    gw = sp.Gateway.from_text(policy_config(limits=[{"scope": "user", "rpm": 2}]))
    ctx = '{"user": "alice"}'
    asyncio.run(gw.chat(request("gpt", "a"), ctx))
    asyncio.run(gw.chat(request("gpt", "b"), ctx))
    e = raises(
        lambda: asyncio.run(gw.chat(request("gpt", "c"), ctx)),
        sp.SwitchpointError.RateLimitExceeded,
    )
    check(
        e is None or (e.code == "rpm" and e.status == 429 and 0 < e.retry_after <= 60),
        f"rate limit {e!r}",
    )
    gw.reload(policy_config("model-b", "sk-rotated-2"), "deployer")
    reset()
    resp = json.loads(asyncio.run(gw.chat(request("gpt", "d"), '{"user": "bob"}')))
    check(resp["switchpoint"]["provider_model"] == "model-b", f"reloaded {resp}")
    entry = mock("GET", "/_mock/log")[-1]
    check(
        entry["headers"]["authorization"] == "Bearer sk-rotated-2",
        f"rotated key {entry}",
    )
    raises(
        lambda: gw.reload('{"providers": {"p": {"kind": "nope"}}}'),
        sp.SwitchpointError.Config,
    )
    for _ in range(50):
        audit = json.loads(asyncio.run(gw.audit()))
        if audit:
            break
        time.sleep(0.02)
    check(
        [(r["actor"], r["action"]) for r in audit] == [("deployer", "config_reloaded")],
        f"reload audited {audit}",
    )

    # A budget refusal.
    gw = sp.Gateway.from_text(
        policy_config(budgets=[{"scope": "user", "period": "day", "limit_usd": 0.001}])
    )
    e = raises(
        lambda: asyncio.run(gw.chat(request("gpt", "hi"), ctx)),
        sp.SwitchpointError.BudgetExceeded,
    )
    check(e is None or (e.code == "budget_day" and e.retry_after > 0), f"budget {e!r}")


class Guard(sp.GuardrailHook):
    """Denies "launch codes", rewrites "Falcon" (input) and "secret" answers (output),
    raises on "crash"; records the events it saw."""

    def __init__(self):
        self.events = []

    def check(self, event_json):
        event = json.loads(event_json)
        self.events.append(event)
        text = json.dumps(event.get("messages")) + (event.get("content") or "")
        if "crash" in text:
            raise RuntimeError("moderation down")
        if event["stage"] == "input" and "launch codes" in text:
            return json.dumps({"action": "deny", "reason": "no launch codes"})
        if event["stage"] == "input" and "Falcon" in text:
            messages = [{"role": "user", "content": "about the project"}]
            return json.dumps({"action": "rewrite", "messages": messages})
        if event["stage"] == "output" and "secret" in text:
            return json.dumps({"action": "rewrite", "content": "[withheld]"})
        return None


def test_guardrails():
    gw = sp.Gateway.from_text(policy_config())
    guard = Guard()
    hook_id = gw.add_guardrail(guard)

    def ask(text):
        resp = json.loads(asyncio.run(gw.chat(request("gpt", text), '{"user": "ana"}')))
        return resp["choices"][0]["message"]["content"]

    check(ask("hello") == "hello", "allowed")
    check(
        [(e["stage"], e["model"], e["user"]) for e in guard.events]
        == [("input", "gpt", "ana"), ("output", "gpt", "ana")],
        f"events {guard.events}",
    )
    e = raises(lambda: ask("the launch codes"), sp.SwitchpointError.PolicyDenied)
    check(
        e is None or (e.code == "guardrail_hook" and "no launch codes" in e.message),
        f"deny {e!r}",
    )
    reset()
    check(ask("Falcon news") == "about the project", "input rewrite")
    body = mock("GET", "/_mock/log")[-1]["body"]
    check(body["messages"][-1]["content"] == "about the project", f"upstream {body}")
    check(ask("a secret") == "[withheld]", "output rewrite")
    e = raises(lambda: ask("crash now"), sp.SwitchpointError.Internal)
    check(
        e is None
        or (e.code == "guardrail_hook_failed" and "moderation down" in e.message),
        f"raising hook {e!r}",
    )
    check(ask("still alive") == "still alive", "after a raising hook")
    check(gw.remove_guardrail(hook_id) is True, "remove")
    check(gw.remove_guardrail(hook_id) is False, "remove twice")
    seen = len(guard.events)
    check(ask("launch codes crash") == "launch codes crash", "removed hook")
    check(len(guard.events) == seen, "a removed hook was called")


def main():
    gw = sp.Gateway.from_text(CONFIG)
    test_chat(gw)
    test_stream(gw)
    test_stream_cancel(gw)
    test_responses(gw)
    test_errors(gw)
    test_telemetry()
    test_policy()
    test_guardrails()
    deadline = time.monotonic() + 10
    while not all(h.is_finished() for h in handles) and time.monotonic() < deadline:
        time.sleep(0.01)
    check(all(h.is_finished() for h in handles), "every stream released its listener")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Leave without interpreter finalization: a native thread (the runtime's or the telemetry
    # worker) that calls into Python while the interpreter shuts down is cancelled by CPython,
    # and the forced unwind through Rust aborts the process ("exception not rethrown"). The
    # PyO3 binding guards this with an atexit hook; the uniffi bindings do not yet.
    os._exit(code)
