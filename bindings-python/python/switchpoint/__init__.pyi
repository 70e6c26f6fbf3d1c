"""Type stubs for switchpoint: an LLM gateway inside your process, with the openai package's surface."""

import datetime
import os
from decimal import Decimal
from typing import (
    Any,
    Awaitable,
    Callable,
    ClassVar,
    Dict,
    Generic,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    TypeVar,
    Union,
    overload,
)

from typing_extensions import NotRequired, Self, TypeAlias, TypedDict, Unpack

from . import _native

__all__ = [
    "__version__",
    "Gateway",
    "AsyncGateway",
    "Chat",
    "Completions",
    "Embeddings",
    "AsyncChat",
    "AsyncCompletions",
    "AsyncEmbeddings",
    "Responses",
    "AsyncResponses",
    "Stream",
    "AsyncStream",
    "NOT_GIVEN",
    "NotGiven",
    "BaseModel",
    "ChatCompletion",
    "Choice",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "Function",
    "CompletionUsage",
    "PromptTokensDetails",
    "CompletionTokensDetails",
    "ChatCompletionChunk",
    "ChunkChoice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "CreateEmbeddingResponse",
    "Embedding",
    "EmbeddingUsage",
    "SwitchpointFacts",
    "TargetHealth",
    "AttemptFact",
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
    "RecordSubscription",
    "Keys",
    "AsyncKeys",
    "KeySettings",
    "KeyInfo",
    "CreatedKey",
    "AuditRecord",
    "GuardrailEvent",
    "SwitchpointError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "ContextWindowExceededError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "RateLimitError",
    "RateLimitExceededError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "APIResponseValidationError",
    "APIUserAbortError",
    "ContentFilteredError",
    "BudgetExceededError",
    "PolicyDeniedError",
    "ConfigError",
    "InternalError",
    "CoreError",
]

__version__: str

# ---------------------------------------------------------------------------------------------
# Arguments

class NotGiven:
    """The openai package's "argument not given" sentinel."""

    def __bool__(self) -> Literal[False]: ...

NOT_GIVEN: NotGiven

#: A message in ``messages``: the OpenAI wire dict, or a message object from a response.
_MessageParam: TypeAlias = Union[Mapping[str, Any], "ChatCompletionMessage"]
#: Responses ``input``: one user text, or a list of input items (messages, ``function_call``
#: and ``function_call_output`` items, ...) as wire dicts or output items from a Response.
_ResponsesInput: TypeAlias = Union[
    str, Iterable[Union[Mapping[str, Any], "ResponseOutputMessage", "ResponseFunctionToolCall"]]
]
#: Embeddings input: a text, texts, tokens or lists of tokens.
_EmbeddingInput: TypeAlias = Union[str, Sequence[str], Sequence[int], Sequence[Sequence[int]]]
#: A gateway config: a dict, YAML/JSON text, a file path, or None for zero-config.
_Config: TypeAlias = Union[Mapping[str, Any], str, bytes, "os.PathLike[str]", None]

class _CacheOptions(TypedDict, total=False):
    """Per-request cache controls (the ``cache=`` keyword)."""

    #: Do not answer from the cache (the answer may still be stored).
    no_read: bool
    #: Do not store this answer.
    no_store: bool
    #: Time to live of the stored answer, seconds (overrides the route's).
    ttl: float
    #: Ask the provider again and replace the stored answer.
    refresh: bool
    #: A sub-namespace inside the caller's own (never another tenant's).
    namespace: str

#: ``usage(group_by=...)``.
_GroupBy: TypeAlias = Literal["total", "user", "team", "model", "route", "provider", "tag", "key"]
#: ``usage(since=...)``: everything (None), a time (naive = local), that long ago, unix seconds.
_Since: TypeAlias = Union[None, datetime.datetime, datetime.timedelta, float]
#: What the cache did for a request.
_CacheStatus: TypeAlias = Literal["miss", "hit", "semantic_hit", "coalesced", "bypass"]

# ---------------------------------------------------------------------------------------------
# Responses

class _ModelMeta(type): ...

class BaseModel(metaclass=_ModelMeta):
    """Base of every response object: attribute access, dumps, equality, pickling."""

    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __init__(self, **data: Any) -> None: ...
    @classmethod
    def model_validate(cls, obj: Dict[str, Any]) -> Self: ...
    @classmethod
    def model_validate_json(cls, data: Union[str, bytes]) -> Self: ...
    @property
    def model_extra(self) -> Dict[str, Any]: ...
    def to_dict(self, *, exclude_unset: bool = True, exclude_none: bool = False) -> Dict[str, Any]: ...
    def to_json(self, *, indent: Optional[int] = 2, exclude_unset: bool = True, exclude_none: bool = False) -> str: ...
    def model_dump(self, *, exclude_unset: bool = False, exclude_none: bool = False) -> Dict[str, Any]: ...
    def model_dump_json(
        self, *, indent: Optional[int] = None, exclude_unset: bool = False, exclude_none: bool = False
    ) -> str: ...

class AttemptFact(BaseModel):
    """One try at one provider."""

    provider: str
    provider_model: str
    status: Literal["ok", "error"]
    #: The error kind when ``status`` is ``"error"``.
    error: Optional[str]
    latency_ms: float
    #: The route the attempt belonged to (a fallback route may differ from the first).
    route: Optional[str]
    #: Time spent waiting before this attempt (backoff, Retry-After, a cooldown), ms.
    waited_ms: Optional[float]
    #: Whether this attempt was a hedge (a parallel try after the first was slow).
    hedge: Optional[bool]
    #: Whether this attempt resumed a cut stream.
    resumed: Optional[bool]
    #: The error message when ``status`` is ``"error"``.
    message: Optional[str]

