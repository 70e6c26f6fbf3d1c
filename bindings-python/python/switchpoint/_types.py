"""Small shared pieces: the NOT_GIVEN sentinel and request encoding."""

from __future__ import annotations

import json

from ._models import BaseModel

__all__ = ["NOT_GIVEN", "NotGiven"]


class NotGiven:
    """The openai package's "argument not given" sentinel, so code written for it runs as is."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NotGiven.__module__ = "switchpoint"
NOT_GIVEN = NotGiven()


def _encode_default(o: object) -> object:
    """JSON for what json cannot encode itself: response objects (a message passed back in
    ``messages``), mappings and other iterables."""
    if isinstance(o, BaseModel):
        return o.to_dict(exclude_none=True)
    if hasattr(o, "keys"):
        return dict(o)  # type: ignore[call-overload]
    if hasattr(o, "__iter__") and not isinstance(o, (str, bytes)):
        return list(o)  # type: ignore[call-overload]
    if hasattr(o, "model_dump"):  # a pydantic model (openai's own types, user schemas)
        return o.model_dump(exclude_none=True)
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


#: Compact, UTF-8 JSON for requests; the core parses it with path-aware errors.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_encode_default, allow_nan=False).encode
