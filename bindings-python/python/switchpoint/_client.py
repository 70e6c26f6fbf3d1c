"""`Gateway` and `AsyncGateway`: the openai client's surface over the in-process gateway.

Arguments are split in two: the unified request (everything the OpenAI chat-completions,
Responses or embeddings API takes, plus ``extra_body``) and switchpoint's own request context (``user``,
``tags``, ``metadata``, ``api_key``, ``team``, ``tier``, ``timeout`` and cache controls). Both
cross into the core (the request as its dict, converted natively by json.dumps's rules; the context as
JSON), where one schema checks them for every language.
"""

from __future__ import annotations

import json
import os
import sys
import time

from . import _exceptions
from ._models import ChatCompletion, CreateEmbeddingResponse, Response, ResponseStreamEvent, TargetHealth, UsageRow
from ._native import Gateway as _NativeGateway
from ._policy import AsyncKeys, Keys, _config_source, _guardrail
from ._streaming import AsyncStream, Stream
from ._types import NOT_GIVEN, _encode

__all__ = ["Gateway", "AsyncGateway", "RecordSubscription"]

#: Parameters of OpenAI's chat-completions request that are sent as they are.
_CHAT_PARAMS = frozenset(
    {
        "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
        "max_completion_tokens", "max_tokens", "modalities", "n", "parallel_tool_calls",
        "prediction", "presence_penalty", "prompt_cache_key", "reasoning_effort",
        "response_format", "safety_identifier", "seed", "service_tier", "stop", "store",
        "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p",
        "verbosity", "web_search_options", "extra_body",
    }
)  # fmt: skip

#: Parameters of OpenAI's Responses request (``POST /responses``) beside ``model``, ``input``
#: and ``stream``. ``extra_body``'s keys are merged into the body, as the openai package does.
_RESPONSES_PARAMS = frozenset(
    {
        "background", "context_management", "conversation", "include", "instructions",
        "max_output_tokens", "max_tool_calls", "moderation", "parallel_tool_calls",
        "previous_response_id", "prompt", "prompt_cache_key", "prompt_cache_options",
        "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier", "store",
        "stream_options", "temperature", "text", "tool_choice", "tools", "top_logprobs",
        "top_p", "truncation", "extra_body",
    }
)  # fmt: skip

#: Responses fields that are also the caller's identity or labels: ``user`` and ``metadata``
#: reach the provider (and are echoed in the Response) and the gateway's accounting alike.
_RESPONSES_SHARED = frozenset({"user", "metadata"})

#: Parameters of OpenAI's embeddings request.
_EMBED_PARAMS = frozenset({"dimensions", "encoding_format", "extra_body"})

#: switchpoint's own keyword arguments: they go to the request context, not the provider.
#: ``cache`` is a dict of cache controls (``no_read``, ``no_store``, ``ttl`` in seconds,
#: ``refresh``, ``namespace``); the core checks it and rejects unknown keys by name.
_CONTEXT_PARAMS = frozenset({"user", "tags", "metadata", "api_key", "team", "tier", "timeout", "cache"})

#: Fields that are both OpenAI request parameters and the caller's identity: ``user`` reaches
#: the provider (as with the openai package) and the gateway's accounting alike.
_SHARED_PARAMS = frozenset({"user"})

#: openai request options switchpoint cannot honour per request; refused, never ignored.
_UNSUPPORTED = frozenset({"extra_headers", "extra_query"})


def _split(kwargs: dict, allowed: frozenset, body: dict, what: str, shared: frozenset = _SHARED_PARAMS) -> str:  # type: ignore[type-arg]
    """Sorts keyword arguments into ``body`` and returns the context JSON ("" when empty);
    ``shared`` names the context fields that also go into the body."""
    ctx = None
    for key, value in kwargs.items():
        if value is None or value is NOT_GIVEN:
            continue
        if key in allowed:
            body[key] = value
        elif key in _CONTEXT_PARAMS:
            if ctx is None:
                ctx = {}
            ctx[key] = value
            if key in shared:
                body[key] = value
        elif key in _UNSUPPORTED:
            if value:
                raise _exceptions.BadRequestError(
                    f"`{key}` is not supported: switchpoint sends the headers and query "
                    "parameters configured for the provider",
                    param=key,
                )
        else:
            raise TypeError(f"{what}() got an unexpected keyword argument '{key}'")
    return "" if ctx is None else _encode(ctx)


