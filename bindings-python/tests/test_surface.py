"""The openai-shaped surface: typed responses, dumps, streams, arguments and config."""

from __future__ import annotations

import asyncio
import json
import pickle
from pathlib import Path
from typing import Any, Dict

import pytest
import switchpoint

from .conftest import Mock, user

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}


def test_chat_response_is_typed_with_attribute_access(gw: switchpoint.Gateway, clean: Mock) -> None:
    r = gw.chat.completions.create(model="gpt", messages=user("hello typed world"))
    assert isinstance(r, switchpoint.ChatCompletion)
    assert r.object == "chat.completion"
    assert r.id.startswith("chatcmpl-mock-")
    assert r.model == "gpt-4o-mini"
    assert isinstance(r.choices[0], switchpoint.Choice)
    assert isinstance(r.choices[0].message, switchpoint.ChatCompletionMessage)
    assert r.choices[0].message.content == "hello typed world"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.tool_calls is None
    assert isinstance(r.usage, switchpoint.CompletionUsage)
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (3, 3, 6)
    assert r.system_fingerprint == "fp_mock"
    assert r.service_tier == "default"
    assert r.model_extra == {}
    with pytest.raises(AttributeError):
        r.no_such_field  # noqa: B018
    # Fields the class does not name are kept, readable and dumped.
    extended = switchpoint.ChatCompletion.model_validate({**r.to_dict(), "x_new_field": {"a": 1}})
    assert extended.x_new_field == {"a": 1}
    assert extended.model_extra == {"x_new_field": {"a": 1}}
    assert extended.to_dict()["x_new_field"] == {"a": 1}


def test_facts_say_who_served_the_answer(gw: switchpoint.Gateway, clean: Mock) -> None:
    r = gw.chat.completions.create(model="sonnet", messages=user("hi"), max_tokens=20)
    f = r.switchpoint
    assert isinstance(f, switchpoint.SwitchpointFacts)
    assert (f.provider, f.provider_model, f.model) == ("claude", "claude-sonnet-4-5", "sonnet")
    assert len(f.attempts) == 1
    a = f.attempts[0]
    assert isinstance(a, switchpoint.AttemptFact)
    assert (a.provider, a.status, a.error) == ("claude", "ok", None)
    assert 0 < a.latency_ms <= f.latency_ms
    assert f.overhead_us > 0


def test_dumps_follow_openai_conventions(gw: switchpoint.Gateway, clean: Mock) -> None:
    r = gw.chat.completions.create(model="gpt", messages=user("dump me"))
    d = r.to_dict()
    # to_dict: only the fields the answer had (cache_creation_tokens is not an OpenAI field).
    assert "cache_creation_tokens" not in d["usage"]["prompt_tokens_details"]
    assert d["choices"][0]["message"] == {
        "role": "assistant",
        "content": "dump me",
        "refusal": None,
        "annotations": [],
    }
    assert d["switchpoint"]["provider"] == "oai"
    assert d["service_tier"] == "default"
    # model_dump: every field, None for the absent ones.
    m = r.model_dump()
    assert m["usage"]["prompt_tokens_details"]["cache_creation_tokens"] is None
    assert m["choices"][0]["message"]["tool_calls"] is None
    assert m["choices"][0]["message"]["audio"] is None
    assert r.model_dump(exclude_none=True)["choices"][0]["message"] == {
        "role": "assistant",
        "content": "dump me",
        "annotations": [],
    }
    assert json.loads(r.model_dump_json()) == m
    assert json.loads(r.to_json()) == d
    assert '\n  "id"' in r.to_json()
    # Round trips: rebuild from the dict, and pickle.
    again = switchpoint.ChatCompletion.model_validate(d)
    assert again == r
    assert pickle.loads(pickle.dumps(r)) == r
    assert switchpoint.ChatCompletion.model_validate_json(r.model_dump_json()) == r


