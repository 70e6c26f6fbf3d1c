"""asyncio glue: start native work, await its outcome without blocking the loop.

Each event loop has one native ``Completer``. Tokio tasks queue their outcomes there and
wake the loop through a socket the loop watches (``add_reader``); the loop then resolves
every finished future in one pass. Cancelling the awaiting task aborts the native task, which
drops the Rust future and closes the upstream connection.
"""

from __future__ import annotations

import asyncio
import weakref

from ._exceptions import _from_native
from ._native import Completer

_STREAM, _END, _ERROR = 1, 2, 3


class _LoopCompleter:
    """One event loop's completer and the futures waiting on it, by token."""

    __slots__ = ("native", "pending", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.native = Completer()
        self.pending: "dict[int, asyncio.Future[object]]" = {}
        loop.add_reader(self.native.fileno(), self._ready)

    def _ready(self) -> None:
        pending = self.pending
        for token, tag, value in self.native.drain():
            fut = pending.pop(token, None)
            if fut is not None and not fut.done():
                fut.set_result((tag, value))


_by_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopCompleter]" = weakref.WeakKeyDictionary()
_last: "tuple[object, _LoopCompleter | None]" = (None, None)


def _completer(loop: asyncio.AbstractEventLoop) -> _LoopCompleter:
    global _last
    last_loop, comp = _last
    if last_loop is loop and comp is not None:
        return comp
    comp = _by_loop.get(loop)
    if comp is None:
        comp = _by_loop[loop] = _LoopCompleter(loop)
    _last = (loop, comp)
    return comp


async def call(start, *args):  # type: ignore[no-untyped-def]
    """Runs ``start(completer, *args)`` (a native ``*_async`` method) and awaits its outcome:
    a response as a dict, JSON text, a native stream, or None at the end of a stream;
    errors are raised typed.

    Work that finished in its first poll (a cache hit, a replayed stream's chunk) comes back
    from ``start`` as ``(tag, value)``: no task, no wake-up, no event-loop round."""
    loop = asyncio.get_running_loop()
    comp = _completer(loop)
    started = start(comp.native, *args)
    if type(started) is tuple:
        tag, value = started
    else:
        fut = loop.create_future()
        comp.pending[started.token] = fut
        try:
            tag, value = await fut
        except BaseException:
            started.abort()
            comp.pending.pop(started.token, None)
            raise
    if tag == _ERROR:
        raise _from_native(value)
    return value