def _load(config: object) -> _NativeGateway:
    """A native gateway from a dict, YAML/JSON text, a path, or nothing (zero-config)."""
    if config is None:
        return _NativeGateway.from_env()
    if isinstance(config, str):
        return _NativeGateway.from_text(config)
    if isinstance(config, bytes):
        return _NativeGateway.from_text(config.decode())
    if isinstance(config, os.PathLike):
        return _NativeGateway.from_file(os.fspath(config))
    if hasattr(config, "keys"):
        return _NativeGateway.from_json(json.dumps(dict(config)))  # type: ignore[call-overload]
    raise TypeError(f"config must be a dict, YAML/JSON text or a path, not {type(config).__name__}")


class _Base:
    __slots__ = ("_native", "chat", "embeddings", "responses", "keys")

    def __init__(self, config: object = None) -> None:
        self._native = _load(config)
        self._resources()

    def _resources(self) -> None:
        raise NotImplementedError

    @classmethod
    def from_file(cls, path: "str | os.PathLike[str]"):  # type: ignore[no-untyped-def]
        """A gateway from a YAML or JSON config file."""
        self = cls.__new__(cls)
        self._native = _NativeGateway.from_file(os.fspath(path))
        self._resources()
        return self

    @classmethod
    def from_env(cls):  # type: ignore[no-untyped-def]
        """A gateway with no config: ``provider/model`` names, keys from the environment."""
        return cls(None)

    def rebuild(self) -> None:
        """Fresh connection pools (done automatically in a child after ``fork()``)."""
        self._native.rebuild()

    def health(self) -> "list[TargetHealth]":
        """Every target's state: healthy, cooling down (until when) or half-open, EWMA
        latency, recent error rate and requests in flight. Plain data; never blocks."""
        return [TargetHealth.model_validate(t) for t in json.loads(self._native.health())]

    def metrics_text(self) -> str:
        """The Prometheus text exposition of the gateway's metrics (serve it on ``/metrics``).
        Requests that already returned are counted: it waits (GIL released, normally for
        microseconds, at most a second) for records still on their way to the metrics."""
        return self._native.metrics_text()

    def usage(self, since: object = None, group_by: str = "total") -> "list[UsageRow]":
        """Requests, errors, cache hits, tokens and cost since a time, one row per group,
        most expensive first. ``since``: None (everything), a ``datetime`` (naive means local
        time), a ``timedelta`` (that long ago) or unix seconds. ``group_by``: ``total``,
        ``user``, ``team``, ``model``, ``route``, ``provider``, ``tag`` or ``key``; anything
        else raises ``BadRequestError`` (param ``group_by``)."""
        rows = json.loads(self._native.usage(_unix_seconds(since), group_by))
        return [UsageRow.model_validate(r) for r in rows]

    def on_record(self, callback) -> "RecordSubscription":  # type: ignore[no-untyped-def]
        """Calls ``callback(record)`` with a :class:`RequestRecord` for every request from
        now on, on the gateway's telemetry thread (holding the GIL there). An exception in
        the callback goes to ``sys.unraisablehook`` and never reaches the request. Returns a
        subscription: ``.remove()`` it (or use it as a context manager) to stop."""
        if not callable(callback):
            raise TypeError(f"on_record() needs a callable, not {type(callback).__name__}")
        _observers_ready()
        return RecordSubscription(self._native, self._native.add_observer(callback))

    def add_guardrail(self, fn) -> int:  # type: ignore[no-untyped-def]
        """Calls ``fn(event)`` for every request's input (``stage: "input"``, ``messages``)
        and every answer (``stage: "output"``, ``content``), on one of the gateway's blocking
        threads (holding the GIL only for the call). It returns None or True (allow), False
        (deny), or ``{"action": "allow" | "deny" | "rewrite", ...}`` (``reason`` for a
        deny; ``messages`` or ``content`` for a rewrite). An ``async def`` hook is awaited on
        the event loop running when it was added (or the one the gateway's asyncio calls run
        on). If ``fn`` raises, the request fails with ``InternalError`` (code
        ``guardrail_hook_failed``, the exception's text as message). Returns the id
        :meth:`remove_guardrail` takes."""
        hook = _guardrail(fn)
        _observers_ready()
        return self._native.add_guardrail(hook)

    def remove_guardrail(self, id: int) -> bool:
        """Stops a hook (no call starts after this returns); False if it was already removed."""
        return self._native.remove_guardrail(id)