def test_tool_calls(gw: switchpoint.Gateway, clean: Mock) -> None:
    r = gw.chat.completions.create(
        model="gpt", messages=user("call get_weather for Oslo"), tools=[WEATHER], tool_choice="required"
    )
    msg = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls"
    assert msg.tool_calls is not None and len(msg.tool_calls) == 1
    call = msg.tool_calls[0]
    assert isinstance(call, switchpoint.ChatCompletionMessageToolCall)
    assert isinstance(call.function, switchpoint.Function)
    assert call.id.startswith("call_mock_")
    assert (call.type, call.function.name) == ("function", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "call get_weather for Oslo", "days": 42}
    # The assistant message object goes straight back into `messages`, as with openai.
    follow = gw.chat.completions.create(
        model="sonnet",
        max_tokens=50,
        messages=[
            *user("call get_weather for Oslo"),
            msg,
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ],
    )
    assert follow.choices[0].message.content == "tool result: sunny"
    sent = clean.log()[-1]["body"]["messages"]
    assert sent[1]["content"][0] == {
        "type": "tool_use",
        "id": call.id,
        "name": "get_weather",
        "input": {"city": "call get_weather for Oslo", "days": 42},
    }


def test_stream_yields_typed_chunks_and_facts(gw: switchpoint.Gateway, clean: Mock) -> None:
    stream = gw.chat.completions.create(
        model="flash", messages=user("one two three"), stream=True, stream_options={"include_usage": True}
    )
    assert isinstance(stream, switchpoint.Stream)
    chunks = list(stream)
    assert all(isinstance(c, switchpoint.ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.total_tokens == 6
    assert last.switchpoint is not None and last.switchpoint.provider == "gem"
    facts = stream.switchpoint
    assert facts is not None and facts.ttft_ms is not None and facts.ttft_ms <= facts.latency_ms
    assert facts.attempts[0].status == "ok"
    assert list(stream) == []  # exhausted stays exhausted


def test_streamed_tool_call_pieces(gw: switchpoint.Gateway, clean: Mock) -> None:
    pieces = [
        tc
        for c in gw.chat.completions.create(
            model="gpt", messages=user("call get_weather"), tools=[WEATHER], stream=True
        )
        if c.choices
        for tc in c.choices[0].delta.tool_calls or []
    ]
    assert isinstance(pieces[0], switchpoint.ChoiceDeltaToolCall)
    assert isinstance(pieces[0].function, switchpoint.ChoiceDeltaToolCallFunction)
    assert pieces[0].function.name == "get_weather" and pieces[0].id is not None
    args = "".join(p.function.arguments or "" for p in pieces if p.function)
    assert json.loads(args) == {"city": "call get_weather", "days": 42}


def test_embeddings(gw: switchpoint.Gateway, agw: switchpoint.AsyncGateway, clean: Mock) -> None:
    r = gw.embeddings.create(model="embed", input=["hello world", "second"], dimensions=4)
    assert isinstance(r, switchpoint.CreateEmbeddingResponse)
    assert [type(e) for e in r.data] == [switchpoint.Embedding, switchpoint.Embedding]
    assert [e.index for e in r.data] == [0, 1]
    assert len(r.data[0].embedding) == 4
    assert abs(sum(x * x for x in r.data[0].embedding) - 1.0) < 1e-5
    assert isinstance(r.usage, switchpoint.EmbeddingUsage) and r.usage.total_tokens == 3
    assert r.switchpoint.provider == "oai"
    ar = asyncio.run(agw.embeddings.create(model="embed", input=["hello world", "second"], dimensions=4))
    assert [e.embedding for e in ar.data] == [e.embedding for e in r.data]


def test_extra_body_and_params_reach_the_provider(gw: switchpoint.Gateway, clean: Mock) -> None:
    gw.chat.completions.create(
        model="gpt",
        messages=user("x"),
        temperature=0.5,
        seed=7,
        stop=["END"],
        logprobs=True,
        extra_body={"custom_flag": True},
        top_p=switchpoint.NOT_GIVEN,
        presence_penalty=None,
    )
    body = clean.log()[-1]["body"]
    assert body["temperature"] == 0.5 and body["seed"] == 7 and body["stop"] == ["END"]
    assert body["logprobs"] is True and body["custom_flag"] is True
    assert "top_p" not in body and "presence_penalty" not in body


def test_requests_cross_as_json_dumps_would_write_them(gw: switchpoint.Gateway, clean: Mock) -> None:
    # The request dict is converted natively; the rules are json.dumps's.
    gw.chat.completions.create(
        model="gpt",
        messages=tuple(user("x")),  # a tuple is a list
        stop=("A", "B"),
        extra_body={"opts": {3: "int key", 2.5: "float key", False: "bool key", None: "none key"}},
    )
    body = clean.log()[-1]["body"]
    assert body["stop"] == ["A", "B"]
    assert body["opts"] == {"3": "int key", "2.5": "float key", "false": "bool key", "null": "none key"}
    with pytest.raises(ValueError, match="Out of range float"):
        gw.chat.completions.create(model="gpt", messages=user("x"), temperature=float("nan"))
    with pytest.raises(TypeError, match="not JSON serializable"):
        gw.chat.completions.create(model="gpt", messages=user("x"), extra_body={"x": object()})
    with pytest.raises(TypeError, match="keys must be str"):
        gw.chat.completions.create(model="gpt", messages=user("x"), extra_body={"x": {(1, 2): 3}})


def test_switchpoint_kwargs_go_to_the_context_not_the_provider(gw: switchpoint.Gateway, clean: Mock) -> None:
    # `user` is the one exception: an OpenAI parameter too, it also reaches the provider.
    r = gw.chat.completions.create(
        model="gpt",
        messages=user("ctx"),
        user="u-42",
        tags=["summarize"],
        metadata={"ticket": 7},
        team="search",
        tier="pro",
        timeout=5.0,
    )
    assert r.choices[0].message.content == "ctx"
    body = clean.log()[-1]["body"]
    for key in ("tags", "metadata", "team", "tier", "timeout"):
        assert key not in body
    assert body["user"] == "u-42"


def test_context_is_checked_by_the_core(gw: switchpoint.Gateway) -> None:
    with pytest.raises(switchpoint.BadRequestError) as e:
        gw.chat.completions.create(model="gpt", messages=user("x"), timeout=-1)
    assert e.value.param == "timeout"
    assert "positive number of seconds" in e.value.message


def test_cache_controls_on_a_gateway_without_a_cache_change_nothing(gw: switchpoint.Gateway) -> None:
    r = gw.chat.completions.create(model="gpt", messages=user("x"), cache={"ttl": 60, "no_store": True})
    assert r.choices[0].message.content == "x"
    assert r.switchpoint.cache is None  # no cache on this route: the fact is absent
    assert "cache" not in r.to_dict()["switchpoint"]


def test_unknown_keyword_is_a_type_error(gw: switchpoint.Gateway) -> None:
    with pytest.raises(TypeError, match="temprature"):
        gw.chat.completions.create(model="gpt", messages=user("x"), temprature=0.2)  # type: ignore[call-overload]


def test_extra_headers_are_refused_not_ignored(gw: switchpoint.Gateway) -> None:
    with pytest.raises(switchpoint.BadRequestError) as e:
        gw.chat.completions.create(model="gpt", messages=user("x"), extra_headers={"x-a": "1"})
    assert e.value.param == "extra_headers"
    # Empty (as openai code often passes) is fine.
    gw.chat.completions.create(model="gpt", messages=user("x"), extra_headers=None)


def test_request_errors_name_the_field(gw: switchpoint.Gateway) -> None:
    with pytest.raises(switchpoint.BadRequestError) as e:
        gw.chat.completions.create(model="gpt", messages=[{"role": "robot", "content": "x"}])
    assert e.value.param == "messages[0].role"
    assert "robot" in e.value.message
    assert e.value.status_code is None


def test_config_from_text_path_dict_and_errors(mock: Mock, tmp_path: Path, config: Dict[str, Any]) -> None:
    yaml = f"""
providers:
  oai: {{ kind: openai, base_url: "{mock.url}/v1", api_key: sk-x }}
models:
  gpt: {{ provider: oai, model: gpt-4o-mini }}
"""
    path = tmp_path / "gw.yaml"
    path.write_text(yaml)
    for gw in (
        switchpoint.Gateway(config=yaml),
        switchpoint.Gateway(config=path),
        switchpoint.Gateway.from_file(path),
        switchpoint.Gateway.from_file(str(path)),
        switchpoint.Gateway(config=json.dumps(config)),
        switchpoint.Gateway(config),
    ):
        assert gw.chat.completions.create(model="gpt", messages=user("cfg")).choices[0].message.content == "cfg"
    with pytest.raises(switchpoint.ConfigError) as e:
        switchpoint.Gateway(config={"providers": {"oai": {"kind": "openai", "base_ur": "x"}}})
    assert "base_url" in str(e.value)  # did-you-mean
    with pytest.raises(switchpoint.ConfigError) as e2:
        switchpoint.Gateway.from_file(tmp_path / "missing.yaml")
    assert "missing.yaml" in str(e2.value)
    with pytest.raises(TypeError):
        switchpoint.Gateway(config=42)  # type: ignore[arg-type]


def test_gateway_context_managers(config: Dict[str, Any]) -> None:
    with switchpoint.Gateway(config=config) as gw:
        assert gw.chat.completions.create(model="gpt", messages=user("cm")).choices[0].message.content == "cm"

    async def main() -> str:
        async with switchpoint.AsyncGateway(config=config) as agw:
            r = await agw.chat.completions.create(model="gpt", messages=user("acm"))
            return r.choices[0].message.content or ""

    assert asyncio.run(main()) == "acm"


def test_async_stream_is_an_async_context_manager(agw: switchpoint.AsyncGateway, clean: Mock) -> None:
    async def main() -> str:
        stream = await agw.chat.completions.create(model="sonnet", messages=user("a b c"), max_tokens=9, stream=True)
        assert isinstance(stream, switchpoint.AsyncStream)
        async with stream as s:
            return "".join([c.choices[0].delta.content or "" async for c in s if c.choices])

    assert asyncio.run(main()) == "a b c"


def test_not_given_is_falsy_and_pickles() -> None:
    assert not switchpoint.NOT_GIVEN
    assert pickle.loads(pickle.dumps(switchpoint.NOT_GIVEN)) is switchpoint.NOT_GIVEN
    assert repr(switchpoint.NOT_GIVEN) == "NOT_GIVEN"


def test_generic_streams_subscript_at_runtime() -> None:
    assert switchpoint.Stream[switchpoint.ChatCompletionChunk] is not None
    assert switchpoint.AsyncStream[switchpoint.ChatCompletionChunk] is not None


def test_rebuild_gives_fresh_pools(config: Dict[str, Any], clean: Mock) -> None:
    gw = switchpoint.Gateway(config=config)
    assert gw.chat.completions.create(model="gpt", messages=user("before")).choices[0].message.content == "before"
    gw.rebuild()
    assert gw.chat.completions.create(model="gpt", messages=user("after")).choices[0].message.content == "after"


def test_user_reaches_the_provider_and_the_gateway(gw: switchpoint.Gateway, clean: Mock) -> None:
    # As with the openai package, `user` is sent to the provider; the gateway also uses it as
    # the caller's identity (rejected keys like `cache` show the context is parsed too).
    gw.chat.completions.create(model="gpt", messages=user("who am i"), user="u-42")
    assert clean.log()[-1]["body"]["user"] == "u-42"
    gw.chat.completions.create(model="sonnet", messages=user("who am i"), user="u-43")
    assert clean.log()[-1]["body"]["metadata"] == {"user_id": "u-43"}


def test_health_shows_a_failing_target_and_its_route(mock: Mock, clean: Mock) -> None:
    cfg = {
        "providers": {"oai": {"kind": "openai", "base_url": f"{mock.url}/v1", "api_key": "k"}},
        "routes": {
            "r": {
                "strategy": "priority",
                "targets": [
                    {"provider": "oai", "model": "primary!status=503"},
                    {"provider": "oai", "model": "backup"},
                ],
            }
        },
    }
    gw = switchpoint.Gateway(config=cfg)
    r = gw.chat.completions.create(model="r", messages=user("fail over"))
    assert [(a.provider_model, a.status, a.error) for a in r.switchpoint.attempts] == [
        ("primary!status=503", "error", "unavailable"),
        ("backup", "ok", None),
    ]
    health = {t.model: t for t in gw.health()}
    assert isinstance(health["backup"], switchpoint.TargetHealth)
    assert health["backup"].state == "healthy" and health["backup"].failures == 0
    assert health["primary!status=503"].failures == 1 and health["primary!status=503"].routes == ["r"]
    assert health["primary!status=503"].error_rate > 0
