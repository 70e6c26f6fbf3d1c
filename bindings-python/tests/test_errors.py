"""Every error kind as its own exception class, from the mock's scripted faults; each pickles
(so it crosses multiprocessing) and chains the core's error."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import pickle
from typing import Any, Dict, List, Optional, Type

import pytest
import switchpoint
from switchpoint import _native

from .conftest import Mock, user

#: (kind, class, model, faults, context, expected attributes)
FAULT_CASES: List[Any] = [
    ("auth", switchpoint.AuthenticationError, "locked", [], {}, {"status_code": 401, "provider": "oai_bad"}),
    (
        "permission_denied",
        switchpoint.PermissionDeniedError,
        "gpt",
        [{"error": "permission"}],
        {},
        {"status_code": 403},
    ),
    ("not_found", switchpoint.NotFoundError, "gpt", [{"error": "not_found"}], {}, {"status_code": 404}),
    (
        "rate_limited",
        switchpoint.RateLimitError,
        "sonnet",
        [{"status": 429, "retry_after": 2}],
        {},
        {"status_code": 429, "retry_after": 2.0, "provider": "claude", "code": "rate_limit_error"},
    ),
    ("timeout", switchpoint.APITimeoutError, "gpt", [{"delay_ms": 3000}], {"timeout": 0.2}, {"provider": "oai"}),
    ("connection", switchpoint.APIConnectionError, "gpt", [{"reset": True}], {}, {"provider": "oai"}),
    ("bad_request", switchpoint.BadRequestError, "gpt", [{"error": "bad_request"}], {}, {"status_code": 400}),
    (
        "context_window_exceeded",
        switchpoint.ContextWindowExceededError,
        "gpt",
        [{"error": "context_window"}],
        {},
        {"status_code": 400, "code": "context_length_exceeded"},
    ),
    (
        "content_filtered",
        switchpoint.ContentFilteredError,
        "flash",
        [{"error": "content_filter"}],
        {},
        {"provider": "gem"},
    ),
    ("unavailable", switchpoint.InternalServerError, "sonnet", [{"error": "overloaded"}], {}, {"status_code": 529}),
    ("invalid_response", switchpoint.APIResponseValidationError, "gpt", [{"malformed": True}], {}, {"provider": "oai"}),
]

#: Kinds the gateway raises itself (no provider involved).
GATEWAY_CASES: List[Any] = [
    ("not_found", switchpoint.NotFoundError, {"model": "gtp"}, {"param": "model"}),
    ("bad_request", switchpoint.BadRequestError, {"model": "gpt", "temperature": 3}, {"param": "temperature"}),
]

#: Kinds nothing in the core raises yet (budgets, gateway limits, policies, cancellation from
#: the core, caught panics): their mapping is checked from the core's error JSON.
ALL_CLASSES: Dict[str, Type[switchpoint.SwitchpointError]] = {
    "auth": switchpoint.AuthenticationError,
    "permission_denied": switchpoint.PermissionDeniedError,
    "not_found": switchpoint.NotFoundError,
    "rate_limited": switchpoint.RateLimitError,
    "timeout": switchpoint.APITimeoutError,
    "connection": switchpoint.APIConnectionError,
    "bad_request": switchpoint.BadRequestError,
    "context_window_exceeded": switchpoint.ContextWindowExceededError,
    "content_filtered": switchpoint.ContentFilteredError,
    "unavailable": switchpoint.InternalServerError,
    "invalid_response": switchpoint.APIResponseValidationError,
    "budget_exceeded": switchpoint.BudgetExceededError,
    "rate_limit_exceeded": switchpoint.RateLimitExceededError,
    "policy_denied": switchpoint.PolicyDeniedError,
    "config": switchpoint.ConfigError,
    "cancelled": switchpoint.APIUserAbortError,
    "internal": switchpoint.InternalError,
}


def assert_round_trips(err: switchpoint.SwitchpointError) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    for attr in ("kind", "message", "status_code", "provider", "retry_after", "param", "code", "cause"):
        assert getattr(back, attr) == getattr(err, attr), attr
    assert str(back) == str(err)
    # The chained core error survives too.
    assert isinstance(back.__cause__, switchpoint.CoreError)
    assert str(back.__cause__) == str(err.__cause__)


def check(err: switchpoint.SwitchpointError, kind: str, cls: type, attrs: Dict[str, Any]) -> None:
    assert type(err) is cls, f"{kind}: got {type(err).__name__}"
    assert err.kind == kind
    for k, v in attrs.items():
        assert getattr(err, k) == v, f"{kind}.{k}: {getattr(err, k)!r} != {v!r}"
    assert isinstance(err.__cause__, switchpoint.CoreError)
    assert str(err.__cause__).startswith(f"{kind}: ")
    assert err.cause is not None and err.cause["kind"] == kind
    assert str(err) == err.message
    assert_round_trips(err)


def test_every_kind_has_its_class() -> None:
    assert sorted(_native.ERROR_KINDS) == sorted(ALL_CLASSES)
    for kind, cls in ALL_CLASSES.items():
        payload = json.dumps({"error": {"kind": kind, "message": "m"}, "display": f"{kind}: m"})
        err = switchpoint._exceptions._from_native(payload)
        assert type(err) is cls and err.kind == kind
        assert isinstance(err, switchpoint.SwitchpointError)
        assert_round_trips(err)


def test_openai_hierarchy() -> None:
    assert switchpoint.APIError is switchpoint.SwitchpointError
    assert issubclass(switchpoint.APITimeoutError, switchpoint.APIConnectionError)
    assert issubclass(switchpoint.ContextWindowExceededError, switchpoint.BadRequestError)
    assert issubclass(switchpoint.RateLimitExceededError, switchpoint.RateLimitError)
    for cls in (
        switchpoint.BadRequestError,
        switchpoint.AuthenticationError,
        switchpoint.PermissionDeniedError,
        switchpoint.NotFoundError,
        switchpoint.RateLimitError,
        switchpoint.InternalServerError,
    ):
        assert issubclass(cls, switchpoint.APIStatusError)


@pytest.mark.parametrize("kind,cls,model,faults,ctx,attrs", FAULT_CASES, ids=[c[0] for c in FAULT_CASES])
def test_fault_raises_its_class_blocking(
    gw: switchpoint.Gateway,
    clean: Mock,
    kind: str,
    cls: type,
    model: str,
    faults: List[Any],
    ctx: Dict[str, Any],
    attrs: Dict[str, Any],
) -> None:
    clean.script(faults)
    with pytest.raises(switchpoint.SwitchpointError) as e:
        gw.chat.completions.create(model=model, messages=user("hello"), max_tokens=16, **ctx)
    check(e.value, kind, cls, attrs)


@pytest.mark.parametrize("kind,cls,model,faults,ctx,attrs", FAULT_CASES, ids=[c[0] for c in FAULT_CASES])
def test_fault_raises_its_class_asyncio(
    agw: switchpoint.AsyncGateway,
    clean: Mock,
    kind: str,
    cls: type,
    model: str,
    faults: List[Any],
    ctx: Dict[str, Any],
    attrs: Dict[str, Any],
) -> None:
    clean.script(faults)

    async def call() -> None:
        await agw.chat.completions.create(model=model, messages=user("hello"), max_tokens=16, **ctx)

    with pytest.raises(switchpoint.SwitchpointError) as e:
        asyncio.run(call())
    check(e.value, kind, cls, attrs)


@pytest.mark.parametrize("kind,cls,request_,attrs", GATEWAY_CASES, ids=[c[0] for c in GATEWAY_CASES])
def test_gateway_errors(
    gw: switchpoint.Gateway, kind: str, cls: type, request_: Dict[str, Any], attrs: Dict[str, Any]
) -> None:
    with pytest.raises(switchpoint.SwitchpointError) as e:
        gw.chat.completions.create(messages=user("x"), **request_)
    check(e.value, kind, cls, attrs)


def test_config_error_kind() -> None:
    with pytest.raises(switchpoint.ConfigError) as e:
        switchpoint.Gateway(config={"models": {"m": {"provider": "nope", "model": "x"}}})
    check(e.value, "config", switchpoint.ConfigError, {})


def test_stream_cut_midway_is_a_connection_error(gw: switchpoint.Gateway, clean: Mock) -> None:
    clean.script([{"cut_after": 2}])
    got: List[str] = []
    with pytest.raises(switchpoint.APIConnectionError) as e:
        for c in gw.chat.completions.create(model="gpt", messages=user("one two three four five"), stream=True):
            got.append(c.choices[0].delta.content or "" if c.choices else "")
    assert "".join(got) == "one two "
    assert e.value.kind == "connection"


def _raise_in_child(payload: str) -> None:
    raise switchpoint._exceptions._from_native(payload)


def test_errors_cross_multiprocessing(gw: switchpoint.Gateway, clean: Mock) -> None:
    clean.script([{"status": 429, "retry_after": 1.5}])
    with pytest.raises(switchpoint.RateLimitError) as e:
        gw.chat.completions.create(model="gpt", messages=user("x"))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        # An error raised in a worker comes back to the parent as the same class.
        result = pool.apply_async(
            _raise_in_child, (json.dumps({"error": e.value.cause, "display": str(e.value.__cause__)}),)
        )
        with pytest.raises(switchpoint.RateLimitError) as back:
            result.get(timeout=60)
    assert back.value.retry_after == 1.5 and back.value.status_code == 429


def test_user_constructed_errors(tmp_path: Any) -> None:
    err = switchpoint.RateLimitError("slow down", retry_after=3.0, status_code=429)
    assert err.kind == "rate_limited" and err.retry_after == 3.0 and err.__cause__ is None
    back: Optional[switchpoint.RateLimitError] = pickle.loads(pickle.dumps(err))
    assert back is not None and back.retry_after == 3.0 and back.message == "slow down"