class CostFact(BaseModel):
    """What a request cost, USD."""

    #: Paid for this request (``0`` for a cache hit).
    usd: Decimal
    #: For a cache hit: what the stored answer cost when it was made.
    saved_usd: Optional[Decimal]

class SwitchpointFacts(BaseModel):
    """What the gateway did: who served the answer, every attempt, latency and overhead."""

    provider: str
    provider_model: str
    model: str
    attempts: List[AttemptFact]
    latency_ms: float
    ttft_ms: Optional[float]
    overhead_us: float
    #: The route that served the request, and the routes whose rules sent it there.
    route: Optional[str]
    routed_via: Optional[List[str]]
    #: What the cache did; None on routes without a cache.
    cache: Optional[_CacheStatus]
    #: What the request cost; None when the model has no price.
    cost: Optional[CostFact]

class TargetHealth(BaseModel):
    """One target's state from ``gateway.health()``."""

    provider: str
    model: str
    routes: List[str]
    tags: List[str]
    state: Literal["healthy", "cooling_down", "half_open"]
    cooling_until_unix_ms: Optional[int]
    cooldown_remaining_s: Optional[float]
    cooldown_reason: Optional[str]
    ewma_latency_ms: Optional[float]
    p95_latency_ms: Optional[float]
    error_rate: float
    in_flight: int
    requests: int
    failures: int
    requests_last_minute: float
    tokens_last_minute: float

class Function(BaseModel):
    name: str
    arguments: str

class ChatCompletionMessageToolCall(BaseModel):
    id: str
    type: Literal["function"]
    function: Function

class ChatCompletionMessage(BaseModel):
    role: Literal["assistant"]
    content: Optional[str]
    refusal: Optional[str]
    tool_calls: Optional[List[ChatCompletionMessageToolCall]]
    annotations: Optional[List[Dict[str, Any]]]
    audio: Optional[Dict[str, Any]]
    #: Deprecated by OpenAI in favour of tool_calls.
    function_call: Optional[Function]

class PromptTokensDetails(BaseModel):
    cached_tokens: Optional[int]
    cache_creation_tokens: Optional[int]
    audio_tokens: Optional[int]

class CompletionTokensDetails(BaseModel):
    reasoning_tokens: Optional[int]
    audio_tokens: Optional[int]
    accepted_prediction_tokens: Optional[int]
    rejected_prediction_tokens: Optional[int]

class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: Optional[PromptTokensDetails]
    completion_tokens_details: Optional[CompletionTokensDetails]

_FinishReason: TypeAlias = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]

class Choice(BaseModel):
    index: int
    message: ChatCompletionMessage
    finish_reason: Optional[_FinishReason]
    logprobs: Optional[Dict[str, Any]]

class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: List[Choice]
    usage: Optional[CompletionUsage]
    system_fingerprint: Optional[str]
    service_tier: Optional[str]
    #: The gateway's facts (always set on answers from the gateway).
    switchpoint: SwitchpointFacts

class ChoiceDeltaToolCallFunction(BaseModel):
    name: Optional[str]
    arguments: Optional[str]

class ChoiceDeltaToolCall(BaseModel):
    index: int
    id: Optional[str]
    type: Optional[Literal["function"]]
    function: Optional[ChoiceDeltaToolCallFunction]

class ChoiceDelta(BaseModel):
    role: Optional[Literal["assistant"]]
    content: Optional[str]
    refusal: Optional[str]
    tool_calls: Optional[List[ChoiceDeltaToolCall]]
    #: Deprecated by OpenAI in favour of tool_calls.
    function_call: Optional[ChoiceDeltaToolCallFunction]

class ChunkChoice(BaseModel):
    index: int
    delta: ChoiceDelta
    finish_reason: Optional[_FinishReason]
    logprobs: Optional[Dict[str, Any]]

class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: List[ChunkChoice]
    usage: Optional[CompletionUsage]
    system_fingerprint: Optional[str]
    service_tier: Optional[str]
    #: Set on the final usage chunk (with ``stream_options={"include_usage": True}``).
    switchpoint: Optional[SwitchpointFacts]

class Embedding(BaseModel):
    object: Literal["embedding"]
    index: int
    #: Floats; base64 text when ``encoding_format="base64"`` was asked for.
    embedding: List[float]

class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int

class CreateEmbeddingResponse(BaseModel):
    object: Literal["list"]
    data: List[Embedding]
    model: str
    usage: EmbeddingUsage
    switchpoint: SwitchpointFacts

# ---------------------------------------------------------------------------------------------
# The Responses API

class ResponseOutputText(BaseModel):
    type: Literal["output_text"]
    text: str
    annotations: List[Dict[str, Any]]
    logprobs: Optional[List[Dict[str, Any]]]

class ResponseOutputRefusal(BaseModel):
    type: Literal["refusal"]
    refusal: str

class ResponseOutputMessage(BaseModel):
    """An assistant ``message`` output item."""

    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    status: Literal["in_progress", "completed", "incomplete"]
    content: List[Union[ResponseOutputText, ResponseOutputRefusal]]

