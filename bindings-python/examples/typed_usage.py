"""Uses every public name of switchpoint with full annotations; `mypy --strict` checks it
against the stubs, and the test suite also runs it against the mock provider.

Run: MOCK_URL=http://127.0.0.1:PORT python examples/typed_usage.py
"""

from __future__ import annotations

import asyncio
import os
import pickle
from datetime import timedelta
from decimal import Decimal
from typing import Dict, List, Optional, Type

import switchpoint
from switchpoint import (
    NOT_GIVEN,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    APIUserAbortError,
    AsyncChat,
    AsyncCompletions,
    AsyncEmbeddings,
    AsyncGateway,
    AsyncKeys,
    AsyncResponses,
    AsyncStream,
    AttemptFact,
    AuditRecord,
    AuthenticationError,
    BadRequestError,
    BaseModel,
    BudgetExceededError,
    Chat,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
    ChunkChoice,
    Completions,
    CompletionTokensDetails,
    CompletionUsage,
    ConfigError,
    ContentFilteredError,
    ContextWindowExceededError,
    CoreError,
    CostFact,
    CreatedKey,
    CreateEmbeddingResponse,
    Embedding,
    Embeddings,
    EmbeddingUsage,
    Function,
    Gateway,
    GuardrailEvent,
    InternalError,
    InternalServerError,
    KeyInfo,
    Keys,
    KeySettings,
    NotFoundError,
    NotGiven,
    PermissionDeniedError,
    PolicyDeniedError,
    PromptTokensDetails,
    RateLimitError,
    RateLimitExceededError,
    RecordCache,
    RecordCaller,
    RecordContent,
    RecordCost,
    RecordSubscription,
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
    Responses,
    ResponseStreamEvent,
    ResponseUsage,
    Stream,
    SwitchpointError,
    SwitchpointFacts,
    TargetHealth,
    UsageRow,
)

ERRORS: List[Type[SwitchpointError]] = [
    APIConnectionError,
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
    InternalError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    PolicyDeniedError,
    RateLimitError,
    RateLimitExceededError,
]

WEATHER: Dict[str, object] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def config(mock: str) -> Dict[str, object]:
    return {
        "cache": {"enabled": True},
        "providers": {
            "oai": {"kind": "openai", "base_url": f"{mock}/v1", "api_key": "sk-typed"},
            "oai_native": {"kind": "openai", "base_url": f"{mock}/v1", "api_key": "sk-typed", "responses": "native"},
            "claude": {"kind": "anthropic", "base_url": mock, "api_key": "sk-ant-typed"},
        },
        "models": {
            "gpt": {"provider": "oai", "model": "gpt-4o-mini"},
            "gpt-native": {"provider": "oai_native", "model": "gpt-4o-mini"},
            "sonnet": {"provider": "claude", "model": "claude-sonnet-4-5"},
            "embed": {"provider": "oai", "model": "text-embedding-3-small"},
        },
    }


def describe_usage(usage: Optional[CompletionUsage]) -> str:
    if usage is None:
        return "no usage"
    details: Optional[PromptTokensDetails] = usage.prompt_tokens_details
    reasoning: Optional[CompletionTokensDetails] = usage.completion_tokens_details
    cached = details.cached_tokens if details is not None else None
    thought = reasoning.reasoning_tokens if reasoning is not None else None
    return f"{usage.total_tokens} tokens (cached {cached}, reasoning {thought})"


def describe_facts(facts: SwitchpointFacts) -> str:
    attempts: List[AttemptFact] = facts.attempts
    last = attempts[-1]
    return f"{facts.provider}/{facts.provider_model} {last.status} in {facts.latency_ms:.2f} ms"


def describe_health(gw: Gateway) -> str:
    targets: List[TargetHealth] = gw.health()
    return ", ".join(f"{t.provider}/{t.model} {t.state} ({t.error_rate:.0%} errors)" for t in targets)


def describe_record(record: RequestRecord) -> str:
    tokens: RecordTokens = record.tokens
    cost: Optional[RecordCost] = record.cost
    cache: RecordCache = record.cache
    caller: RecordCaller = record.caller
    content: Optional[RecordContent] = record.content
    total: Optional[Decimal] = cost.total if cost is not None else None
    shown = content.prompt if content is not None else "-"
    return f"{record.call} {record.status} {cache.status} {caller.user} {tokens.prompt}+{tokens.completion} {total} {shown}"


