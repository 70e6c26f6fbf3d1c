"""Plays every shared scenario (tests/scenarios) through Gateway and AsyncGateway.

Same rules as the Rust runner (core/tests/scenarios.rs): the log and script queue are cleared
before each step, faults are pushed to the script queue, and expected values match by the
subset rules of tests/scenarios/README.md. Requests go through the public surface
(`gw.chat.completions.create(**request, **context)`, cache controls included as the `cache=`
keyword; `gw.responses.create(...)` for Responses steps; usage queries as
`gw.usage(since=..., group_by=...)`), so the Python argument handling is what is tested, not a
private shortcut.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
import switchpoint

from .conftest import ROOT, Mock

SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.json"))


def matches(expected: Any, actual: Any, path: str, present: bool = True) -> Optional[str]:
    """None when `expected` matches `actual`, else the path of the first mismatch."""
    if expected == "<any>":
        return None if present and actual is not None else f"{path}: expected a value, got nothing"
    if expected is None:
        return None if (not present or actual is None) else f"{path}: expected null, got {actual!r}"
    if not present:
        return f"{path}: expected {expected!r}, got nothing"
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k, v in expected.items():
            err = matches(v, actual.get(k), f"{path}.{k}", k in actual)
            if err:
                return err
        return None
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual)):
            err = matches(e, a, f"{path}[{i}]")
            if err:
                return err
        return None
    if (
        isinstance(expected, (int, float))
        and isinstance(actual, (int, float))
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        return None if abs(expected - actual) <= 0.001 else f"{path}: expected {expected}, got {actual}"
    return None if expected == actual else f"{path}: expected {expected!r}, got {actual!r}"


def test_matching_rules() -> None:
    v = {"a": 2.0, "b": [1, {"c": "x", "d": 1}], "e": None}
    assert matches({"a": 2, "b": [1, {"c": "x"}]}, v, "") is None
    assert matches({"b": [1]}, v, "") is not None
    assert matches({"z": None, "e": None, "a": "<any>"}, v, "") is None
    assert matches({"e": "<any>"}, v, "") is not None


class Assembler:
    """Folds chunks into one response, as tests/scenarios/README.md describes."""

    def __init__(self) -> None:
        self.first: Optional[Dict[str, Any]] = None
        self.choices: Dict[int, Dict[str, Any]] = {}
        self.usage: Optional[Dict[str, Any]] = None

    def push(self, chunk: switchpoint.ChatCompletionChunk) -> None:
        c = chunk.to_dict()
        if self.first is None:
            self.first = c
        if c.get("usage") is not None:
            self.usage = c["usage"]
        for ch in c.get("choices", []):
            slot = self.choices.setdefault(
                ch["index"],
                {"index": ch["index"], "message": {"role": "assistant", "content": None}, "finish_reason": None},
            )
            delta, msg = ch.get("delta") or {}, slot["message"]
            for key in ("content", "refusal"):
                if delta.get(key) is not None:
                    msg[key] = (msg.get(key) or "") + delta[key]
            for tc in delta.get("tool_calls") or []:
                calls = msg.setdefault("tool_calls", [])
                same = [c for c in calls if c["_index"] == tc["index"]]
                if same:
                    call = same[0]
                else:
                    call = {"_index": tc["index"], "type": "function", "function": {"arguments": ""}}
                    calls.append(call)
                if tc.get("id"):
                    call.setdefault("id", tc["id"])
                fn = tc.get("function") or {}
                if fn.get("name"):
                    call["function"].setdefault("name", fn["name"])
                call["function"]["arguments"] += fn.get("arguments") or ""
            if ch.get("finish_reason") is not None:
                slot["finish_reason"] = ch["finish_reason"]

    def finish(self) -> Dict[str, Any]:
        first = self.first or {}
        choices = []
        for i in sorted(self.choices):
            slot = self.choices[i]
            for call in slot["message"].get("tool_calls", []):
                del call["_index"]
            choices.append(slot)
        out: Dict[str, Any] = {
            "id": first.get("id"),
            "object": "chat.completion",
            "created": first.get("created"),
            "model": first.get("model"),
            "choices": choices,
        }
        if self.usage is not None:
            out["usage"] = self.usage
        return out


#: The response (a usage query's rows for `usage`), the error, the chunks (or Responses
#: events) received, and the Responses events' types in order.
Outcome = Tuple[Optional[Any], Optional[switchpoint.SwitchpointError], int, List[str]]


class EventFolder:
    """What a Responses stream step is matched on (tests/scenarios/README.md): the final
    event's Response with ``output_text`` from the text deltas, and the event types."""

    def __init__(self) -> None:
        self.types: List[str] = []
        self.text = ""
        self.final: Optional[Dict[str, Any]] = None

    def push(self, event: switchpoint.ResponseStreamEvent) -> None:
        self.types.append(event.type)
        if event.type == "response.output_text.delta":
            self.text += event.delta or ""
        if event.type in ("response.completed", "response.incomplete", "response.failed"):
            assert event.response is not None
            self.final = event.response.to_dict()

    def outcome(self) -> Outcome:
        assert self.final is not None, f"no final Response among {self.types}"
        return {**self.final, "output_text": self.text}, None, len(self.types), self.types