class ResponseFunctionToolCall(BaseModel):
    """A ``function_call`` output item; answer it with a ``function_call_output`` item."""

    id: Optional[str]
    type: Literal["function_call"]
    call_id: str
    name: str
    #: JSON text.
    arguments: str
    status: Optional[Literal["in_progress", "completed", "incomplete"]]

class ResponseOutputItem(BaseModel):
    """Any other output item; its fields read as attributes."""

    id: Optional[str]
    type: str
    def __getattr__(self, name: str) -> Any: ...

_OutputItem: TypeAlias = Union[ResponseOutputMessage, ResponseFunctionToolCall, ResponseOutputItem]

class ResponseInputTokensDetails(BaseModel):
    cached_tokens: int
    #: Input tokens written to the provider's prompt cache (switchpoint).
    cache_write_tokens: Optional[int]

class ResponseOutputTokensDetails(BaseModel):
    reasoning_tokens: int

class ResponseUsage(BaseModel):
    input_tokens: int
    input_tokens_details: ResponseInputTokensDetails
    output_tokens: int
    output_tokens_details: ResponseOutputTokensDetails
    total_tokens: int

class ResponseError(BaseModel):
    code: str
    message: str

class ResponseIncompleteDetails(BaseModel):
    reason: Literal["max_output_tokens", "content_filter"]

class Response(BaseModel):
    """A Responses API answer, plus the gateway's facts under ``switchpoint``."""

    id: str
    object: Literal["response"]
    created_at: float
    status: Literal["completed", "failed", "in_progress", "cancelled", "queued", "incomplete"]
    model: str
    output: List[_OutputItem]
    usage: Optional[ResponseUsage]
    incomplete_details: Optional[ResponseIncompleteDetails]
    error: Optional[ResponseError]
    instructions: Optional[str]
    tools: List[Dict[str, Any]]
    tool_choice: Union[str, Dict[str, Any], None]
    temperature: Optional[float]
    top_p: Optional[float]
    max_output_tokens: Optional[int]
    parallel_tool_calls: bool
    metadata: Optional[Dict[str, str]]
    previous_response_id: Optional[str]
    text: Optional[Dict[str, Any]]
    user: Optional[str]
    store: Optional[bool]
    #: The gateway's facts (set on answers and on the final stream event's Response).
    switchpoint: Optional[SwitchpointFacts]
    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message item, joined."""

class ResponseStreamEvent(BaseModel):
    """One event of a streamed Response; ``type`` says which fields it has."""

    type: str
    sequence_number: int
    #: ``response.created`` / ``.in_progress`` / ``.completed`` / ``.incomplete`` / ``.failed``.
    response: Optional[Response]
    output_index: Optional[int]
    #: ``response.output_item.added`` / ``.done``.
    item: Optional[_OutputItem]
    item_id: Optional[str]
    content_index: Optional[int]
    #: ``response.content_part.added`` / ``.done``.
    part: Optional[Union[ResponseOutputText, ResponseOutputRefusal]]
    #: Text, refusal or argument fragments of ``*.delta`` events.
    delta: Optional[str]
    #: ``response.output_text.done``.
    text: Optional[str]
    refusal: Optional[str]
    #: ``response.function_call_arguments.done``.
    name: Optional[str]
    arguments: Optional[str]
    logprobs: Optional[List[Dict[str, Any]]]
    #: ``error`` events.
    code: Optional[str]
    message: Optional[str]
    param: Optional[str]

# ---------------------------------------------------------------------------------------------
# Telemetry

class UsageRow(BaseModel):
    """One group's totals from ``gateway.usage()`` (read-only)."""

    #: The user, team, model... of this row; None for the total row and requests without one.
    group: Optional[str]
    requests: int
    errors: int
    #: Requests answered from the cache (exact, semantic or coalesced).
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cost_usd: Decimal
    #: What cache hits saved.
    saved_usd: Decimal
    def __setattr__(self, name: str, value: Any) -> None: ...
    def __delattr__(self, name: str) -> None: ...

class RecordTokens(BaseModel):
    """A record's tokens, split the way they are billed."""

    prompt: int
    completion: int
    cached: int
    cache_write: int
    reasoning: int

class RecordCost(BaseModel):
    """A record's cost in USD by kind of token."""

    input: Decimal
    cached_input: Decimal
    cache_write: Decimal
    output: Decimal
    reasoning: Decimal
    total: Decimal

class RecordCache(BaseModel):
    """The cache's part in a request."""

    status: Literal["off", "miss", "hit", "semantic_hit", "coalesced", "bypass"]
    saved_usd: Optional[Decimal]

class RecordCaller(BaseModel):
    """Who asked (a key's id, never the key)."""

    key_id: Optional[str]
    user: Optional[str]
    team: Optional[str]
    tier: Optional[str]

class RecordContent(BaseModel):
    """Prompt and answer text (with ``telemetry.record_content``; redacted)."""

    prompt: str
    answer: str

class RequestRecord(BaseModel):
    """One finished request, as ``gateway.on_record`` callbacks receive it."""

    id: str
    call: Literal["chat", "chat_stream", "embed"]
    started_at_ms: int
    ended_at_ms: int
    latency_ms: float
    ttft_ms: Optional[float]
    #: The model name the caller asked for, and the route that served it.
    model: str
    route: str
    provider: str
    provider_model: str
    provider_kind: str
    response_id: Optional[str]
    response_model: Optional[str]
    finish_reasons: Optional[List[str]]
    attempts: List[AttemptFact]
    tokens: RecordTokens
    #: None when the model has no price.
    cost: Optional[RecordCost]
    cache: RecordCache
    caller: RecordCaller
    tags: List[str]
    status: Literal["ok", "error"]
    #: The error kind when ``status`` is ``"error"``.
    error_kind: Optional[str]
    content: Optional[RecordContent]

