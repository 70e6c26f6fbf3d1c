"""The admin surface: ``gw.keys`` (virtual keys), ``gw.audit()``, ``gw.reload()``, and the
callables ``gw.add_guardrail()`` registers.

The core owns the behaviour (hashing, storage on the state backend, the audit log, the
atomic config swap, when hooks run and what a verdict does); this layer only shapes
arguments: settings given as a dict and/or as keyword arguments, ``datetime`` expiry times,
config as a dict, text or a path, and a coroutine hook's result awaited on an event loop.
"""

from __future__ import annotations

import os
import sys

from ._native import Gateway as _NativeGateway

TYPE_CHECKING = False  # mypy reads the block below; `typing` stays unimported at run time
if TYPE_CHECKING:
    from typing import Callable

__all__ = ["Keys", "AsyncKeys"]


def _settings(spec: object, settings: "dict[str, object]", what: str) -> "dict[str, object]":
    """One settings dict from a mapping and keyword arguments (a key given twice is refused,
    so neither silently wins); ``expires_at`` may be a ``datetime``."""
    if spec is None:
        merged: "dict[str, object]" = {}
    elif hasattr(spec, "keys"):
        merged = dict(spec)  # type: ignore[call-overload]
    else:
        raise TypeError(f"{what}() takes the settings as a dict, not {type(spec).__name__}")
    for name, value in settings.items():
        if name in merged:
            raise TypeError(f"{what}() got '{name}' both in the dict and as a keyword argument")
        merged[name] = value
    expiry = merged.get("expires_at")
    dt = sys.modules.get("datetime")
    if dt is not None and isinstance(expiry, dt.datetime):
        merged["expires_at"] = expiry.timestamp()  # naive means local time, as in datetime
    return merged


def _config_source(config: object) -> "tuple[object, bool]":
    """``reload()``'s config as the native call takes it: (a path, True) or (text or a dict,
    False)."""
    if isinstance(config, os.PathLike):
        return os.fspath(config), True
    if isinstance(config, bytes):
        return config.decode(), False
    if isinstance(config, str):
        return config, False
    if hasattr(config, "keys"):
        return dict(config), False  # type: ignore[call-overload]
    raise TypeError(f"config must be a dict, YAML/JSON text or a path, not {type(config).__name__}")


def _guardrail(fn: object) -> "Callable[[object], object]":
    """What the native hook calls (on one of the gateway's blocking threads, holding the GIL
    only for the call): ``fn(event)``, and when that is awaitable (an ``async def`` hook), its
    result awaited on an event loop (see :func:`_resolve`)."""
    if not callable(fn):
        raise TypeError(f"add_guardrail() needs a callable, not {type(fn).__name__}")
    loop = _running_loop()

    def call(event: object) -> object:
        verdict = fn(event)
        if hasattr(verdict, "__await__"):
            verdict = _resolve(verdict, loop)
        return verdict

    return call


def _running_loop() -> object:
    """The running asyncio loop, if any (asyncio is not imported for this)."""
    aio = sys.modules.get("asyncio")
    if aio is None:
        return None
    try:
        return aio.get_running_loop()
    except RuntimeError:
        return None


def _resolve(awaitable: object, loop: object) -> object:
    """A coroutine hook's verdict: awaited on the loop that was running when the hook was
    added, else on the loop the gateway's asyncio calls last ran on (while it runs: the
    request is being awaited there), else on a private loop in this thread."""
    import asyncio

    async def wait() -> object:
        return await awaitable  # type: ignore[misc]

    for candidate in (loop, _last_loop()):
        if isinstance(candidate, asyncio.AbstractEventLoop) and candidate.is_running():
            return asyncio.run_coroutine_threadsafe(wait(), candidate).result()
    return asyncio.run(wait())


def _last_loop() -> object:
    aio = sys.modules.get("switchpoint._aio")
    return None if aio is None else aio._last[0]


class Keys:
    """``gw.keys``: virtual keys issued to applications and users. Only a key's hash is
    stored; its value is shown once, in ``create()``'s answer. Changes are audited under
    ``actor``."""

    __slots__ = ("_native",)

    def __init__(self, native: _NativeGateway) -> None:
        self._native = native

    def create(self, spec=None, *, actor="api", **settings):  # type: ignore[no-untyped-def]
        """Issues a key bound to ``settings`` (``name``, ``user``, ``team``, ``tier``,
        ``models``, ``routes``, ``budgets``, ``limits``, ``expires_at``, ``metadata``, or
        ``key`` to bring your own); the answer holds the key's value, the only time."""
        return self._native.keys("create", None, _settings(spec, settings, "create"), actor)

    def list(self):  # type: ignore[no-untyped-def]
        """Every key (from config and created at runtime, revoked ones too), without values."""
        return self._native.keys("list", None, None, "api")

    def get(self, id):  # type: ignore[no-untyped-def]
        """One key by id (``key-`` and 16 hex digits); ``NotFoundError`` if there is none."""
        return self._native.keys("get", id, None, "api")

    def update(self, id, patch=None, *, actor="api", **settings):  # type: ignore[no-untyped-def]
        """Changes a runtime key's settings (a JSON merge patch: values given replace, None
        removes); the key's value stays the same."""
        return self._native.keys("update", id, _settings(patch, settings, "update"), actor)

    def revoke(self, id, *, actor="api"):  # type: ignore[no-untyped-def]
        """Revokes a runtime key: every gateway sharing the state refuses it from now on."""
        return self._native.keys("revoke", id, None, actor)


class AsyncKeys:
    """``gw.keys`` of an AsyncGateway: the same calls, awaited."""

    __slots__ = ("_native",)

    def __init__(self, native: _NativeGateway) -> None:
        self._native = native

    async def _call(self, op: str, id: object, body: object, actor: object) -> object:
        from . import _aio

        return await _aio.call(self._native.keys_async, op, id, body, actor)  # type: ignore[no-untyped-call]

    async def create(self, spec=None, *, actor="api", **settings):  # type: ignore[no-untyped-def]
        """Issues a key; see :meth:`Keys.create`."""
        return await self._call("create", None, _settings(spec, settings, "create"), actor)

    async def list(self):  # type: ignore[no-untyped-def]
        """Every key, without values; see :meth:`Keys.list`."""
        return await self._call("list", None, None, "api")

    async def get(self, id):  # type: ignore[no-untyped-def]
        """One key by id; see :meth:`Keys.get`."""
        return await self._call("get", id, None, "api")

    async def update(self, id, patch=None, *, actor="api", **settings):  # type: ignore[no-untyped-def]
        """Changes a runtime key's settings; see :meth:`Keys.update`."""
        return await self._call("update", id, _settings(patch, settings, "update"), actor)

    async def revoke(self, id, *, actor="api"):  # type: ignore[no-untyped-def]
        """Revokes a runtime key; see :meth:`Keys.revoke`."""
        return await self._call("revoke", id, None, actor)


for _cls in (Keys, AsyncKeys):
    _cls.__module__ = "switchpoint"
del _cls