def _whole(r: switchpoint.Response) -> Outcome:
    """A non-streamed Response as its wire JSON plus the SDK's ``output_text``."""
    return {**r.to_dict(), "output_text": r.output_text}, None, 0, []


def _error_json(e: switchpoint.SwitchpointError) -> Dict[str, Any]:
    out: Dict[str, Any] = {"kind": e.kind, "message": e.message}
    for key, value in (
        ("status", e.status_code),
        ("provider", e.provider),
        ("retry_after", e.retry_after),
        ("param", e.param),
        ("code", e.code),
    ):
        if value is not None:
            out[key] = value
    return out


def run_usage(gw: "switchpoint.Gateway | switchpoint.AsyncGateway", step: Dict[str, Any]) -> Outcome:
    """A usage query: the rows as their wire JSON (money as decimal text)."""
    query = step["request"]
    try:
        rows = gw.usage(since=query.get("since", 0), group_by=query.get("group_by", "total"))
    except switchpoint.SwitchpointError as e:
        return None, e, 0, []
    return [r.to_dict() for r in rows], None, 0, []


#: The admin calls of tests/scenarios/README.md ("Policy steps").
ADMIN_CALLS = frozenset({"create_key", "update_key", "revoke_key", "get_key", "list_keys", "audit", "reload"})


def _admin_args(step: Dict[str, Any]) -> Tuple[Dict[str, Any], str]:
    return step.get("request") or {}, step.get("actor", "scenario")


def run_admin_sync(gw: switchpoint.Gateway, step: Dict[str, Any]) -> Outcome:
    """A policy step through ``gw.keys``, ``gw.audit`` and ``gw.reload``."""
    req, actor = _admin_args(step)
    call = step["call"]
    try:
        if call == "create_key":
            return gw.keys.create(req, actor=actor), None, 0, []  # type: ignore[arg-type]
        if call == "update_key":
            return gw.keys.update(req["id"], req["patch"], actor=actor), None, 0, []
        if call == "revoke_key":
            return gw.keys.revoke(req["id"], actor=actor), None, 0, []
        if call == "get_key":
            return gw.keys.get(req["id"]), None, 0, []
        if call == "list_keys":
            return gw.keys.list(), None, 0, []
        if call == "audit":
            return gw.audit(since=req.get("since", 0)), None, 0, []
        assert call == "reload", call
        return gw.reload(req, actor=actor), None, 0, []  # type: ignore[func-returns-value]
    except switchpoint.SwitchpointError as e:
        return None, e, 0, []


async def run_admin_async(gw: switchpoint.AsyncGateway, step: Dict[str, Any]) -> Outcome:
    """A policy step through the AsyncGateway's ``keys``, ``audit`` and ``reload``."""
    req, actor = _admin_args(step)
    call = step["call"]
    try:
        if call == "create_key":
            return await gw.keys.create(req, actor=actor), None, 0, []  # type: ignore[arg-type]
        if call == "update_key":
            return await gw.keys.update(req["id"], req["patch"], actor=actor), None, 0, []
        if call == "revoke_key":
            return await gw.keys.revoke(req["id"], actor=actor), None, 0, []
        if call == "get_key":
            return await gw.keys.get(req["id"]), None, 0, []
        if call == "list_keys":
            return await gw.keys.list(), None, 0, []
        if call == "audit":
            return await gw.audit(since=req.get("since", 0)), None, 0, []
        assert call == "reload", call
        return await gw.reload(req, actor=actor), None, 0, []  # type: ignore[func-returns-value]
    except switchpoint.SwitchpointError as e:
        return None, e, 0, []


