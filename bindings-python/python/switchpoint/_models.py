"""Typed response objects with attribute access, like the openai package's models.

They are plain ``__slots__`` classes over the wire JSON the core returns (no pydantic:
``import switchpoint`` stays fast), filled lazily. Fields the class does not name are kept
and readable as attributes too, and every dump includes them.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing would slow `import switchpoint`
    from typing import Any, Callable, Dict, Optional, Tuple

    _Convert = Optional[Callable[[Any], Any]]

__all__ = [
    "BaseModel",
    "AttemptFact",
    "SwitchpointFacts",
    "TargetHealth",
    "Function",
    "ChatCompletionMessageToolCall",
    "ChatCompletionMessage",
    "PromptTokensDetails",
    "CompletionTokensDetails",
    "CompletionUsage",
    "Choice",
    "ChatCompletion",
    "ChoiceDeltaToolCallFunction",
    "ChoiceDeltaToolCall",
    "ChoiceDelta",
    "ChunkChoice",
    "ChatCompletionChunk",
    "Embedding",
    "EmbeddingUsage",
    "CreateEmbeddingResponse",
    "CostFact",
    "Response",
    "ResponseOutputMessage",
    "ResponseOutputText",
    "ResponseOutputRefusal",
    "ResponseFunctionToolCall",
    "ResponseOutputItem",
    "ResponseUsage",
    "ResponseInputTokensDetails",
    "ResponseOutputTokensDetails",
    "ResponseError",
    "ResponseIncompleteDetails",
    "ResponseStreamEvent",
    "UsageRow",
    "RequestRecord",
    "RecordTokens",
    "RecordCost",
    "RecordCache",
    "RecordCaller",
    "RecordContent",
]


class _ModelMeta(type):
    """Turns a class's ``_fields`` (name -> converter) into its ``__slots__``."""

    def __new__(mcs, name: str, bases: Tuple[type, ...], ns: Dict[str, Any]) -> "_ModelMeta":
        fields: Dict[str, _Convert] = ns.get("_fields", {})
        slots = tuple(fields)
        if not any(isinstance(b, _ModelMeta) for b in bases):
            slots += ("_src",)  # the base keeps the wire JSON the fields come from
        ns["__slots__"] = slots
        ns["_field_items"] = tuple(fields.items())
        ns["__module__"] = "switchpoint"
        return super().__new__(mcs, name, bases, ns)