class RecordSubscription:
    """A record callback; ``remove()`` stops it, also as a context manager."""

    def __init__(self, native: _native.Gateway, handle: int) -> None: ...
    @property
    def active(self) -> bool: ...
    def remove(self) -> bool: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...

# ---------------------------------------------------------------------------------------------
# Virtual keys, the audit log, reloads

#: A budget's period (UTC calendar periods; ``total`` never resets).
_Period: TypeAlias = Literal["day", "week", "month", "total"]
#: Money: decimal text (as answers give it) or a number.
_Usd: TypeAlias = Union[str, float, int, Decimal]

class _KeyBudgetParam(TypedDict):
    period: _Period
    limit_usd: _Usd
    #: Spending past this only alerts (a log, a metric, an audit record).
    soft_limit_usd: NotRequired[_Usd]

class _KeyBudget(TypedDict):
    period: _Period
    #: Decimal text (``"20"``, ``"0.5"``).
    limit_usd: str
    soft_limit_usd: NotRequired[str]

class _KeyLimits(TypedDict, total=False):
    #: Requests per minute (any trailing 60 seconds).
    rpm: int
    #: Tokens per minute.
    tpm: int
    #: Requests in flight at once.
    in_flight: int

class KeySettings(TypedDict, total=False):
    """What a virtual key allows and who it speaks for (``keys.create``, ``keys.update``)."""

    #: Your own key value (at least 20 characters) instead of a generated one.
    key: str
    #: A label for people.
    name: str
    user: str
    team: str
    tier: str
    #: Model names (as requested) the key may use; ``*`` matches any run of characters.
    models: Sequence[str]
    #: Routes the key may reach.
    routes: Sequence[str]
    budgets: Sequence[_KeyBudgetParam]
    limits: _KeyLimits
    #: Unix seconds, an RFC 3339 time or a ``datetime``, after which the key is refused.
    expires_at: Union[float, str, datetime.datetime]
    metadata: Mapping[str, Any]

class _KeyPatch(TypedDict, total=False):
    """``keys.update`` settings: a JSON merge patch (None removes a setting)."""

    name: Optional[str]
    user: Optional[str]
    team: Optional[str]
    tier: Optional[str]
    models: Optional[Sequence[str]]
    routes: Optional[Sequence[str]]
    budgets: Optional[Sequence[_KeyBudgetParam]]
    limits: Optional[_KeyLimits]
    expires_at: Union[float, str, datetime.datetime, None]
    metadata: Optional[Mapping[str, Any]]

class KeyInfo(TypedDict):
    """A virtual key as the admin calls answer it: everything but its value."""

    #: ``key-`` and the first 16 hex digits of the key's BLAKE3 hash.
    id: str
    #: Defined in config, or created through ``keys.create``.
    source: Literal["config", "api"]
    revoked: bool
    expires_at_ms: NotRequired[int]
    created_at_ms: NotRequired[int]
    created_by: NotRequired[str]
    updated_at_ms: NotRequired[int]
    #: Changes so far (1 when created).
    revision: NotRequired[int]
    name: NotRequired[str]
    user: NotRequired[str]
    team: NotRequired[str]
    tier: NotRequired[str]
    models: NotRequired[List[str]]
    routes: NotRequired[List[str]]
    budgets: NotRequired[List[_KeyBudget]]
    limits: NotRequired[_KeyLimits]
    expires_at: NotRequired[Union[float, str]]
    metadata: NotRequired[Dict[str, Any]]

class CreatedKey(KeyInfo):
    """A key just created: the only time its value is shown."""

    #: The key to hand to the application; switchpoint keeps only its hash.
    key: str

class AuditRecord(TypedDict):
    """One administrative change."""

    #: Unix milliseconds.
    at_ms: int
    #: Who made the change (the ``actor`` an admin call named, or ``config``/``gateway``).
    actor: str
    #: ``key_created``, ``key_updated``, ``key_revoked``, ``config_reloaded``,
    #: ``budget_soft_limit``, ...
    action: str
    #: What it changed (a key id, a budget counter), when it names one thing.
    target: NotRequired[str]
    details: NotRequired[Any]

class GuardrailEvent(TypedDict):
    """What a guardrail hook sees: a request's input or an answer, and who is calling."""

    stage: Literal["input", "output"]
    #: The request's messages (input only), as wire dicts.
    messages: NotRequired[List[Dict[str, Any]]]
    #: The answer's text (output only).
    content: NotRequired[str]
    #: The model name the caller asked for.
    model: str
    user: NotRequired[str]
    team: NotRequired[str]
    #: The virtual key's id (never the key).
    key_id: NotRequired[str]
    tier: NotRequired[str]
    tags: List[str]
    metadata: Dict[str, Any]

#: A hook's answer: None or True allow, False denies, or
#: ``{"action": "allow" | "deny" | "rewrite", "reason": ..., "messages": [...] | "content": ...}``.
_GuardrailVerdict: TypeAlias = Union[None, bool, Mapping[str, Any]]
#: A guardrail hook: a function or an ``async def`` function of the event.
_GuardrailHook: TypeAlias = Callable[[GuardrailEvent], Union[_GuardrailVerdict, Awaitable[_GuardrailVerdict]]]

