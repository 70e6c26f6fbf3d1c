"""Exceptions: one class per error kind, named as the openai package names its own.

Every error the gateway raises is a :class:`SwitchpointError` carrying ``kind``, ``message``,
``status_code``, ``provider``, ``retry_after`` (seconds), ``param`` and ``code``. The core's
error is chained as ``__cause__`` (a :class:`CoreError`) and kept as a dict in ``.cause``.
Errors pickle, so they cross ``multiprocessing`` boundaries intact.
"""

from __future__ import annotations

import json

__all__ = [
    "CoreError",
    "SwitchpointError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "APIResponseValidationError",
    "APIUserAbortError",
    "ContextWindowExceededError",
    "ContentFilteredError",
    "BudgetExceededError",
    "RateLimitExceededError",
    "PolicyDeniedError",
    "ConfigError",
    "InternalError",
]


class CoreError(Exception):
    """The error as it left the Rust core; chained as the ``__cause__`` of a SwitchpointError."""

    def __init__(self, display: str, error: "dict[str, object] | None" = None) -> None:
        super().__init__(display)
        self.error = error if error is not None else {}

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (CoreError, (str(self), self.error))


class SwitchpointError(Exception):
    """Base of every error switchpoint raises; ``kind`` says what went wrong."""

    kind: str = "internal"

    def __init__(
        self,
        message: str,
        *,
        kind: "str | None" = None,
        status_code: "int | None" = None,
        provider: "str | None" = None,
        retry_after: "float | None" = None,
        param: "str | None" = None,
        code: "str | None" = None,
        cause: "dict[str, object] | None" = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind
        self.status_code = status_code
        self.provider = provider
        self.retry_after = retry_after
        self.param = param
        self.code = code
        self.cause = cause
        if cause is not None:
            self.__cause__ = CoreError(_display(cause), cause)

    @property
    def body(self) -> "dict[str, object] | None":
        """The core's error object (as openai's ``APIError.body`` holds the error body)."""
        return self.cause

    def __reduce__(self):  # type: ignore[no-untyped-def]
        state = {
            "kind": self.kind,
            "status_code": self.status_code,
            "provider": self.provider,
            "retry_after": self.retry_after,
            "param": self.param,
            "code": self.code,
            "cause": self.cause,
        }
        return (_restore, (type(self), self.message, state))

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v!r}"
            for k, v in (
                ("status_code", self.status_code),
                ("provider", self.provider),
                ("retry_after", self.retry_after),
                ("param", self.param),
                ("code", self.code),
            )
            if v is not None
        )
        return f"{type(self).__name__}({self.message!r}, kind={self.kind!r}{extra})"


#: The openai package's name for its base API error.
APIError = SwitchpointError


class APIStatusError(SwitchpointError):
    """A provider (or the gateway) refused the request; ``status_code`` has the HTTP status."""


class BadRequestError(APIStatusError):
    """The request is invalid; ``param`` names the field at fault (400/422)."""

    kind = "bad_request"


class ContextWindowExceededError(BadRequestError):
    """The prompt plus the output cap exceed the model's context window."""

    kind = "context_window_exceeded"


class AuthenticationError(APIStatusError):
    """The provider rejected the credentials (401)."""

    kind = "auth"


class PermissionDeniedError(APIStatusError):
    """The credentials may not use this resource (403)."""

    kind = "permission_denied"


class NotFoundError(APIStatusError):
    """The model or resource does not exist, at the provider or in the config (404)."""

    kind = "not_found"


class RateLimitError(APIStatusError):
    """The provider is rate limiting (429); ``retry_after`` says when to come back."""

    kind = "rate_limited"


class RateLimitExceededError(RateLimitError):
    """A gateway rate limit (not the provider's) refused the request."""

    kind = "rate_limit_exceeded"


class InternalServerError(APIStatusError):
    """The provider is down or overloaded (5xx, 529)."""

    kind = "unavailable"


class APIConnectionError(SwitchpointError):
    """The connection failed or was cut (a cut stream ends with this)."""

    kind = "connection"


class APITimeoutError(APIConnectionError):
    """No answer within the deadline (connect, first byte or total)."""

    kind = "timeout"


class APIResponseValidationError(SwitchpointError):
    """The provider answered something that is not its documented wire format."""

    kind = "invalid_response"


class APIUserAbortError(SwitchpointError):
    """The request was cancelled."""

    kind = "cancelled"


class ContentFilteredError(SwitchpointError):
    """A safety filter blocked the prompt or the answer."""

    kind = "content_filtered"


class BudgetExceededError(SwitchpointError):
    """A spending budget would be exceeded."""

    kind = "budget_exceeded"


class PolicyDeniedError(SwitchpointError):
    """A policy (allow-list, guardrail) refused the request."""

    kind = "policy_denied"


class ConfigError(SwitchpointError):
    """The gateway configuration is invalid; ``param`` names the field."""

    kind = "config"


class InternalError(SwitchpointError):
    """A bug inside switchpoint, caught before it crossed into Python."""

    kind = "internal"


_BY_KIND: "dict[str, type[SwitchpointError]]" = {
    cls.kind: cls
    for cls in (
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        RateLimitError,
        APITimeoutError,
        APIConnectionError,
        BadRequestError,
        ContextWindowExceededError,
        ContentFilteredError,
        InternalServerError,
        APIResponseValidationError,
        BudgetExceededError,
        RateLimitExceededError,
        PolicyDeniedError,
        ConfigError,
        APIUserAbortError,
        InternalError,
    )
}

for _cls in (CoreError, SwitchpointError, APIStatusError, *_BY_KIND.values()):
    _cls.__module__ = "switchpoint"
del _cls


def _display(error: "dict[str, object]") -> str:
    """The core's one-line rendering of an error, rebuilt from its JSON."""
    text = f"{error.get('kind')}: {error.get('message')}"
    provider, status = error.get("provider"), error.get("status")
    if provider is not None:
        text += f" (provider {provider}" + (f", HTTP {status})" if status is not None else ")")
    elif status is not None:
        text += f" (HTTP {status})"
    retry = error.get("retry_after")
    if isinstance(retry, (int, float)):
        text += f"; retry after {retry:.3f}s"
    return text


def _restore(cls: "type[SwitchpointError]", message: str, state: "dict[str, object]") -> SwitchpointError:
    """Unpickles an error (module-level so pickle can find it)."""
    return cls(message, **state)  # type: ignore[arg-type]


def _from_error(error: "dict[str, object]") -> SwitchpointError:
    """The exception for one core error object."""
    kind = error.get("kind")
    cls = _BY_KIND.get(kind, InternalError) if isinstance(kind, str) else InternalError
    status = error.get("status")
    retry = error.get("retry_after")
    param, code = error.get("param"), error.get("code")
    return cls(
        str(error.get("message", "")),
        kind=kind if isinstance(kind, str) else None,
        status_code=status if isinstance(status, int) else None,
        provider=str(error["provider"]) if error.get("provider") is not None else None,
        retry_after=float(retry) if isinstance(retry, (int, float)) else None,
        param=param if isinstance(param, str) else None,
        code=code if isinstance(code, str) else None,
        cause=error,
    )


def _from_native(payload: str) -> SwitchpointError:
    """Called by the native module (and the asyncio glue) with the core error's JSON."""
    data = json.loads(payload)
    exc = _from_error(data["error"])
    display = data.get("display")
    if isinstance(display, str) and exc.__cause__ is not None:
        exc.__cause__.args = (display,)
    return exc