def _unix_seconds(since: object) -> "float | None":
    """``usage(since=...)`` as unix seconds: None, a number, a datetime or a timedelta."""
    if since is None:
        return None
    if isinstance(since, (int, float)) and not isinstance(since, bool):
        return float(since)
    # A datetime or timedelta means the caller imported datetime: no import needed here.
    dt = sys.modules.get("datetime")
    if dt is not None:
        if isinstance(since, dt.datetime):
            return since.timestamp()  # naive datetimes are local time, as in datetime itself
        if isinstance(since, dt.timedelta):
            return time.time() - since.total_seconds()
    raise TypeError(f"since must be None, a datetime, a timedelta or unix seconds, not {type(since).__name__}")


_observers_hooked = False


def _observers_ready() -> None:
    """Once: stop record callbacks before the interpreter shuts down (a thread waiting for
    the GIL then cannot be resumed safely), and forget the parent's in a forked child."""
    global _observers_hooked
    if not _observers_hooked:
        import atexit

        from ._native import observers_after_fork, shutdown_observers

        atexit.register(shutdown_observers)
        os.register_at_fork(after_in_child=observers_after_fork)
        _observers_hooked = True


class RecordSubscription:
    """A record callback added with ``gateway.on_record()``; ``remove()`` stops it (no call
    starts after ``remove()`` returns; removing twice is harmless). As a context manager it
    removes the callback on exit."""

    __slots__ = ("_native", "_handle")

    def __init__(self, native: _NativeGateway, handle: int) -> None:
        self._native = native
        self._handle: "int | None" = handle

    @property
    def active(self) -> bool:
        """Whether the callback still receives records."""
        return self._handle is not None

    def remove(self) -> bool:
        """Stops the callback; False if it was already removed."""
        handle, self._handle = self._handle, None
        return handle is not None and self._native.remove_observer(handle)

    def __enter__(self) -> "RecordSubscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RecordSubscription {'active' if self.active else 'removed'}>"