#: ``reload(config)``: a dict, YAML/JSON text or a file path.
_ReloadConfig: TypeAlias = Union[Mapping[str, Any], str, bytes, "os.PathLike[str]"]
#: ``audit(since=...)``: unix seconds, a time (naive = local) or that long ago.
_AuditSince: TypeAlias = Union[float, datetime.datetime, datetime.timedelta]

class Keys:
    """``gw.keys``: virtual keys (their values are shown once, in ``create``'s answer)."""

    def __init__(self, native: _native.Gateway) -> None: ...
    def create(
        self, spec: Optional[KeySettings] = None, *, actor: str = "api", **settings: Unpack[KeySettings]
    ) -> CreatedKey: ...
    def list(self) -> List[KeyInfo]: ...
    def get(self, id: str) -> KeyInfo: ...
    def update(
        self, id: str, patch: Optional[_KeyPatch] = None, *, actor: str = "api", **settings: Unpack[_KeyPatch]
    ) -> KeyInfo: ...
    def revoke(self, id: str, *, actor: str = "api") -> KeyInfo: ...

class AsyncKeys:
    """``gw.keys`` of an AsyncGateway."""

    def __init__(self, native: _native.Gateway) -> None: ...
    async def create(
        self, spec: Optional[KeySettings] = None, *, actor: str = "api", **settings: Unpack[KeySettings]
    ) -> CreatedKey: ...
    async def list(self) -> List[KeyInfo]: ...
    async def get(self, id: str) -> KeyInfo: ...
    async def update(
        self, id: str, patch: Optional[_KeyPatch] = None, *, actor: str = "api", **settings: Unpack[_KeyPatch]
    ) -> KeyInfo: ...
    async def revoke(self, id: str, *, actor: str = "api") -> KeyInfo: ...

# ---------------------------------------------------------------------------------------------
# Streams

_T = TypeVar("_T")

class Stream(Generic[_T]):
    """A blocking iterator of chunks or events; leaving early cancels the upstream request."""

    def __init__(self, native: _native.Stream, cast: Any = ...) -> None: ...
    def __iter__(self) -> Self: ...
    def __next__(self) -> _T: ...
    def close(self) -> None: ...
    @property
    def switchpoint(self) -> Optional[SwitchpointFacts]: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...

class AsyncStream(Generic[_T]):
    """An async iterator of chunks or events; leaving early cancels the upstream request."""

    def __init__(self, native: _native.Stream, cast: Any = ...) -> None: ...
    def __aiter__(self) -> Self: ...
    async def __anext__(self) -> _T: ...
    async def close(self) -> None: ...
    async def aclose(self) -> None: ...
    @property
    def switchpoint(self) -> Optional[SwitchpointFacts]: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...

# ---------------------------------------------------------------------------------------------
# Gateways

