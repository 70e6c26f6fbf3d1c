"""`Gateway` and `AsyncGateway`: the openai client's surface over the in-process gateway.

Arguments are split in two: the unified request (everything the OpenAI chat-completions or
embeddings API takes, plus ``extra_body``) and switchpoint's own request context (``user``,
``tags``, ``metadata``, ``api_key``, ``team``, ``tier``, ``timeout`` and cache controls). Both
cross into the core as JSON, where one schema checks them for every language.
"""

from __future__ import annotations

import json
import os

from . import _exceptions
from ._models import ChatCompletion, CreateEmbeddingResponse, TargetHealth
from ._native import Gateway as _NativeGateway
from ._streaming import AsyncStream, Stream
from ._types import NOT_GIVEN, _encode

__all__ = ["Gateway", "AsyncGateway"]

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

#: Parameters of OpenAI's embeddings request.
_EMBED_PARAMS = frozenset({"dimensions", "encoding_format", "extra_body"})

#: switchpoint's own keyword arguments: they go to the request context, not the provider.
#: ``cache`` is passed on so the core rejects it clearly until caching exists.
_CONTEXT_PARAMS = frozenset({"user", "tags", "metadata", "api_key", "team", "tier", "timeout", "cache"})

#: Fields that are both OpenAI request parameters and the caller's identity: ``user`` reaches
#: the provider (as with the openai package) and the gateway's accounting alike.
_SHARED_PARAMS = frozenset({"user"})

#: openai request options switchpoint cannot honour per request; refused, never ignored.
_UNSUPPORTED = frozenset({"extra_headers", "extra_query"})


def _split(kwargs: dict, allowed: frozenset, body: dict, what: str) -> str:  # type: ignore[type-arg]
    """Sorts keyword arguments into ``body`` and returns the context JSON ("" when empty)."""
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
            if key in _SHARED_PARAMS:
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
    __slots__ = ("_native", "chat", "embeddings")

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


class Gateway(_Base):
    """The blocking gateway: ``gw.chat.completions.create(...)``, ``gw.embeddings.create(...)``.

    Safe to share between threads; every wait releases the GIL and answers Ctrl-C.
    """

    __slots__ = ()

    def _resources(self) -> None:
        self.chat = Chat(self._native)
        self.embeddings = Embeddings(self._native)

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
            return Stream(self._native.chat_stream(_encode(body), ctx))
        return ChatCompletion.model_validate(json.loads(self._native.chat(_encode(body), ctx)))


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
        return CreateEmbeddingResponse.model_validate(json.loads(self._native.embed(_encode(body), ctx)))


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
            native_stream = await aio.call(self._native.chat_stream_async, _encode(body), ctx)
            return AsyncStream(native_stream)
        text = await aio.call(self._native.chat_async, _encode(body), ctx)
        return ChatCompletion.model_validate(json.loads(text))


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
        text = await aio.call(self._native.embed_async, _encode(body), ctx)
        return CreateEmbeddingResponse.model_validate(json.loads(text))


for _cls in (Gateway, AsyncGateway, Chat, Completions, Embeddings, AsyncChat, AsyncCompletions, AsyncEmbeddings):
    _cls.__module__ = "switchpoint"
del _cls