class Gateway(_Base):
    """The blocking gateway: ``gw.chat.completions.create(...)``, ``gw.responses.create(...)``,
    ``gw.embeddings.create(...)``.

    Safe to share between threads; every wait releases the GIL and answers Ctrl-C.
    """

    __slots__ = ()

    def _resources(self) -> None:
        self.chat = Chat(self._native)
        self.embeddings = Embeddings(self._native)
        self.responses = Responses(self._native)
        self.keys = Keys(self._native)

    def flush_telemetry(self, timeout: float = 5.0) -> bool:
        """Waits until every request so far reached every record callback and exporter, and
        they flushed (log files written, spans sent); False if ``timeout`` seconds passed.
        Inside a record callback it returns False at once (the telemetry thread cannot wait
        for itself)."""
        return self._native.flush_telemetry(timeout)

    def audit(self, since: object = 0):  # type: ignore[no-untyped-def]
        """Administrative changes (keys created, updated, revoked; config reloads; budget
        alerts) since a time, oldest first: ``{at_ms, actor, action, target, details}``.
        ``since``: unix seconds, a ``datetime`` (naive means local time) or a ``timedelta``
        (that long ago)."""
        return self._native.audit(_unix_seconds(since))

    def reload(self, config, *, actor: str = "api") -> None:  # type: ignore[no-untyped-def]
        """Swaps in a new configuration (a dict, YAML/JSON text or a path) atomically:
        requests in flight finish on the old one, new requests take the new one. Counters,
        runtime keys and the audit log stay. A bad config raises ``ConfigError`` and leaves
        the current one in force."""
        source, is_file = _config_source(config)
        self._native.reload(source, is_file, actor)

    def close(self) -> None:
        """Nothing to release early: connections close when the gateway is collected."""

    def __enter__(self) -> "Gateway":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncGateway(_Base):
    """The asyncio gateway: ``await gw.chat.completions.create(...)``; never blocks the loop."""

    __slots__ = ()

    def _resources(self) -> None:
        self.chat = AsyncChat(self._native)
        self.embeddings = AsyncEmbeddings(self._native)
        self.responses = AsyncResponses(self._native)
        self.keys = AsyncKeys(self._native)

    async def flush_telemetry(self, timeout: float = 5.0) -> bool:
        """Waits until every request so far reached every record callback and exporter, and
        they flushed; False if ``timeout`` seconds passed. The wait happens off the event
        loop."""
        aio = _aio or _aio_module()
        return json.loads(await aio.call(self._native.flush_telemetry_async, timeout))  # type: ignore[no-any-return]

    async def audit(self, since: object = 0):  # type: ignore[no-untyped-def]
        """Administrative changes since a time, oldest first; see :meth:`Gateway.audit`."""
        aio = _aio or _aio_module()
        return await aio.call(self._native.audit_async, _unix_seconds(since))

    async def reload(self, config, *, actor: str = "api") -> None:  # type: ignore[no-untyped-def]
        """Swaps in a new configuration atomically; see :meth:`Gateway.reload`. The swap runs
        off the event loop."""
        source, is_file = _config_source(config)
        aio = _aio or _aio_module()
        await aio.call(self._native.reload_async, source, is_file, actor)

    async def close(self) -> None:
        """Nothing to release early: connections close when the gateway is collected."""

    async def __aenter__(self) -> "AsyncGateway":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Completions:
    """``gw.chat.completions``: chat completions, whole or streamed."""

    __slots__ = ("_native",)

    def __init__(self, native: _NativeGateway) -> None:
        self._native = native

    def create(self, *, messages, model, stream=False, **kwargs):  # type: ignore[no-untyped-def]
        """One chat completion (a :class:`Stream` of chunks with ``stream=True``)."""
        body = {"model": model, "messages": messages}
        ctx = _split(kwargs, _CHAT_PARAMS, body, "create")
        if stream:
            body["stream"] = True
            return Stream(self._native.chat_stream(body, ctx))
        return ChatCompletion.model_validate(self._native.chat(body, ctx))


class Chat:
    """``gw.chat``."""

    __slots__ = ("completions",)

    def __init__(self, native: _NativeGateway) -> None:
        self.completions = Completions(native)


class Embeddings:
    """``gw.embeddings``."""

    __slots__ = ("_native",)

    def __init__(self, native: _NativeGateway) -> None:
        self._native = native

    def create(self, *, input, model, **kwargs):  # type: ignore[no-untyped-def]
        """Embeddings for one or more inputs."""
        body = {"model": model, "input": input}
        ctx = _split(kwargs, _EMBED_PARAMS, body, "create")
        return CreateEmbeddingResponse.model_validate(self._native.embed(body, ctx))


def _responses_body(model: object, input: object, kwargs: dict) -> "tuple[dict, str]":  # type: ignore[type-arg]
    """The Responses request body and the context JSON from ``create``'s arguments."""
    body: dict = {"model": model}  # type: ignore[type-arg]
    if input is not None and input is not NOT_GIVEN:
        body["input"] = input
    ctx = _split(kwargs, _RESPONSES_PARAMS, body, "create", _RESPONSES_SHARED)
    extra = body.pop("extra_body", None)
    if extra:
        body.update(extra)
    return body, ctx


