"""switchpoint: an LLM gateway inside your process, with the openai package's surface.

    import switchpoint
    gw = switchpoint.Gateway(config={"providers": {...}, "models": {...}})
    r = gw.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}])
    print(r.choices[0].message.content, r.switchpoint.provider, r.switchpoint.cost)
    print(gw.responses.create(model="gpt", input="hi", instructions="be brief").output_text)
    print(gw.usage(group_by="user"), gw.metrics_text())

``Gateway`` blocks (releasing the GIL), ``AsyncGateway`` awaits; both share one Rust core.
"""

from ._client import (
    AsyncChat,
    AsyncCompletions,
    AsyncEmbeddings,
    AsyncGateway,
    AsyncResponses,
    Chat,
    Completions,
    Embeddings,
    Gateway,
    RecordSubscription,
    Responses,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    APIUserAbortError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConfigError,
    ContentFilteredError,
    ContextWindowExceededError,
    CoreError,
    InternalError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    PolicyDeniedError,
    RateLimitError,
    RateLimitExceededError,
    SwitchpointError,
)
from ._models import (
    AttemptFact,
    BaseModel,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
    ChunkChoice,
    CompletionTokensDetails,
    CompletionUsage,
    CostFact,
    CreateEmbeddingResponse,
    Embedding,
    EmbeddingUsage,
    Function,
    PromptTokensDetails,
    RecordCache,
    RecordCaller,
    RecordContent,
    RecordCost,
    RecordTokens,
    RequestRecord,
    Response,
    ResponseError,
    ResponseFunctionToolCall,
    ResponseIncompleteDetails,
    ResponseInputTokensDetails,
    ResponseOutputItem,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseOutputTokensDetails,
    ResponseStreamEvent,
    ResponseUsage,
    SwitchpointFacts,
    TargetHealth,
    UsageRow,
)
from ._native import __version__
from ._policy import AsyncKeys, Keys
from ._streaming import AsyncStream, Stream
from ._types import NOT_GIVEN, NotGiven

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
    # responses
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
    # the Responses API
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
    # telemetry
    "UsageRow",
    "RequestRecord",
    "RecordTokens",
    "RecordCost",
    "RecordCache",
    "RecordCaller",
    "RecordContent",
    "RecordSubscription",
    # keys, audit, reload, guardrails
    "Keys",
    "AsyncKeys",
    "KeySettings",
    "KeyInfo",
    "CreatedKey",
    "AuditRecord",
    "GuardrailEvent",
    # errors
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


#: Typed dicts of the admin surface, defined on first use: they need `typing`, which
#: `import switchpoint` does not import.
_TYPED_DICTS = frozenset({"KeySettings", "KeyInfo", "CreatedKey", "AuditRecord", "GuardrailEvent"})


def __getattr__(name: str) -> object:
    if name in _TYPED_DICTS:
        from . import _policy_types

        value = getattr(_policy_types, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'switchpoint' has no attribute {name!r}")
