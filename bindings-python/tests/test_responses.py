"""The Responses API: `gw.responses.create(...)` on Gateway and AsyncGateway, typed Responses
and stream events, native pass-through and translation, arguments, errors, cancellation and
records."""

from __future__ import annotations

import asyncio
import json
import pickle
from decimal import Decimal
from typing import Any, Dict, Iterator, List

import pytest
import switchpoint

from .conftest import Mock

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def responses_config(url: str) -> Dict[str, Any]:
    """OpenAI with its native Responses API, OpenAI through chat, and Anthropic (translated)."""
    return {
        "providers": {
            "native": {"kind": "openai", "base_url": url + "/v1", "api_key": "sk-test", "responses": "native"},
            "chat": {"kind": "openai", "base_url": url + "/v1", "api_key": "sk-test"},
            "claude": {"kind": "anthropic", "base_url": url, "api_key": "sk-ant-test"},
        },
        "models": {
            "gpt": {"provider": "native", "model": "gpt-4o"},
            "gpt-chat": {"provider": "chat", "model": "gpt-4o"},
            "sonnet": {"provider": "claude", "model": "claude-sonnet-4-5"},
        },
    }


@pytest.fixture(scope="module")
def rgw(mock: Mock) -> switchpoint.Gateway:
    return switchpoint.Gateway(config=responses_config(mock.url))


@pytest.fixture()
def fresh(mock: Mock) -> Iterator[switchpoint.Gateway]:
    """A gateway of its own (for records and usage counts)."""
    mock.reset()
    yield switchpoint.Gateway(config=responses_config(mock.url))


def last(mock: Mock) -> Dict[str, Any]:
    log = mock.log()
    assert log, "the mock saw no request"
    return log[-1]


def test_native_response_is_typed_with_output_text(rgw: switchpoint.Gateway, clean: Mock) -> None:
    r = rgw.responses.create(model="gpt", input="hello typed responses", instructions="Be brief.")
    assert isinstance(r, switchpoint.Response)
    assert (r.object, r.status, r.model) == ("response", "completed", "gpt-4o")
    assert r.id.startswith("resp_mock_")
    assert r.instructions == "Be brief."
    item = r.output[0]
    assert isinstance(item, switchpoint.ResponseOutputMessage)
    assert (item.type, item.role, item.status) == ("message", "assistant", "completed")
    part = item.content[0]
    assert isinstance(part, switchpoint.ResponseOutputText)
    assert (part.type, part.text, part.annotations) == ("output_text", "hello typed responses", [])
    assert r.output_text == "hello typed responses"
    assert isinstance(r.usage, switchpoint.ResponseUsage)
    # The mock counts the instructions' words as input: 3 + 2.
    assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (5, 3, 8)
    assert isinstance(r.usage.input_tokens_details, switchpoint.ResponseInputTokensDetails)
    assert r.usage.input_tokens_details.cached_tokens == 0
    assert isinstance(r.usage.output_tokens_details, switchpoint.ResponseOutputTokensDetails)
    assert r.usage.output_tokens_details.reasoning_tokens == 0
    assert (r.incomplete_details, r.error) == (None, None)
    facts = r.switchpoint
    assert isinstance(facts, switchpoint.SwitchpointFacts)
    assert (facts.provider, facts.provider_model, facts.model) == ("native", "gpt-4o", "gpt")
    # gpt-4o: 5 x $2.50 + 3 x $10 per 1M tokens.
    assert facts.cost is not None and facts.cost.usd == Decimal("0.0000425")
    # Dumps are the wire JSON: output_text is a property, as in openai-python.
    wire = r.to_dict()
    assert wire["object"] == "response" and "output_text" not in wire
    assert wire["output"][0]["content"][0]["text"] == "hello typed responses"
    assert r.model_dump()["previous_response_id"] is None
    assert json.loads(r.model_dump_json())["id"] == r.id
    assert pickle.loads(pickle.dumps(r)) == r
    up = last(clean)
    assert (up["path"], up["provider"], up["stream"]) == ("/v1/responses", "openai", False)
    assert up["body"]["model"] == "gpt-4o"
    assert up["body"]["input"] == "hello typed responses"
    assert up["body"]["instructions"] == "Be brief."