def run_responses_sync(gw: switchpoint.Gateway, kwargs: Dict[str, Any]) -> Outcome:
    if not kwargs.get("stream"):
        try:
            return _whole(gw.responses.create(**kwargs))
        except switchpoint.SwitchpointError as e:
            return None, e, 0, []
    folder = EventFolder()
    try:
        with gw.responses.create(**kwargs) as stream:
            for event in stream:
                folder.push(event)
    except switchpoint.SwitchpointError as e:
        return None, e, len(folder.types), folder.types
    return folder.outcome()


def run_sync(gw: switchpoint.Gateway, step: Dict[str, Any]) -> Outcome:
    kwargs = {**(step.get("request") or {}), **step.get("context", {})}
    call = step["call"]
    if call == "usage":
        return run_usage(gw, step)
    if call in ADMIN_CALLS:
        return run_admin_sync(gw, step)
    if call == "responses":
        return run_responses_sync(gw, kwargs)
    try:
        if call == "chat":
            return gw.chat.completions.create(**kwargs).to_dict(), None, 0, []
        if call == "embed":
            return gw.embeddings.create(**kwargs).to_dict(), None, 0, []
        assert call == "chat_stream", call
        kwargs["stream"] = True
        stream = gw.chat.completions.create(**kwargs)
    except switchpoint.SwitchpointError as e:
        return None, e, 0, []
    acc, count = Assembler(), 0
    try:
        for chunk in stream:
            count += 1
            acc.push(chunk)
    except switchpoint.SwitchpointError as e:
        return None, e, count, []
    resp = acc.finish()
    facts = stream.switchpoint
    assert facts is not None
    resp["switchpoint"] = facts.to_dict()
    return resp, None, count, []


async def run_responses_async(gw: switchpoint.AsyncGateway, kwargs: Dict[str, Any]) -> Outcome:
    if not kwargs.get("stream"):
        try:
            return _whole(await gw.responses.create(**kwargs))
        except switchpoint.SwitchpointError as e:
            return None, e, 0, []
    folder = EventFolder()
    try:
        async with await gw.responses.create(**kwargs) as stream:
            async for event in stream:
                folder.push(event)
    except switchpoint.SwitchpointError as e:
        return None, e, len(folder.types), folder.types
    return folder.outcome()


async def run_async(gw: switchpoint.AsyncGateway, step: Dict[str, Any]) -> Outcome:
    kwargs = {**(step.get("request") or {}), **step.get("context", {})}
    call = step["call"]
    if call == "usage":
        return run_usage(gw, step)
    if call in ADMIN_CALLS:
        return await run_admin_async(gw, step)
    if call == "responses":
        return await run_responses_async(gw, kwargs)
    try:
        if call == "chat":
            return (await gw.chat.completions.create(**kwargs)).to_dict(), None, 0, []
        if call == "embed":
            return (await gw.embeddings.create(**kwargs)).to_dict(), None, 0, []
        kwargs["stream"] = True
        stream = await gw.chat.completions.create(**kwargs)
    except switchpoint.SwitchpointError as e:
        return None, e, 0, []
    acc, count = Assembler(), 0
    try:
        async with stream:
            async for chunk in stream:
                count += 1
                acc.push(chunk)
    except switchpoint.SwitchpointError as e:
        return None, e, count, []
    resp = acc.finish()
    facts = stream.switchpoint
    assert facts is not None
    resp["switchpoint"] = facts.to_dict()
    return resp, None, count, []


def check(label: str, step: Dict[str, Any], outcome: Outcome, mock: Mock) -> None:
    resp, err, chunks, events = outcome
    expect = step["expect"]
    if "response" in expect:
        assert err is None, f"{label}: expected a response, got error {err!r}"
        problem = matches(expect["response"], resp, "response")
        assert problem is None, f"{label}: {problem}"
    else:
        assert err is not None, f"{label}: expected an error, got {json.dumps(resp)[:300]}"
        problem = matches(expect["error"], _error_json(err), "error")
        assert problem is None, f"{label}: {problem} (error was {err!r})"
        # Every error is the class of its kind, and the kind's class is a SwitchpointError.
        assert isinstance(err, switchpoint.SwitchpointError)
        assert err.cause is not None and err.cause["kind"] == err.kind
    minimum = (expect.get("chunks") or {}).get("min")
    if minimum is not None:
        assert chunks >= minimum, f"{label}: expected at least {minimum} chunks, got {chunks}"
    if "events" in expect:
        rest = iter(events)
        for want in expect["events"]:
            assert any(t == want for t in rest), f"{label}: expected event {want} (in order) among {events}"
    if "upstream" in expect:
        # `"upstream": null` asserts that no provider was called (null matches absent).
        log = mock.log()
        problem = matches(expect["upstream"], log[-1] if log else None, "upstream")
        assert problem is None, f"{label}: {problem}"