class BaseModel(metaclass=_ModelMeta):
    """Base of every response object: attribute access, dumps, equality, pickling.

    Building one only keeps the parsed JSON: a field becomes an object (and is stored in its
    slot) the first time it is read, so a call whose caller reads one string costs one object.
    """

    _fields: Dict[str, _Convert] = {}

    def __init__(self, **data: Any) -> None:
        _set(self, "_src", data)

    @classmethod
    def model_validate(cls, obj: Dict[str, Any]) -> Any:
        """Builds the object from a dict of its wire JSON (nested objects on first access)."""
        if not isinstance(obj, dict):
            raise TypeError(f"{cls.__name__}.model_validate expects a dict, got {type(obj).__name__}")
        self = _new(cls)
        _set(self, "_src", obj)
        return self

    @classmethod
    def model_validate_json(cls, data: "str | bytes") -> Any:
        """Builds the object from its wire JSON text."""
        return cls.model_validate(json.loads(data))

    def __getattr__(self, name: str) -> Any:
        # Only called when the slot is still empty (or the name is not a field).
        fields = self._fields
        if name in fields:
            v = _get(self, "_src").get(name)
            convert = fields[name]
            if v is not None and convert is not None:
                v = convert(v)
            _set(self, name, v)
            return v
        if not name.startswith("_"):
            src = _get(self, "_src")
            if name in src:
                return src[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def model_extra(self) -> Dict[str, Any]:
        """Fields the wire JSON had that this class does not name."""
        fields = self._fields
        return {k: v for k, v in _get(self, "_src").items() if k not in fields}

    def _dump(self, exclude_unset: bool, exclude_none: bool) -> Dict[str, Any]:
        src = _get(self, "_src")
        out: Dict[str, Any] = {}
        for name, convert in self._field_items:
            v = getattr(self, name)
            if v is None and (exclude_none or (exclude_unset and name not in src)):
                continue
            if convert is _money and v is not None:
                out[name] = format(v, "f")  # the wire's decimal text, digit for digit
            else:
                out[name] = _dump_value(v, exclude_unset, exclude_none)
        fields = self._fields
        for k, v in src.items():
            if k in fields or (v is None and exclude_none):
                continue
            out[k] = _dump_value(v, exclude_unset, exclude_none)
        return out

    def to_dict(self, *, exclude_unset: bool = True, exclude_none: bool = False) -> Dict[str, Any]:
        """The wire JSON as a dict: by default only the fields the answer had (like openai's)."""
        return self._dump(exclude_unset, exclude_none)

    def to_json(self, *, indent: "int | None" = 2, exclude_unset: bool = True, exclude_none: bool = False) -> str:
        """The wire JSON as text (indented by default, like openai's ``to_json``)."""
        return json.dumps(self._dump(exclude_unset, exclude_none), indent=indent)

    def model_dump(self, *, exclude_unset: bool = False, exclude_none: bool = False) -> Dict[str, Any]:
        """Every field as a dict (None for absent ones), like pydantic's ``model_dump``."""
        return self._dump(exclude_unset, exclude_none)

    def model_dump_json(
        self, *, indent: "int | None" = None, exclude_unset: bool = False, exclude_none: bool = False
    ) -> str:
        """Every field as compact JSON text, like pydantic's ``model_dump_json``."""
        data = self._dump(exclude_unset, exclude_none)
        if indent is None:
            return json.dumps(data, separators=(",", ":"))
        return json.dumps(data, indent=indent)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._dump(False, False) == other._dump(False, False)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        parts = [f"{name}={getattr(self, name)!r}" for name, _ in self._field_items]
        fields = self._fields
        parts.extend(f"{k}={v!r}" for k, v in _get(self, "_src").items() if k not in fields)
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self).model_validate, (self._dump(True, False),))


_new = object.__new__
_set = object.__setattr__
_get = object.__getattribute__


def _dump_value(v: Any, exclude_unset: bool, exclude_none: bool) -> Any:
    if isinstance(v, BaseModel):
        return v._dump(exclude_unset, exclude_none)
    if isinstance(v, list):
        return [_dump_value(x, exclude_unset, exclude_none) for x in v]
    if isinstance(v, dict):
        return {k: _dump_value(x, exclude_unset, exclude_none) for k, x in v.items()}
    return v


def _wrap(cls: type, v: Any) -> Any:
    """A model over a wire dict; anything else (an object the caller set) as it is."""
    if type(v) is dict:
        obj: Any = _new(cls)
        _set(obj, "_src", v)
        return obj
    return v


_Decimal: Any = None


def _money(v: Any) -> Any:
    """An exact amount of USD from its wire text ("0.00012") as a ``decimal.Decimal``
    (imported on first use: ``import switchpoint`` stays fast)."""
    global _Decimal
    if _Decimal is None:
        from decimal import Decimal

        _Decimal = Decimal
    return _Decimal(v)


def _one(cls: type) -> Callable[[Any], Any]:
    return lambda v: _wrap(cls, v)


def _many(cls: type) -> Callable[[Any], Any]:
    return lambda v: [_wrap(cls, x) for x in v]


class AttemptFact(BaseModel):
    """One try at one provider: ``status`` is ``"ok"`` or ``"error"`` (then ``error`` is the kind)."""

    _fields = {
        "provider": None,
        "provider_model": None,
        "status": None,
        "error": None,
        "latency_ms": None,
        "route": None,
        "waited_ms": None,
        "hedge": None,
        "resumed": None,
        "message": None,
    }


class CostFact(BaseModel):
    """What a request cost in USD, as ``Decimal``: ``usd`` paid (``0`` for a cache hit) and,
    for a cache hit, ``saved_usd``, what the stored answer cost when it was made."""

    _fields = {"usd": _money, "saved_usd": _money}