class Completions:
    """``gw.chat.completions``."""
    def __init__(self, native: _native.Gateway) -> None: ...
    @overload
    def create(
        self,
        *,
        messages: Iterable[_MessageParam],
        model: str,
        stream: Literal[False] = ...,
        audio: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        frequency_penalty: Union[Optional[float], NotGiven] = ...,
        function_call: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        functions: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        logit_bias: Union[Optional[Mapping[str, int]], NotGiven] = ...,
        logprobs: Union[Optional[bool], NotGiven] = ...,
        max_completion_tokens: Union[Optional[int], NotGiven] = ...,
        max_tokens: Union[Optional[int], NotGiven] = ...,
        modalities: Union[Optional[Sequence[str]], NotGiven] = ...,
        n: Union[Optional[int], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        prediction: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        presence_penalty: Union[Optional[float], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        reasoning_effort: Union[Optional[str], NotGiven] = ...,
        response_format: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        seed: Union[Optional[int], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        stop: Union[Union[str, Sequence[str], None], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        verbosity: Union[Optional[str], NotGiven] = ...,
        web_search_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> ChatCompletion: ...
    @overload
    def create(
        self,
        *,
        messages: Iterable[_MessageParam],
        model: str,
        stream: Literal[True],
        audio: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        frequency_penalty: Union[Optional[float], NotGiven] = ...,
        function_call: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        functions: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        logit_bias: Union[Optional[Mapping[str, int]], NotGiven] = ...,
        logprobs: Union[Optional[bool], NotGiven] = ...,
        max_completion_tokens: Union[Optional[int], NotGiven] = ...,
        max_tokens: Union[Optional[int], NotGiven] = ...,
        modalities: Union[Optional[Sequence[str]], NotGiven] = ...,
        n: Union[Optional[int], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        prediction: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        presence_penalty: Union[Optional[float], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        reasoning_effort: Union[Optional[str], NotGiven] = ...,
        response_format: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        seed: Union[Optional[int], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        stop: Union[Union[str, Sequence[str], None], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        verbosity: Union[Optional[str], NotGiven] = ...,
        web_search_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> Stream[ChatCompletionChunk]: ...
    @overload
    def create(
        self,
        *,
        messages: Iterable[_MessageParam],
        model: str,
        stream: bool,
        audio: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        frequency_penalty: Union[Optional[float], NotGiven] = ...,
        function_call: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        functions: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        logit_bias: Union[Optional[Mapping[str, int]], NotGiven] = ...,
        logprobs: Union[Optional[bool], NotGiven] = ...,
        max_completion_tokens: Union[Optional[int], NotGiven] = ...,
        max_tokens: Union[Optional[int], NotGiven] = ...,
        modalities: Union[Optional[Sequence[str]], NotGiven] = ...,
        n: Union[Optional[int], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        prediction: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        presence_penalty: Union[Optional[float], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        reasoning_effort: Union[Optional[str], NotGiven] = ...,
        response_format: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        seed: Union[Optional[int], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        stop: Union[Union[str, Sequence[str], None], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        verbosity: Union[Optional[str], NotGiven] = ...,
        web_search_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> Union[ChatCompletion, Stream[ChatCompletionChunk]]: ...

class Chat:
    def __init__(self, native: _native.Gateway) -> None: ...
    completions: Completions

class Embeddings:
    """``gw.embeddings``."""
    def __init__(self, native: _native.Gateway) -> None: ...
    def create(
        self,
        *,
        input: _EmbeddingInput,
        model: str,
        dimensions: Union[Optional[int], NotGiven] = ...,
        encoding_format: Union[Optional[Literal["float", "base64"]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> CreateEmbeddingResponse:
        """Embeddings for one or more inputs."""

class Responses:
    """``gw.responses``: the OpenAI Responses API over every provider."""
    def __init__(self, native: _native.Gateway) -> None: ...
    @overload
    def create(
        self,
        *,
        model: str,
        stream: Literal[False] = ...,
        input: Union[_ResponsesInput, NotGiven] = ...,
        background: Union[Optional[bool], NotGiven] = ...,
        context_management: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        conversation: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        include: Union[Optional[Sequence[str]], NotGiven] = ...,
        instructions: Union[Optional[str], NotGiven] = ...,
        max_output_tokens: Union[Optional[int], NotGiven] = ...,
        max_tool_calls: Union[Optional[int], NotGiven] = ...,
        moderation: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        previous_response_id: Union[Optional[str], NotGiven] = ...,
        prompt: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        prompt_cache_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_retention: Union[Optional[str], NotGiven] = ...,
        reasoning: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        text: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        truncation: Union[Optional[Literal["auto", "disabled"]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> Response: ...
    @overload
    def create(
        self,
        *,
        model: str,
        stream: Literal[True],
        input: Union[_ResponsesInput, NotGiven] = ...,
        background: Union[Optional[bool], NotGiven] = ...,
        context_management: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        conversation: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        include: Union[Optional[Sequence[str]], NotGiven] = ...,
        instructions: Union[Optional[str], NotGiven] = ...,
        max_output_tokens: Union[Optional[int], NotGiven] = ...,
        max_tool_calls: Union[Optional[int], NotGiven] = ...,
        moderation: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        previous_response_id: Union[Optional[str], NotGiven] = ...,
        prompt: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        prompt_cache_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_retention: Union[Optional[str], NotGiven] = ...,
        reasoning: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        text: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        truncation: Union[Optional[Literal["auto", "disabled"]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> Stream[ResponseStreamEvent]: ...
    @overload
    def create(
        self,
        *,
        model: str,
        stream: bool,
        input: Union[_ResponsesInput, NotGiven] = ...,
        background: Union[Optional[bool], NotGiven] = ...,
        context_management: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        conversation: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        include: Union[Optional[Sequence[str]], NotGiven] = ...,
        instructions: Union[Optional[str], NotGiven] = ...,
        max_output_tokens: Union[Optional[int], NotGiven] = ...,
        max_tool_calls: Union[Optional[int], NotGiven] = ...,
        moderation: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        previous_response_id: Union[Optional[str], NotGiven] = ...,
        prompt: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        prompt_cache_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_retention: Union[Optional[str], NotGiven] = ...,
        reasoning: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        text: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        truncation: Union[Optional[Literal["auto", "disabled"]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> Union[Response, Stream[ResponseStreamEvent]]: ...

class Gateway:
    """The blocking gateway; safe to share between threads."""

    chat: Chat
    embeddings: Embeddings
    responses: Responses
    keys: Keys
    def __init__(self, config: _Config = None) -> None: ...
    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> Self: ...
    @classmethod
    def from_env(cls) -> Self: ...
    def rebuild(self) -> None: ...
    def health(self) -> List[TargetHealth]: ...
    def metrics_text(self) -> str: ...
    def usage(self, since: _Since = None, group_by: _GroupBy = "total") -> List[UsageRow]: ...
    def on_record(self, callback: Callable[[RequestRecord], object]) -> RecordSubscription: ...
    def add_guardrail(self, fn: _GuardrailHook) -> int: ...
    def remove_guardrail(self, id: int) -> bool: ...
    def flush_telemetry(self, timeout: float = 5.0) -> bool: ...
    def audit(self, since: _AuditSince = 0) -> List[AuditRecord]: ...
    def reload(self, config: _ReloadConfig, *, actor: str = "api") -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...

class AsyncCompletions:
    """``gw.chat.completions`` of an AsyncGateway."""
    def __init__(self, native: _native.Gateway) -> None: ...
    @overload
    async def create(
        self,
        *,
        messages: Iterable[_MessageParam],
        model: str,
        stream: Literal[False] = ...,
        audio: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        frequency_penalty: Union[Optional[float], NotGiven] = ...,
        function_call: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        functions: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        logit_bias: Union[Optional[Mapping[str, int]], NotGiven] = ...,
        logprobs: Union[Optional[bool], NotGiven] = ...,
        max_completion_tokens: Union[Optional[int], NotGiven] = ...,
        max_tokens: Union[Optional[int], NotGiven] = ...,
        modalities: Union[Optional[Sequence[str]], NotGiven] = ...,
        n: Union[Optional[int], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        prediction: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        presence_penalty: Union[Optional[float], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        reasoning_effort: Union[Optional[str], NotGiven] = ...,
        response_format: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        seed: Union[Optional[int], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        stop: Union[Union[str, Sequence[str], None], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        verbosity: Union[Optional[str], NotGiven] = ...,
        web_search_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> ChatCompletion: ...
    @overload
    async def create(
        self,
        *,
        messages: Iterable[_MessageParam],
        model: str,
        stream: Literal[True],
        audio: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        frequency_penalty: Union[Optional[float], NotGiven] = ...,
        function_call: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        functions: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        logit_bias: Union[Optional[Mapping[str, int]], NotGiven] = ...,
        logprobs: Union[Optional[bool], NotGiven] = ...,
        max_completion_tokens: Union[Optional[int], NotGiven] = ...,
        max_tokens: Union[Optional[int], NotGiven] = ...,
        modalities: Union[Optional[Sequence[str]], NotGiven] = ...,
        n: Union[Optional[int], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        prediction: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        presence_penalty: Union[Optional[float], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        reasoning_effort: Union[Optional[str], NotGiven] = ...,
        response_format: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        seed: Union[Optional[int], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        stop: Union[Union[str, Sequence[str], None], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        verbosity: Union[Optional[str], NotGiven] = ...,
        web_search_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> AsyncStream[ChatCompletionChunk]: ...
    @overload
    async def create(
        self,
        *,
        messages: Iterable[_MessageParam],
        model: str,
        stream: bool,
        audio: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        frequency_penalty: Union[Optional[float], NotGiven] = ...,
        function_call: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        functions: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        logit_bias: Union[Optional[Mapping[str, int]], NotGiven] = ...,
        logprobs: Union[Optional[bool], NotGiven] = ...,
        max_completion_tokens: Union[Optional[int], NotGiven] = ...,
        max_tokens: Union[Optional[int], NotGiven] = ...,
        modalities: Union[Optional[Sequence[str]], NotGiven] = ...,
        n: Union[Optional[int], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        prediction: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        presence_penalty: Union[Optional[float], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        reasoning_effort: Union[Optional[str], NotGiven] = ...,
        response_format: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        seed: Union[Optional[int], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        stop: Union[Union[str, Sequence[str], None], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        verbosity: Union[Optional[str], NotGiven] = ...,
        web_search_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> Union[ChatCompletion, AsyncStream[ChatCompletionChunk]]: ...

class AsyncChat:
    def __init__(self, native: _native.Gateway) -> None: ...
    completions: AsyncCompletions

class AsyncEmbeddings:
    """``gw.embeddings`` of an AsyncGateway."""
    def __init__(self, native: _native.Gateway) -> None: ...
    async def create(
        self,
        *,
        input: _EmbeddingInput,
        model: str,
        dimensions: Union[Optional[int], NotGiven] = ...,
        encoding_format: Union[Optional[Literal["float", "base64"]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> CreateEmbeddingResponse:
        """Embeddings for one or more inputs."""

class AsyncResponses:
    """``gw.responses`` of an AsyncGateway."""
    def __init__(self, native: _native.Gateway) -> None: ...
    @overload
    async def create(
        self,
        *,
        model: str,
        stream: Literal[False] = ...,
        input: Union[_ResponsesInput, NotGiven] = ...,
        background: Union[Optional[bool], NotGiven] = ...,
        context_management: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        conversation: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        include: Union[Optional[Sequence[str]], NotGiven] = ...,
        instructions: Union[Optional[str], NotGiven] = ...,
        max_output_tokens: Union[Optional[int], NotGiven] = ...,
        max_tool_calls: Union[Optional[int], NotGiven] = ...,
        moderation: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        previous_response_id: Union[Optional[str], NotGiven] = ...,
        prompt: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        prompt_cache_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_retention: Union[Optional[str], NotGiven] = ...,
        reasoning: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        text: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        truncation: Union[Optional[Literal["auto", "disabled"]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> Response: ...
    @overload
    async def create(
        self,
        *,
        model: str,
        stream: Literal[True],
        input: Union[_ResponsesInput, NotGiven] = ...,
        background: Union[Optional[bool], NotGiven] = ...,
        context_management: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        conversation: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        include: Union[Optional[Sequence[str]], NotGiven] = ...,
        instructions: Union[Optional[str], NotGiven] = ...,
        max_output_tokens: Union[Optional[int], NotGiven] = ...,
        max_tool_calls: Union[Optional[int], NotGiven] = ...,
        moderation: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        previous_response_id: Union[Optional[str], NotGiven] = ...,
        prompt: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        prompt_cache_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_retention: Union[Optional[str], NotGiven] = ...,
        reasoning: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        text: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        truncation: Union[Optional[Literal["auto", "disabled"]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> AsyncStream[ResponseStreamEvent]: ...
    @overload
    async def create(
        self,
        *,
        model: str,
        stream: bool,
        input: Union[_ResponsesInput, NotGiven] = ...,
        background: Union[Optional[bool], NotGiven] = ...,
        context_management: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        conversation: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        include: Union[Optional[Sequence[str]], NotGiven] = ...,
        instructions: Union[Optional[str], NotGiven] = ...,
        max_output_tokens: Union[Optional[int], NotGiven] = ...,
        max_tool_calls: Union[Optional[int], NotGiven] = ...,
        moderation: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        parallel_tool_calls: Union[Optional[bool], NotGiven] = ...,
        previous_response_id: Union[Optional[str], NotGiven] = ...,
        prompt: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_key: Union[Optional[str], NotGiven] = ...,
        prompt_cache_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        prompt_cache_retention: Union[Optional[str], NotGiven] = ...,
        reasoning: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        safety_identifier: Union[Optional[str], NotGiven] = ...,
        service_tier: Union[Optional[str], NotGiven] = ...,
        store: Union[Optional[bool], NotGiven] = ...,
        stream_options: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        temperature: Union[Optional[float], NotGiven] = ...,
        text: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        tool_choice: Union[Union[str, Mapping[str, Any], None], NotGiven] = ...,
        tools: Union[Optional[Iterable[Mapping[str, Any]]], NotGiven] = ...,
        top_logprobs: Union[Optional[int], NotGiven] = ...,
        top_p: Union[Optional[float], NotGiven] = ...,
        truncation: Union[Optional[Literal["auto", "disabled"]], NotGiven] = ...,
        extra_body: Union[Optional[Mapping[str, Any]], NotGiven] = ...,
        user: Union[Optional[str], NotGiven] = ...,
        tags: Union[Optional[Sequence[str]], NotGiven] = ...,
        metadata: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        api_key: Union[Optional[str], NotGiven] = ...,
        team: Union[Optional[str], NotGiven] = ...,
        tier: Union[Optional[str], NotGiven] = ...,
        timeout: Union[Optional[float], NotGiven] = ...,
        cache: Union[Optional[_CacheOptions], NotGiven] = ...,
        extra_headers: Union[Optional[Mapping[str, str]], NotGiven] = ...,
        extra_query: Union[Optional[Mapping[str, object]], NotGiven] = ...,
    ) -> Union[Response, AsyncStream[ResponseStreamEvent]]: ...

class AsyncGateway:
    """The asyncio gateway; never blocks the event loop."""

    chat: AsyncChat
    embeddings: AsyncEmbeddings
    responses: AsyncResponses
    keys: AsyncKeys
    def __init__(self, config: _Config = None) -> None: ...
    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> Self: ...
    @classmethod
    def from_env(cls) -> Self: ...
    def rebuild(self) -> None: ...
    def health(self) -> List[TargetHealth]: ...
    def metrics_text(self) -> str: ...
    def usage(self, since: _Since = None, group_by: _GroupBy = "total") -> List[UsageRow]: ...
    def on_record(self, callback: Callable[[RequestRecord], object]) -> RecordSubscription: ...
    def add_guardrail(self, fn: _GuardrailHook) -> int: ...
    def remove_guardrail(self, id: int) -> bool: ...
    async def flush_telemetry(self, timeout: float = 5.0) -> bool: ...
    async def audit(self, since: _AuditSince = 0) -> List[AuditRecord]: ...
    async def reload(self, config: _ReloadConfig, *, actor: str = "api") -> None: ...
    async def close(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...

# ---------------------------------------------------------------------------------------------
# Errors

class CoreError(Exception):
    """The error as it left the Rust core; the ``__cause__`` of a SwitchpointError."""

    error: Dict[str, Any]
    def __init__(self, display: str, error: Optional[Dict[str, Any]] = None) -> None: ...

class SwitchpointError(Exception):
    """Base of every error switchpoint raises; ``kind`` says what went wrong."""

    kind: str
    message: str
    status_code: Optional[int]
    provider: Optional[str]
    #: Seconds to wait before trying again, when the provider said.
    retry_after: Optional[float]
    param: Optional[str]
    code: Optional[str]
    #: The core's error object.
    cause: Optional[Dict[str, Any]]
    def __init__(
        self,
        message: str,
        *,
        kind: Optional[str] = None,
        status_code: Optional[int] = None,
        provider: Optional[str] = None,
        retry_after: Optional[float] = None,
        param: Optional[str] = None,
        code: Optional[str] = None,
        cause: Optional[Dict[str, Any]] = None,
    ) -> None: ...
    @property
    def body(self) -> Optional[Dict[str, Any]]: ...

APIError = SwitchpointError

class APIStatusError(SwitchpointError): ...
class BadRequestError(APIStatusError): ...
class ContextWindowExceededError(BadRequestError): ...
class AuthenticationError(APIStatusError): ...
class PermissionDeniedError(APIStatusError): ...
class NotFoundError(APIStatusError): ...
class RateLimitError(APIStatusError): ...
class RateLimitExceededError(RateLimitError): ...
class InternalServerError(APIStatusError): ...
class APIConnectionError(SwitchpointError): ...
class APITimeoutError(APIConnectionError): ...
class APIResponseValidationError(SwitchpointError): ...
class APIUserAbortError(SwitchpointError): ...
class ContentFilteredError(SwitchpointError): ...
class BudgetExceededError(SwitchpointError): ...
class PolicyDeniedError(SwitchpointError): ...
class ConfigError(SwitchpointError): ...
class InternalError(SwitchpointError): ...