def load(path: Path, mock: Mock) -> Dict[str, Any]:
    return json.loads(path.read_text().replace("${MOCK_URL}", mock.url))  # type: ignore[no-any-return]


def test_scenarios_exist() -> None:
    assert len(SCENARIOS) >= 10
    # Issue 7's scenarios: cache hits, cost per provider, usage queries.
    names = {p.stem for p in SCENARIOS}
    assert {"cache_hits", "cost_providers", "usage_queries"} <= names
    # Issue 9's Responses API scenario.
    assert "responses" in names
    # Issue 8's policy scenarios.
    assert {"policy_keys", "policy_limits", "policy_budgets", "policy_guardrails"} <= names


def _texts(event: Dict[str, Any]) -> List[str]:
    """The texts a guardrail event carries: every message's text (input) or the content."""
    if event["stage"] == "output":
        return [event.get("content") or ""]
    out: List[str] = []
    for m in event.get("messages") or []:
        content = m.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out.extend(p.get("text") or "" for p in content if isinstance(p, dict))
    return out


def _replaced(messages: List[Dict[str, Any]], old: str, new: str) -> Optional[List[Dict[str, Any]]]:
    """The messages with `old` replaced in every text content; None when none holds it."""
    changed, out = False, []
    for m in messages:
        m = dict(m)
        content = m.get("content")
        if isinstance(content, str) and old in content:
            m["content"], changed = content.replace(old, new), True
        elif isinstance(content, list):
            parts = []
            for p in content:
                if isinstance(p, dict) and isinstance(p.get("text"), str) and old in p["text"]:
                    p, changed = {**p, "text": p["text"].replace(old, new)}, True
                parts.append(p)
            m["content"] = parts
        out.append(m)
    return out if changed else None


def scenario_hook(spec: Dict[str, Any]) -> Callable[[Dict[str, Any]], Any]:
    """A scenario's `hooks` entry as a Python guardrail callable (tests/scenarios/README.md;
    the Rust runner's `scenario_hook_answer` is the reference)."""
    needle, reason = spec.get("deny_if_contains"), spec.get("reason")
    old, new = spec.get("replace") or (None, None)

    def hook(event: Dict[str, Any]) -> Any:
        if needle is not None and any(needle in t for t in _texts(event)):
            return {"action": "deny", "reason": reason}
        if old is not None and event["stage"] == "input":
            messages = _replaced(event.get("messages") or [], old, new)
            if messages is not None:
                return {"action": "rewrite", "messages": messages}
        elif old is not None and old in (event.get("content") or ""):
            return {"action": "rewrite", "content": event["content"].replace(old, new)}
        return None

    return hook


def add_hooks(gw: "switchpoint.Gateway | switchpoint.AsyncGateway", scenario: Dict[str, Any]) -> None:
    for spec in scenario.get("hooks") or []:
        gw.add_guardrail(scenario_hook(spec))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_blocking(path: Path, mock: Mock) -> None:
    scenario = load(path, mock)
    gw = switchpoint.Gateway(config=scenario["config"])
    add_hooks(gw, scenario)
    for i, step in enumerate(scenario["steps"]):
        mock.reset()
        if step.get("faults"):
            mock.script(step["faults"])
        check(f"step {i} ({step['name']})", step, run_sync(gw, step), mock)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_asyncio(path: Path, mock: Mock) -> None:
    scenario = load(path, mock)

    async def play() -> None:
        gw = switchpoint.AsyncGateway(config=scenario["config"])
        add_hooks(gw, scenario)
        for i, step in enumerate(scenario["steps"]):
            mock.reset()
            if step.get("faults"):
                mock.script(step["faults"])
            check(f"step {i} ({step['name']})", step, await run_async(gw, step), mock)

    asyncio.run(play())