class SwitchpointFacts(BaseModel):
    """What the gateway did: who served the answer, every attempt, latency and overhead,
    what the cache did (``cache``) and what it cost (``cost``)."""

    _fields = {
        "provider": None,
        "provider_model": None,
        "model": None,
        "attempts": _many(AttemptFact),
        "latency_ms": None,
        "ttft_ms": None,
        "overhead_us": None,
        "route": None,
        "routed_via": None,
        "cache": None,
        "cost": _one(CostFact),
    }


class TargetHealth(BaseModel):
    """One target's state from ``gateway.health()``: ``state`` is ``healthy``,
    ``cooling_down`` (until ``cooling_until_unix_ms``) or ``half_open``."""

    _fields = {
        "provider": None,
        "model": None,
        "routes": None,
        "tags": None,
        "state": None,
        "cooling_until_unix_ms": None,
        "cooldown_remaining_s": None,
        "cooldown_reason": None,
        "ewma_latency_ms": None,
        "p95_latency_ms": None,
        "error_rate": None,
        "in_flight": None,
        "requests": None,
        "failures": None,
        "requests_last_minute": None,
        "tokens_last_minute": None,
    }


class Function(BaseModel):
    """The function a tool call invokes; ``arguments`` is JSON text."""

    _fields = {"name": None, "arguments": None}


class ChatCompletionMessageToolCall(BaseModel):
    """One tool call in an assistant message."""

    _fields = {"id": None, "type": None, "function": _one(Function)}


class ChatCompletionMessage(BaseModel):
    """The assistant's message."""

    _fields = {
        "role": None,
        "content": None,
        "refusal": None,
        "tool_calls": _many(ChatCompletionMessageToolCall),
        "annotations": None,
        "audio": None,
        "function_call": _one(Function),
    }


class PromptTokensDetails(BaseModel):
    """Prompt token breakdown: cached reads and (switchpoint) cache writes."""

    _fields = {"cached_tokens": None, "cache_creation_tokens": None, "audio_tokens": None}


class CompletionTokensDetails(BaseModel):
    """Completion token breakdown: reasoning tokens and more."""

    _fields = {
        "reasoning_tokens": None,
        "audio_tokens": None,
        "accepted_prediction_tokens": None,
        "rejected_prediction_tokens": None,
    }


class CompletionUsage(BaseModel):
    """Token usage of a chat completion."""

    _fields = {
        "prompt_tokens": None,
        "completion_tokens": None,
        "total_tokens": None,
        "prompt_tokens_details": _one(PromptTokensDetails),
        "completion_tokens_details": _one(CompletionTokensDetails),
    }


class Choice(BaseModel):
    """One choice of a chat completion."""

    _fields = {"index": None, "message": _one(ChatCompletionMessage), "finish_reason": None, "logprobs": None}


class ChatCompletion(BaseModel):
    """A chat completion, plus the gateway's facts under ``switchpoint``."""

    _fields = {
        "id": None,
        "object": None,
        "created": None,
        "model": None,
        "choices": _many(Choice),
        "usage": _one(CompletionUsage),
        "system_fingerprint": None,
        "service_tier": None,
        "switchpoint": _one(SwitchpointFacts),
    }


class ChoiceDeltaToolCallFunction(BaseModel):
    """A piece of a streamed tool call's function (name first, then argument fragments)."""

    _fields = {"name": None, "arguments": None}


class ChoiceDeltaToolCall(BaseModel):
    """A piece of a streamed tool call; pieces with the same ``index`` belong together."""

    _fields = {"index": None, "id": None, "type": None, "function": _one(ChoiceDeltaToolCallFunction)}


class ChoiceDelta(BaseModel):
    """What one chunk adds to a choice."""

    _fields = {
        "role": None,
        "content": None,
        "refusal": None,
        "tool_calls": _many(ChoiceDeltaToolCall),
        "function_call": _one(ChoiceDeltaToolCallFunction),
    }


class ChunkChoice(BaseModel):
    """One choice's part of a stream chunk."""

    _fields = {"index": None, "delta": _one(ChoiceDelta), "finish_reason": None, "logprobs": None}


class ChatCompletionChunk(BaseModel):
    """One streamed chunk; the usage chunk (empty ``choices``) carries the gateway's facts."""

    _fields = {
        "id": None,
        "object": None,
        "created": None,
        "model": None,
        "choices": _many(ChunkChoice),
        "usage": _one(CompletionUsage),
        "system_fingerprint": None,
        "service_tier": None,
        "switchpoint": _one(SwitchpointFacts),
    }


