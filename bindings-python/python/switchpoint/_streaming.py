"""Streams of chat chunks or Responses events: a blocking iterator and an async iterator.

Leaving early cancels the upstream request: ``close()``, ``break`` out of a ``with`` block,
an exception, or simply dropping the stream (the native object hands the drop to the
gateway's runtime, so no finalizer waits).
"""

from __future__ import annotations

import json
import types

from ._models import ChatCompletionChunk, SwitchpointFacts

__all__ = ["Stream", "AsyncStream"]


def _facts(native) -> "SwitchpointFacts | None":  # type: ignore[no-untyped-def]
    text = native.facts()
    return None if text is None else SwitchpointFacts.model_validate(json.loads(text))


class Stream:
    """A blocking iterator of :class:`ChatCompletionChunk` (or, from ``responses.create``,
    :class:`ResponseStreamEvent`); also a context manager."""

    __slots__ = ("_native", "_cast", "__weakref__")
    __class_getitem__ = classmethod(types.GenericAlias)  # type: ignore[var-annotated]

    def __init__(self, native, cast=ChatCompletionChunk) -> None:  # type: ignore[no-untyped-def]
        self._native = native
        self._cast = cast

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> ChatCompletionChunk:
        text = self._native.next()
        if text is None:
            raise StopIteration
        return self._cast.model_validate(json.loads(text))  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stops the stream; an unfinished upstream request is cancelled."""
        self._native.close()

    @property
    def switchpoint(self) -> "SwitchpointFacts | None":
        """The gateway's facts so far (final once the stream has ended)."""
        return _facts(self._native)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream:
    """An async iterator of :class:`ChatCompletionChunk` (or :class:`ResponseStreamEvent`);
    also an async context manager."""

    __slots__ = ("_native", "_cast", "__weakref__")
    __class_getitem__ = classmethod(types.GenericAlias)  # type: ignore[var-annotated]

    def __init__(self, native, cast=ChatCompletionChunk) -> None:  # type: ignore[no-untyped-def]
        self._native = native
        self._cast = cast

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        from . import _aio

        try:
            text = await _aio.call(self._native.next_async)
        except BaseException:
            # Cancelled or failed mid-way: nobody will read on, so stop the upstream request.
            self._native.close()
            raise
        if text is None:
            raise StopAsyncIteration
        return self._cast.model_validate(json.loads(text))  # type: ignore[no-any-return]

    async def close(self) -> None:
        """Stops the stream; an unfinished upstream request is cancelled."""
        self._native.close()

    aclose = close

    @property
    def switchpoint(self) -> "SwitchpointFacts | None":
        """The gateway's facts so far (final once the stream has ended)."""
        return _facts(self._native)

    async def __aenter__(self) -> "AsyncStream":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


Stream.__module__ = AsyncStream.__module__ = "switchpoint"