def test_translated_tool_call_and_its_result_round_trip(rgw: switchpoint.Gateway, clean: Mock) -> None:
    first = rgw.responses.create(model="sonnet", input="use get_weather for Oslo", tools=[TOOL])
    assert first.output_text == ""
    call = first.output[0]
    assert isinstance(call, switchpoint.ResponseFunctionToolCall)
    assert call.type == "function_call" and call.name == "get_weather"
    assert call.call_id.startswith("toolu_mock_")
    assert json.loads(call.arguments) == {"city": "use get_weather for Oslo"}
    assert last(clean)["path"] == "/v1/messages"
    # The typed output items go back as input items, with the caller's result.
    second = rgw.responses.create(
        model="sonnet",
        tools=[TOOL],
        input=[
            {"role": "user", "content": "use get_weather for Oslo"},
            *first.output,
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )
    assert second.output_text == "tool result: sunny"
    sent = last(clean)["body"]["messages"]
    assert sent[1]["content"][0] == {
        "type": "tool_use",
        "id": call.call_id,
        "name": "get_weather",
        "input": {"city": "use get_weather for Oslo"},
    }
    assert sent[2]["content"][0]["type"] == "tool_result"
    assert sent[2]["content"][0]["tool_use_id"] == call.call_id


@pytest.mark.parametrize("model", ["gpt", "sonnet"])
def test_stream_yields_typed_events_in_order(rgw: switchpoint.Gateway, clean: Mock, model: str) -> None:
    stream = rgw.responses.create(model=model, input="one two three", stream=True)
    assert isinstance(stream, switchpoint.Stream)
    with stream:
        events: List[switchpoint.ResponseStreamEvent] = list(stream)
    assert all(isinstance(e, switchpoint.ResponseStreamEvent) for e in events)
    types = [e.type for e in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    created = events[0].response
    assert isinstance(created, switchpoint.Response) and created.status == "in_progress"
    added = events[2].item
    assert isinstance(added, switchpoint.ResponseOutputMessage)
    assert isinstance(events[3].part, switchpoint.ResponseOutputText)
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(d or "" for d in deltas) == "one two three"
    done = events[-1].response
    assert done is not None and done.status == "completed"
    assert done.output_text == "one two three"
    assert done.usage is not None and (done.usage.input_tokens, done.usage.output_tokens) == (3, 3)
    assert done.switchpoint is not None and done.switchpoint.cost is not None
    facts = stream.switchpoint
    assert facts is not None and facts.provider == ("native" if model == "gpt" else "claude")
    assert last(clean)["stream"] is True


def test_streamed_tool_call_arguments(rgw: switchpoint.Gateway, clean: Mock) -> None:
    events = list(rgw.responses.create(model="gpt", input="call it", tools=[TOOL], tool_choice="required", stream=True))
    fragments = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(fragments) >= 2
    done = [e for e in events if e.type == "response.function_call_arguments.done"][0]
    assert done.arguments == "".join(f or "" for f in fragments) == '{"city":"call it"}'
    assert done.name == "get_weather"
    final = events[-1].response
    assert final is not None
    call = final.output[-1]
    assert isinstance(call, switchpoint.ResponseFunctionToolCall) and call.arguments == done.arguments


def test_user_metadata_and_extra_body_reach_the_provider(rgw: switchpoint.Gateway, clean: Mock) -> None:
    r = rgw.responses.create(
        model="gpt",
        input="x",
        user="u-42",
        metadata={"job": "nightly"},
        max_output_tokens=20,
        extra_body={"truncation": "auto"},
        tags=["batch"],
    )
    assert r.metadata == {"job": "nightly"}
    body = last(clean)["body"]
    assert (body["user"], body["metadata"], body["max_output_tokens"]) == ("u-42", {"job": "nightly"}, 20)
    assert body["truncation"] == "auto" and "extra_body" not in body and "tags" not in body


def test_arguments_are_checked(rgw: switchpoint.Gateway) -> None:
    with pytest.raises(TypeError, match="temprature"):
        rgw.responses.create(model="gpt", input="x", temprature=1)
    with pytest.raises(switchpoint.BadRequestError) as e:
        rgw.responses.create(model="gpt", input="x", extra_headers={"x": "y"})
    assert e.value.param == "extra_headers"
    with pytest.raises(switchpoint.BadRequestError) as e:
        rgw.responses.create(model="gpt")
    assert e.value.param == "input"


def test_provider_errors_are_typed(rgw: switchpoint.Gateway, clean: Mock) -> None:
    clean.script([{"status": 429, "retry_after": 2}])
    with pytest.raises(switchpoint.RateLimitError) as e:
        rgw.responses.create(model="sonnet", input="hi")
    assert (e.value.kind, e.value.status_code, e.value.provider, e.value.retry_after) == (
        "rate_limited",
        429,
        "claude",
        2.0,
    )
    clean.script([{"error": "context_window"}])
    with pytest.raises(switchpoint.ContextWindowExceededError) as cw:
        rgw.responses.create(model="gpt", input="hi")
    assert (cw.value.status_code, cw.value.provider) == (400, "native")
    # What chat cannot carry is refused on a translating target only, naming the field.
    with pytest.raises(switchpoint.BadRequestError) as bad:
        rgw.responses.create(model="sonnet", input="again", previous_response_id="resp_1")
    assert bad.value.param == "previous_response_id"
    assert rgw.responses.create(model="gpt", input="again", previous_response_id="resp_1").status == "completed"


def test_a_cut_stream_yields_response_failed_then_the_error(rgw: switchpoint.Gateway, clean: Mock) -> None:
    clean.script([{"cut_after": 4}])
    seen: List[str] = []
    with pytest.raises(switchpoint.APIConnectionError):
        for event in rgw.responses.create(model="gpt", input="one two three four five six", stream=True):
            seen.append(event.type)
    assert seen[0] == "response.created" and seen[-1] == "response.failed"


def test_leaving_a_stream_early_cancels_the_upstream(rgw: switchpoint.Gateway, clean: Mock) -> None:
    clean.script([{"chunk_delay_ms": 300}])
    stream = rgw.responses.create(model="gpt", input="a b c d e f g h", stream=True)
    with stream:
        first = next(iter(stream))
        assert first.type == "response.created"
    log = clean.wait_for(lambda log: any(e["client_closed_early"] for e in log))
    assert log[-1]["client_closed_early"] is True and log[-1]["path"] == "/v1/responses"


def test_async_gateway(mock: Mock) -> None:
    async def main() -> None:
        agw = switchpoint.AsyncGateway(config=responses_config(mock.url))
        r = await agw.responses.create(model="sonnet", input="async hello", instructions="Be brief.")
        assert isinstance(r, switchpoint.Response) and r.output_text == "async hello"
        stream = await agw.responses.create(model="gpt", input="x y z", stream=True)
        assert isinstance(stream, switchpoint.AsyncStream)
        async with stream:
            events = [e async for e in stream]
        assert events[0].type == "response.created" and events[-1].type == "response.completed"
        assert "".join(e.delta or "" for e in events if e.type == "response.output_text.delta") == "x y z"
        with pytest.raises(switchpoint.BadRequestError):
            await agw.responses.create(model="sonnet", input="x", previous_response_id="resp_1")

    mock.reset()
    asyncio.run(main())


def test_records_name_the_call_with_tokens_and_cost(fresh: switchpoint.Gateway) -> None:
    records: List[switchpoint.RequestRecord] = []
    with fresh.on_record(records.append):
        fresh.responses.create(model="gpt", input="one two three", user="alice")
        list(fresh.responses.create(model="sonnet", input="one two three", stream=True))
        with pytest.raises(switchpoint.BadRequestError):
            fresh.responses.create(model="gpt")
        assert fresh.flush_telemetry()
    assert [(r.call, r.provider, r.status) for r in records] == [
        ("responses", "native", "ok"),
        ("responses_stream", "claude", "ok"),
        ("responses", "", "error"),
    ]
    native, streamed = records[0], records[1]
    assert native.caller.user == "alice"
    assert (native.tokens.prompt, native.tokens.completion) == (3, 3)
    assert native.cost is not None and native.cost.total == Decimal("0.0000375")
    assert streamed.cost is not None and streamed.cost.total == Decimal("0.000054")
    assert records[2].error_kind == "bad_request"
    rows = fresh.usage(group_by="model")
    assert {(row.group, row.requests) for row in rows} == {("gpt", 2), ("sonnet", 1)}