class Embedding(BaseModel):
    """One embedding vector (a list of floats, or base64 text when asked for)."""

    _fields = {"object": None, "index": None, "embedding": None}


class EmbeddingUsage(BaseModel):
    """Token usage of an embeddings call."""

    _fields = {"prompt_tokens": None, "total_tokens": None}


class CreateEmbeddingResponse(BaseModel):
    """An embeddings answer, plus the gateway's facts under ``switchpoint``."""

    _fields = {
        "object": None,
        "data": _many(Embedding),
        "model": None,
        "usage": _one(EmbeddingUsage),
        "switchpoint": _one(SwitchpointFacts),
    }


class ResponseOutputText(BaseModel):
    """An ``output_text`` part of an output message."""

    _fields = {"type": None, "text": None, "annotations": None, "logprobs": None}


class ResponseOutputRefusal(BaseModel):
    """A ``refusal`` part of an output message."""

    _fields = {"type": None, "refusal": None}


def _part(v: Any) -> Any:
    cls = ResponseOutputRefusal if type(v) is dict and v.get("type") == "refusal" else ResponseOutputText
    return _wrap(cls, v)


def _parts(v: Any) -> Any:
    return [_part(x) for x in v]


class ResponseOutputMessage(BaseModel):
    """An assistant ``message`` output item: ``content`` holds ``output_text`` and
    ``refusal`` parts."""

    _fields = {"id": None, "type": None, "role": None, "status": None, "content": _parts}


class ResponseFunctionToolCall(BaseModel):
    """A ``function_call`` output item: answer it with a ``function_call_output`` input item
    carrying the same ``call_id``; ``arguments`` is JSON text."""

    _fields = {"id": None, "type": None, "call_id": None, "name": None, "arguments": None, "status": None}


class ResponseOutputItem(BaseModel):
    """Any other output item (kept whole; its fields read as attributes)."""

    _fields = {"id": None, "type": None}


_ITEM_CLASSES: Dict[str, type] = {}


def _item(v: Any) -> Any:
    kind = v.get("type") if type(v) is dict else None
    return _wrap(_ITEM_CLASSES.get(kind, ResponseOutputItem), v)  # type: ignore[arg-type]


def _items(v: Any) -> Any:
    return [_item(x) for x in v]


class ResponseInputTokensDetails(BaseModel):
    """Input token breakdown: ``cached_tokens`` read from and (switchpoint)
    ``cache_write_tokens`` written to the provider's prompt cache."""

    _fields = {"cached_tokens": None, "cache_write_tokens": None}


class ResponseOutputTokensDetails(BaseModel):
    """Output token breakdown: ``reasoning_tokens``."""

    _fields = {"reasoning_tokens": None}


class ResponseUsage(BaseModel):
    """Token usage of a Response (input includes cached tokens, output includes reasoning)."""

    _fields = {
        "input_tokens": None,
        "input_tokens_details": _one(ResponseInputTokensDetails),
        "output_tokens": None,
        "output_tokens_details": _one(ResponseOutputTokensDetails),
        "total_tokens": None,
    }


class ResponseError(BaseModel):
    """What went wrong in a ``failed`` Response."""

    _fields = {"code": None, "message": None}


class ResponseIncompleteDetails(BaseModel):
    """Why a Response is ``incomplete``: ``max_output_tokens`` or ``content_filter``."""

    _fields = {"reason": None}