def telemetry(gw: Gateway) -> None:
    seen: List[str] = []
    subscription: RecordSubscription = gw.on_record(lambda r: seen.append(describe_record(r)))
    with subscription:
        for _ in range(2):
            r = gw.chat.completions.create(
                model="gpt",
                messages=[{"role": "user", "content": "cached words"}],
                user="typed-user",
                cache={"ttl": 60, "namespace": "typed"},
            )
            cost: Optional[CostFact] = r.switchpoint.cost
            print(r.switchpoint.cache, cost.usd if cost else None, cost.saved_usd if cost else None)
        flushed: bool = gw.flush_telemetry(timeout=5.0)
    print(flushed, seen)
    rows: List[UsageRow] = gw.usage(since=timedelta(hours=1), group_by="user")
    for row in rows:
        spent: Decimal = row.cost_usd
        print(row.group, row.requests, row.cache_hits, spent, row.saved_usd)
    text: str = gw.metrics_text()
    print(text.count("switchpoint_requests_total{"))


def blocking(mock: str) -> None:
    gw: Gateway = Gateway(config=config(mock))
    assert "healthy" in describe_health(gw)
    chat: Chat = gw.chat
    completions: Completions = chat.completions
    r: ChatCompletion = completions.create(
        model="gpt",
        messages=[{"role": "user", "content": "typed hello"}],
        temperature=0.2,
        max_tokens=NOT_GIVEN,
        user="typed-user",
        tags=["example"],
        timeout=10.0,
    )
    choice: Choice = r.choices[0]
    message: ChatCompletionMessage = choice.message
    print(message.content, choice.finish_reason, describe_usage(r.usage), describe_facts(r.switchpoint))

    tools = completions.create(model="gpt", messages=[{"role": "user", "content": "get_weather Oslo"}], tools=[WEATHER])
    calls: Optional[List[ChatCompletionMessageToolCall]] = tools.choices[0].message.tool_calls
    if calls:
        fn: Function = calls[0].function
        print("tool", fn.name, fn.arguments)

    stream: Stream[ChatCompletionChunk] = completions.create(
        model="sonnet", messages=[{"role": "user", "content": "a b c"}], max_tokens=10, stream=True
    )
    with stream:
        for chunk in stream:
            for cc in chunk.choices:
                part: ChunkChoice = cc
                delta: ChoiceDelta = part.delta
                pieces: List[ChoiceDeltaToolCall] = delta.tool_calls or []
                fns: List[Optional[ChoiceDeltaToolCallFunction]] = [p.function for p in pieces]
                print(repr(delta.content), len(fns))
    facts = stream.switchpoint
    if facts is not None:
        print(describe_facts(facts))

    embeddings: Embeddings = gw.embeddings
    e: CreateEmbeddingResponse = embeddings.create(model="embed", input="vector", dimensions=3)
    first: Embedding = e.data[0]
    usage: EmbeddingUsage = e.usage
    print(len(first.embedding), usage.total_tokens)

    as_model: BaseModel = r
    print(sorted(as_model.to_dict())[:3], len(r.model_dump_json()) > 0)

    try:
        completions.create(model="gpt", messages=[{"role": "robot", "content": "x"}])
    except APIError as err:
        cause = err.__cause__
        assert isinstance(cause, CoreError)
        print(type(err).__name__, err.kind, err.param, err.status_code, err.retry_after, err.provider, err.code)
        back: SwitchpointError = pickle.loads(pickle.dumps(err))
        print(back.message == err.message)
    given: NotGiven = NOT_GIVEN
    print(bool(given), [cls.__name__ for cls in ERRORS][:2], switchpoint.__version__)
    telemetry(gw)


RESPONSES_TOOL: Dict[str, object] = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def describe_item(item: ResponseOutputMessage | ResponseFunctionToolCall | ResponseOutputItem) -> str:
    if isinstance(item, ResponseOutputMessage):
        parts: List[str] = []
        for part in item.content:
            if isinstance(part, ResponseOutputRefusal):
                parts.append(f"refusal {part.refusal}")
            else:
                text_part: ResponseOutputText = part
                parts.append(text_part.text)
        return f"message {item.status} {' '.join(parts)}"
    if isinstance(item, ResponseFunctionToolCall):
        return f"function_call {item.name} {item.arguments}"
    return f"item {item.type}"


def describe_response(r: Response) -> str:
    usage: Optional[ResponseUsage] = r.usage
    if usage is not None:
        cached: ResponseInputTokensDetails = usage.input_tokens_details
        reasoning: ResponseOutputTokensDetails = usage.output_tokens_details
        tokens = f"{usage.input_tokens}+{usage.output_tokens} (cached {cached.cached_tokens}, reasoning {reasoning.reasoning_tokens})"
    else:
        tokens = "no usage"
    incomplete: Optional[ResponseIncompleteDetails] = r.incomplete_details
    error: Optional[ResponseError] = r.error
    why = incomplete.reason if incomplete is not None else (error.code if error is not None else "-")
    return f"{r.status} {why} {tokens} {r.output_text!r}"


