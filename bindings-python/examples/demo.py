"""The quick-start demo in Python: one unified request to providers of different wire
formats, a fallback past a failing provider, a streamed reply, and typed errors, over real
HTTP to the bundled mock provider.

Run with `make demo` (it starts the mock provider and sets MOCK_URL), or:
    scripts/with-mock.sh .venv/bin/python bindings-python/examples/demo.py
"""

import os
import sys

import switchpoint


def main() -> int:
    mock = os.environ.get("MOCK_URL")
    if not mock:
        print("MOCK_URL is not set: run `make demo`", file=sys.stderr)
        return 2
    # The same config an application would ship; keys would be `env:OPENAI_API_KEY` etc.
    gw = switchpoint.Gateway(
        config=f"""
providers:
  openai:    {{ base_url: "{mock}/v1", api_key: sk-demo-openai }}
  anthropic: {{ base_url: "{mock}",    api_key: sk-ant-demo }}
  gemini:    {{ base_url: "{mock}",    api_key: gm-demo }}
models:
  gpt:    {{ provider: openai,    model: gpt-4o-mini }}
  claude: {{ provider: anthropic, model: claude-sonnet-4-5 }}
  flash:  {{ provider: gemini,    model: gemini-2.5-flash }}
  # The mock answers this model with a 429 and Retry-After: 2, as a provider under load would.
  busy:   {{ provider: openai,    model: "gpt-4o!status=429,retry_after=2" }}
routes:
  # A route with two targets: the first is down (the mock answers 503), so the gateway fails
  # over to Anthropic within the same call.
  resilient:
    strategy: priority
    targets:
      - {{ provider: openai,    model: "gpt-4o!status=503" }}
      - {{ provider: anthropic, model: claude-sonnet-4-5 }}
cache: {{ enabled: true, ttl: 1h }}
virtual_keys: {{}}                               # keys issued at runtime are checked
guardrails: {{ pii: {{ mode: redact, kinds: [email] }} }}
"""
    )
    print(f"switchpoint demo (Python): the gateway in this process, mock providers at {mock}\n")

    print("1. One unified request, two wire formats")
    for model in ("gpt", "claude"):
        r = gw.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Hello from one API to every provider"}]
        )
        facts, usage = r.switchpoint, r.usage
        assert usage is not None
        print(
            f"   {model:<7} -> {facts.provider:<10} {facts.provider_model:<18} "
            f"{r.choices[0].message.content!r}  tokens {usage.prompt_tokens}+{usage.completion_tokens}  "
            f"{facts.latency_ms:.2f} ms (gateway overhead {facts.overhead_us:.0f} µs)"
        )

    print("\n2. A fallback: the first provider answers 503, the second serves the same call")
    r = gw.chat.completions.create(
        model="resilient", messages=[{"role": "user", "content": "keep me alive through outages"}]
    )
    for a in r.switchpoint.attempts:
        outcome = a.status if a.error is None else f"{a.status} ({a.error})"
        print(f"   attempt -> {a.provider:<10} {a.provider_model:<20} {outcome}  {a.latency_ms:.2f} ms")
    print(f"   answer from {r.switchpoint.provider}: {r.choices[0].message.content!r}")

    print("\n3. A streamed reply (Gemini's SSE, delivered as OpenAI chunks)")
    stream = gw.chat.completions.create(
        model="flash",
        messages=[{"role": "user", "content": "streams arrive word by word as they are produced"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    print("   ", end="")
    chunks = 0
    with stream:
        for chunk in stream:
            chunks += 1
            if chunk.choices:
                print(chunk.choices[0].delta.content or "", end="", flush=True)
            if chunk.usage is not None:
                print(f"  [usage: {chunk.usage.total_tokens} tokens]", end="")
    final = stream.switchpoint
    assert final is not None
    print(f"\n   {chunks} chunks, first after {final.ttft_ms or 0:.2f} ms, done in {final.latency_ms:.2f} ms")

    print("\n4. Typed errors")
    try:
        gw.chat.completions.create(model="busy", messages=[{"role": "user", "content": "are you there?"}])
        print("   unexpected success")
    except switchpoint.RateLimitError as e:
        print(
            f"   {type(e).__name__}: kind={e.kind} status_code={e.status_code} provider={e.provider} retry_after={e.retry_after}"
        )
        print(f"   {e.__cause__}")
    try:
        gw.chat.completions.create(model="gtp", messages=[{"role": "user", "content": "typo in the model name"}])
        print("   unexpected success")
    except switchpoint.NotFoundError as e:
        print(f"   {type(e).__name__}: kind={e.kind} param={e.param}\n   {e.message}")
    print("\n5. The cache: the same question twice; the second is a hit with no provider call")
    for _ in range(2):
        r = gw.chat.completions.create(
            model="claude", messages=[{"role": "user", "content": "What does the cache key hash?"}], team="docs"
        )
        cost = r.switchpoint.cost
        paid, saved = (cost.usd, cost.saved_usd or 0) if cost else ("?", 0)
        print(f"   cache={r.switchpoint.cache or 'off':<5} paid ${paid} saved ${saved}")

    print("\n6. Usage by model and the request counters (Prometheus text)")
    for row in gw.usage(group_by="model"):
        print(
            f"   {row.group or '-':<9} requests {row.requests} errors {row.errors} "
            f"cache hits {row.cache_hits} tokens {row.prompt_tokens}+{row.completion_tokens} cost ${row.cost_usd}"
        )
    for line in gw.metrics_text().splitlines():
        if line.startswith("switchpoint_requests_total") and 'status="ok"' in line:
            print(f"   {line}")
    print("\n7. Keys, limits and guardrails")
    k = gw.keys.create(name="demo-app", team="docs", limits={"rpm": 2}, actor="demo")
    print(f"   issued {k['id']} for team {k['team']} (its value is shown once: {k['key'][:12]}...)")
    hello = [{"role": "user", "content": "hello"}]
    for i in range(3):
        try:
            gw.chat.completions.create(model="gpt", messages=hello, api_key=k["key"])
            print(f"   request {i + 1}: admitted")
        except switchpoint.RateLimitExceededError as e:
            print(f"   request {i + 1}: {type(e).__name__} code={e.code} retry in {e.retry_after or 0:.0f} s")
    gw.keys.revoke(k["id"], actor="demo")
    try:
        gw.chat.completions.create(model="gpt", messages=hello, api_key=k["key"])
    except switchpoint.AuthenticationError as e:
        print(f"   after revoking: {type(e).__name__} code={e.code}")
    r = gw.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "mail ana@example.com"}])
    print(f"   an email is redacted before it leaves; the mock echoed {r.choices[0].message.content!r}")
    print(f"   audit: {[a['action'] for a in gw.audit()]}")
    print("\ndone.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