class Response(BaseModel):
    """A Responses API answer (``object: "response"``), plus the gateway's facts under
    ``switchpoint``; ``output_text`` joins the text of every ``output_text`` part."""

    _fields = {
        "id": None,
        "object": None,
        "created_at": None,
        "status": None,
        "model": None,
        "output": _items,
        "usage": _one(ResponseUsage),
        "incomplete_details": _one(ResponseIncompleteDetails),
        "error": _one(ResponseError),
        "instructions": None,
        "tools": None,
        "tool_choice": None,
        "temperature": None,
        "top_p": None,
        "max_output_tokens": None,
        "parallel_tool_calls": None,
        "metadata": None,
        "previous_response_id": None,
        "text": None,
        "user": None,
        "store": None,
        "switchpoint": _one(SwitchpointFacts),
    }

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message item, joined (like the
        openai package's ``Response.output_text``)."""
        texts = []
        for item in self.output or ():
            if getattr(item, "type", None) == "message":
                for part in item.content or ():
                    if getattr(part, "type", None) == "output_text":
                        texts.append(part.text or "")
        return "".join(texts)


_ITEM_CLASSES.update(message=ResponseOutputMessage, function_call=ResponseFunctionToolCall)


class ResponseStreamEvent(BaseModel):
    """One event of a streamed Response; ``type`` names it (``response.created``,
    ``response.output_text.delta``, ... ``response.completed``) and says which fields it
    has. The last event's ``response`` carries usage and the gateway's facts."""

    _fields = {
        "type": None,
        "sequence_number": None,
        "response": _one(Response),
        "output_index": None,
        "item": _item,
        "item_id": None,
        "content_index": None,
        "part": _part,
        "delta": None,
        "text": None,
        "refusal": None,
        "name": None,
        "arguments": None,
        "logprobs": None,
        "code": None,
        "message": None,
        "param": None,
    }


class _ReadOnly(BaseModel):
    """A model whose attributes cannot be set or deleted (query results, shared values)."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")


class UsageRow(_ReadOnly):
    """One group's totals from ``gateway.usage()``: requests, errors, cache hits, tokens, and
    cost and cache savings in USD as ``Decimal`` (``to_dict()`` keeps the wire's decimal
    text). ``group`` is the user, team, model... (None for the total row and for requests
    without one)."""

    _fields = {
        "group": None,
        "requests": None,
        "errors": None,
        "cache_hits": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "cached_tokens": None,
        "reasoning_tokens": None,
        "cost_usd": _money,
        "saved_usd": _money,
    }


class RecordTokens(BaseModel):
    """A record's tokens, split the way they are billed."""

    _fields = {"prompt": None, "completion": None, "cached": None, "cache_write": None, "reasoning": None}


class RecordCost(BaseModel):
    """A record's cost in USD (``Decimal``), by kind of token, and its ``total``."""

    _fields = {
        "input": _money,
        "cached_input": _money,
        "cache_write": _money,
        "output": _money,
        "reasoning": _money,
        "total": _money,
    }


class RecordCache(BaseModel):
    """The cache's part: ``status`` (``off``, ``miss``, ``hit``, ``semantic_hit``,
    ``coalesced``, ``bypass``) and, for hits, ``saved_usd``."""

    _fields = {"status": None, "saved_usd": _money}


class RecordCaller(BaseModel):
    """Who asked: a virtual key's id (never the key), user, team and tier."""

    _fields = {"key_id": None, "user": None, "team": None, "tier": None}


class RecordContent(BaseModel):
    """Prompt and answer text (only with ``telemetry.record_content``; redacted)."""

    _fields = {"prompt": None, "answer": None}


class RequestRecord(BaseModel):
    """One finished request, as record callbacks (``gateway.on_record``) receive it: ids,
    times, route, provider, attempts, tokens, cost, cache outcome, caller, tags, and
    ``status`` (``"ok"`` or ``"error"``, then ``error_kind``). Never holds a secret."""

    _fields = {
        "id": None,
        "call": None,
        "started_at_ms": None,
        "ended_at_ms": None,
        "latency_ms": None,
        "ttft_ms": None,
        "model": None,
        "route": None,
        "provider": None,
        "provider_model": None,
        "provider_kind": None,
        "response_id": None,
        "response_model": None,
        "finish_reasons": None,
        "attempts": _many(AttemptFact),
        "tokens": _one(RecordTokens),
        "cost": _one(RecordCost),
        "cache": _one(RecordCache),
        "caller": _one(RecordCaller),
        "tags": None,
        "status": None,
        "error_kind": None,
        "content": _one(RecordContent),
    }


def _record(text: str) -> RequestRecord:
    """A record callback's argument from the record's JSON (called by the native observer)."""
    return RequestRecord.model_validate(json.loads(text))  # type: ignore[no-any-return]
