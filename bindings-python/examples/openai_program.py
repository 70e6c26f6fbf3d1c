"""A program written for the official `openai` package, unchanged.

tests/test_openai_compat.py runs it as is (against the mock provider's OpenAI endpoint), then
again with only the import and the two constructor lines changed to switchpoint's, and checks
both print the same thing.
"""

import asyncio
import json
import os

import openai

MOCK_URL = os.environ["MOCK_URL"]

client = openai.OpenAI(base_url=MOCK_URL + "/v1", api_key="sk-program", max_retries=0)
aclient = openai.AsyncOpenAI(base_url=MOCK_URL + "/v1", api_key="sk-program", max_retries=0)

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


def chat() -> None:
    r = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hello from a program written for openai"},
        ],
        temperature=0.3,
        max_tokens=50,
    )
    print("chat:", r.choices[0].message.content, r.choices[0].finish_reason, r.object)
    print("usage:", r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens)
    print("dump:", sorted(r.model_dump()["choices"][0]["message"]))


def tools() -> None:
    messages = [{"role": "user", "content": "use get_weather for Oslo"}]
    r = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER])
    call = r.choices[0].message.tool_calls[0]
    print("tool:", r.choices[0].finish_reason, call.type, call.function.name, json.loads(call.function.arguments))
    messages.append(r.choices[0].message)
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"})
    r = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER])
    print("tool result:", r.choices[0].message.content)


def stream() -> None:
    parts, usage, finish = [], None, None
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "streams arrive word by word"}],
        stream=True,
        stream_options={"include_usage": True},
    ):
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage.total_tokens
    print("stream:", "".join(parts), finish, usage)


def embeddings() -> None:
    e = client.embeddings.create(model="text-embedding-3-small", input=["first text", "second"], dimensions=4)
    print("embeddings:", len(e.data), e.usage.total_tokens, [round(x, 5) for x in e.data[1].embedding])


def errors() -> None:
    for model in ("gpt-4o-mini!status=429", "gpt-4o-mini!status=401", "gpt-4o-mini!error=context_window"):
        try:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
        except openai.RateLimitError as e:
            print("error: rate limited", e.status_code)
        except openai.AuthenticationError as e:
            print("error: auth", e.status_code)
        except openai.BadRequestError as e:
            print("error: bad request", e.status_code, e.code)


async def concurrent() -> None:
    rs = await asyncio.gather(
        *(
            aclient.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"n{i}"}])
            for i in range(20)
        )
    )
    print("async:", [r.choices[0].message.content for r in rs][:3], len(rs))
    s = await aclient.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "async stream"}], stream=True
    )
    text = ""
    async for chunk in s:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
    print("async stream:", text)


if __name__ == "__main__":
    chat()
    tools()
    stream()
    embeddings()
    errors()
    asyncio.run(concurrent())
