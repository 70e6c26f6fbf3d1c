"""switchpoint: an LLM gateway inside your process, with the openai package's surface.

    import switchpoint
    gw = switchpoint.Gateway(config={"providers": {...}, "models": {...}})
    r = gw.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}])
    print(r.choices[0].message.content, r.switchpoint.provider)

``Gateway`` blocks (releasing the GIL), ``AsyncGateway`` awaits; both share one Rust core.
"""

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
    CreateEmbeddingResponse,
    Embedding,
    EmbeddingUsage,
    Function,
    PromptTokensDetails,
    SwitchpointFacts,
    TargetHealth,
)
from ._native import ERROR_KINDS as _ERROR_KINDS
from ._native import __version__
from ._client import (
    AsyncChat,
    AsyncCompletions,
    AsyncEmbeddings,
    AsyncGateway,
    Chat,
    Completions,
    Embeddings,
    Gateway,
)
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