class Responses:
    """``gw.responses``: the OpenAI Responses API over every provider (passed through to
    providers that have it, translated to chat completions for the others)."""

    __slots__ = ("_native",)

    def __init__(self, native: _NativeGateway) -> None:
        self._native = native

    def create(self, *, model, input=NOT_GIVEN, stream=False, **kwargs):  # type: ignore[no-untyped-def]
        """One Response (a :class:`Stream` of :class:`ResponseStreamEvent` with ``stream=True``)."""
        body, ctx = _responses_body(model, input, kwargs)
        if stream:
            body["stream"] = True
            return Stream(self._native.responses_stream(body, ctx), ResponseStreamEvent)
        return Response.model_validate(self._native.responses(body, ctx))


_aio = None


def _aio_module():  # type: ignore[no-untyped-def]
    """The asyncio glue, imported on first async use (asyncio is slow to import)."""
    global _aio
    if _aio is None:
        from . import _aio as module

        _aio = module
    return _aio


class AsyncCompletions:
    """``gw.chat.completions`` of an AsyncGateway."""

    __slots__ = ("_native",)

    def __init__(self, native: _NativeGateway) -> None:
        self._native = native

    async def create(self, *, messages, model, stream=False, **kwargs):  # type: ignore[no-untyped-def]
        """One chat completion (an :class:`AsyncStream` of chunks with ``stream=True``)."""
        body = {"model": model, "messages": messages}
        ctx = _split(kwargs, _CHAT_PARAMS, body, "create")
        aio = _aio or _aio_module()
        if stream:
            body["stream"] = True
            native_stream = await aio.call(self._native.chat_stream_async, body, ctx)
            return AsyncStream(native_stream)
        data = await aio.call(self._native.chat_async, body, ctx)
        return ChatCompletion.model_validate(data)


class AsyncChat:
    """``gw.chat`` of an AsyncGateway."""

    __slots__ = ("completions",)

    def __init__(self, native: _NativeGateway) -> None:
        self.completions = AsyncCompletions(native)


class AsyncEmbeddings:
    """``gw.embeddings`` of an AsyncGateway."""

    __slots__ = ("_native",)

    def __init__(self, native: _NativeGateway) -> None:
        self._native = native

    async def create(self, *, input, model, **kwargs):  # type: ignore[no-untyped-def]
        """Embeddings for one or more inputs."""
        body = {"model": model, "input": input}
        ctx = _split(kwargs, _EMBED_PARAMS, body, "create")
        aio = _aio or _aio_module()
        data = await aio.call(self._native.embed_async, body, ctx)
        return CreateEmbeddingResponse.model_validate(data)


class AsyncResponses:
    """``gw.responses`` of an AsyncGateway."""

    __slots__ = ("_native",)

    def __init__(self, native: _NativeGateway) -> None:
        self._native = native

    async def create(self, *, model, input=NOT_GIVEN, stream=False, **kwargs):  # type: ignore[no-untyped-def]
        """One Response (an :class:`AsyncStream` of :class:`ResponseStreamEvent` with
        ``stream=True``)."""
        body, ctx = _responses_body(model, input, kwargs)
        aio = _aio or _aio_module()
        if stream:
            body["stream"] = True
            native_stream = await aio.call(self._native.responses_stream_async, body, ctx)
            return AsyncStream(native_stream, ResponseStreamEvent)
        data = await aio.call(self._native.responses_async, body, ctx)
        return Response.model_validate(data)


for _cls in (
    Gateway,
    AsyncGateway,
    RecordSubscription,
    Chat,
    Completions,
    Embeddings,
    AsyncChat,
    AsyncCompletions,
    AsyncEmbeddings,
    Responses,
    AsyncResponses,
):
    _cls.__module__ = "switchpoint"
del _cls