def responses_api(mock: str) -> None:
    gw = Gateway(config=config(mock))
    responses: Responses = gw.responses
    for model in ("sonnet", "gpt-native"):
        r: Response = responses.create(model=model, input="typed responses", instructions="Be brief.")
        print(model, describe_response(r), [describe_item(i) for i in r.output])
    called = responses.create(model="sonnet", input="get_weather Oslo", tools=[RESPONSES_TOOL])
    print([describe_item(i) for i in called.output])
    events: Stream[ResponseStreamEvent] = responses.create(model="gpt-native", input="e f", stream=True)
    with events:
        for event in events:
            if event.type == "response.output_text.delta":
                print("delta", event.delta)
            elif event.response is not None and event.type == "response.completed":
                print("completed", describe_response(event.response))


def policy(mock: str) -> None:
    gw = Gateway(config={**config(mock), "virtual_keys": {"required": True}})
    keys: Keys = gw.keys
    settings: KeySettings = {"name": "typed", "models": ["gpt*"], "limits": {"rpm": 60}}
    created: CreatedKey = keys.create(settings, team="typed-team", budgets=[{"period": "day", "limit_usd": "5"}])
    r = gw.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "keyed"}], api_key=created["key"])
    print(created["id"], r.choices[0].message.content)
    listed: List[KeyInfo] = keys.list()
    info: KeyInfo = keys.update(created["id"], {"tier": "gold"}, actor="typed-admin")
    info = keys.update(created["id"], tier=None, actor="typed-admin")
    gone: KeyInfo = keys.revoke(created["id"], actor="typed-admin")
    print(len(listed), info.get("revision"), gone["revoked"], keys.get(created["id"])["source"])
    records: List[AuditRecord] = gw.audit(since=timedelta(minutes=5))
    print([(a["action"], a["actor"], a.get("target")) for a in records])
    gw.reload({**config(mock), "limits": [{"scope": "user", "rpm": 100}]}, actor="typed-deployer")

    def shout(event: GuardrailEvent) -> Optional[Dict[str, str]]:
        if event["stage"] == "output":
            return {"action": "rewrite", "content": event.get("content", "").upper()}
        return None

    async def deny_secrets(event: GuardrailEvent) -> bool:
        return not any("secret" in str(m.get("content")) for m in event.get("messages", []))

    hooks: List[int] = [gw.add_guardrail(shout), gw.add_guardrail(deny_secrets)]
    other = gw.keys.create(user="typed-hooks")
    loud = gw.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "loud"}], api_key=other["key"])
    try:
        gw.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "secret"}], api_key=other["key"])
    except PolicyDeniedError as denied:
        print("denied", denied.code)
    removed: List[bool] = [gw.remove_guardrail(h) for h in hooks]
    print(loud.choices[0].message.content, removed)


async def asynchronous(mock: str) -> None:
    async with AsyncGateway(config=config(mock)) as gw:
        chat: AsyncChat = gw.chat
        completions: AsyncCompletions = chat.completions
        r: ChatCompletion = await completions.create(model="gpt", messages=[{"role": "user", "content": "async typed"}])
        print(r.choices[0].message.content)
        stream: AsyncStream[ChatCompletionChunk] = await completions.create(
            model="gpt", messages=[{"role": "user", "content": "x y"}], stream=True
        )
        async with stream:
            async for chunk in stream:
                print(chunk.choices[0].delta.content if chunk.choices else None)
        responses: AsyncResponses = gw.responses
        answer: Response = await responses.create(model="sonnet", input="async responses")
        events: AsyncStream[ResponseStreamEvent] = await responses.create(model="gpt-native", input="g", stream=True)
        async with events:
            kinds = [event.type async for event in events]
        print(answer.output_text, kinds[0], kinds[-1])
        embeddings: AsyncEmbeddings = gw.embeddings
        with gw.on_record(lambda record: None):
            flushed: bool = await gw.flush_telemetry()
        rows: List[UsageRow] = gw.usage(group_by="model")
        print(flushed, [(row.group, row.requests) for row in rows], len(gw.metrics_text()) > 0)
        keys: AsyncKeys = gw.keys
        created: CreatedKey = await keys.create(user="async-typed", actor="typed-admin")
        print((await keys.get(created["id"]))["user"], len(await keys.list()))
        await keys.update(created["id"], user="async-typed-2")
        await keys.revoke(created["id"])
        print([a["action"] for a in await gw.audit()])
        await gw.reload(config(mock), actor="typed-deployer")
        e = await embeddings.create(model="embed", input=["a", "b"], cache={"no_store": True})
        print(len(e.data))


if __name__ == "__main__":
    url = os.environ["MOCK_URL"]
    blocking(url)
    responses_api(url)
    policy(url)
    asyncio.run(asynchronous(url))
