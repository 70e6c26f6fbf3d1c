"""The uniffi-generated Python bindings against the mock provider: chat, streams, errors.

usage: MOCK_URL=http://127.0.0.1:PORT python3 test_uniffi.py GENERATED_DIR
GENERATED_DIR holds switchpoint.py (from uniffi-bindgen) and libswitchpoint.so. Standard
library only; prints one line per failure and ends with "N passed, N failed".
"""

import asyncio
import json
import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, sys.argv[1])
import switchpoint as sp  # noqa: E402  (generated module)

MOCK = os.environ["MOCK_URL"]
passed = failed = 0
# Every stream started, so the test can wait until the library released each listener
# before the interpreter shuts down (see StreamHandle.is_finished).
handles = []


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def mock(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(MOCK + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
    return json.loads(text) if text else None


def reset(faults=None):
    mock("DELETE", "/_mock/log")
    mock("DELETE", "/_mock/script")
    if faults:
        mock("POST", "/_mock/script", faults)


def last_log_entry_closed_early():
    for _ in range(100):
        entry = mock("GET", "/_mock/log")[-1]
        if entry["client_closed_early"]:
            return True
        if entry["completed"]:
            return False
        time.sleep(0.02)
    return False


CONFIG = json.dumps(
    {
        "providers": {
            "oai": {"kind": "openai", "base_url": MOCK + "/v1", "api_key": "sk-test"},
            "claude": {"kind": "anthropic", "base_url": MOCK, "api_key": "sk-ant"},
            "bad": {"kind": "openai", "base_url": MOCK + "/v1", "api_key": "bad-key"},
        },
        "models": {
            "gpt": {"provider": "oai", "model": "gpt-4o-mini"},
            "sonnet": {"provider": "claude", "model": "claude-sonnet-4-5"},
            "embed": {"provider": "oai", "model": "text-embedding-3-small"},
            "locked": {"provider": "bad", "model": "gpt-4o-mini"},
        },
    }
)


def start(gw, req, listener):
    handle = gw.chat_stream(req, None, listener)
    handles.append(handle)
    return handle


def request(model, text, **extra):
    return json.dumps(
        {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    )


class Collector(sp.ChunkListener):
    """Collects a stream; `stop_after` chunks makes on_chunk return False."""

    def __init__(self, stop_after=None):
        self.chunks, self.facts, self.error = [], None, None
        self.stop_after = stop_after
        self.ended = threading.Event()
        self.first = threading.Event()

    def on_chunk(self, chunk_json):
        self.chunks.append(json.loads(chunk_json))
        self.first.set()
        return self.stop_after is None or len(self.chunks) < self.stop_after

    def on_done(self, facts_json):
        self.facts = json.loads(facts_json)
        self.ended.set()

    def on_error(self, error):
        self.error = error
        self.ended.set()

    def text(self):
        return "".join(
            c["choices"][0]["delta"].get("content") or ""
            for c in self.chunks
            if c["choices"]
        )


def test_chat(gw):
    reset()
    resp = json.loads(
        asyncio.run(gw.chat(request("sonnet", "hello uniffi"), '{"user": "u1"}'))
    )
    check(
        resp["choices"][0]["message"]["content"] == "hello uniffi",
        f"chat content {resp}",
    )
    check(resp["object"] == "chat.completion", "chat object")
    check(
        resp["switchpoint"]["provider"] == "claude", f"facts {resp.get('switchpoint')}"
    )
    check(mock("GET", "/_mock/log")[-1]["path"] == "/v1/messages", "anthropic path")

    async def many():
        return await asyncio.gather(
            *(gw.chat(request("gpt", f"n{i}"), None) for i in range(10))
        )

    answers = [
        json.loads(a)["choices"][0]["message"]["content"] for a in asyncio.run(many())
    ]
    check(answers == [f"n{i}" for i in range(10)], f"concurrent chats {answers}")

    emb = json.loads(
        asyncio.run(
            gw.embed(
                json.dumps({"model": "embed", "input": ["a", "b"], "dimensions": 3}),
                None,
            )
        )
    )
    check(
        len(emb["data"]) == 2 and len(emb["data"][0]["embedding"]) == 3, f"embed {emb}"
    )


def test_stream(gw):
    reset()
    c = Collector()
    handle = start(
        gw,
        request(
            "gpt",
            "one two three four",
            stream=True,
            stream_options={"include_usage": True},
        ),
        c,
    )
    check(c.ended.wait(10), "stream ended")
    check(c.error is None, f"stream error {c.error!r}")
    check(c.text() == "one two three four", f"stream text {c.text()!r}")
    check(
        c.chunks[0]["choices"][0]["delta"].get("role") == "assistant",
        "first chunk role",
    )
    check(c.chunks[-1]["usage"]["total_tokens"] == 8, f"usage chunk {c.chunks[-1]}")
    check(
        c.facts["provider"] == "oai" and c.facts["attempts"][0]["status"] == "ok",
        f"facts {c.facts}",
    )
    for _ in range(100):
        if handle.is_finished():
            break
        time.sleep(0.01)
    check(handle.is_finished(), "handle reports the stream finished")


def test_stream_cancel(gw):
    long_text = " ".join(f"w{i}" for i in range(30))
    # Cancelled through the handle.
    reset([{"chunk_delay_ms": 100}])
    c = Collector()
    handle = start(gw, request("gpt", long_text, stream=True), c)
    check(c.first.wait(10), "first chunk before cancel")
    handle.cancel()
    check(c.ended.wait(10), "cancelled stream ends")
    check(
        isinstance(c.error, sp.SwitchpointError.Cancelled), f"cancel error {c.error!r}"
    )
    check(len(c.chunks) < 30, f"{len(c.chunks)} chunks after cancel")
    check(last_log_entry_closed_early(), "cancel closed the upstream connection")
    handle.cancel()  # a second cancel is harmless
    # Stopped by the listener's return value.
    reset([{"chunk_delay_ms": 100}])
    c = Collector(stop_after=2)
    start(gw, request("gpt", long_text, stream=True), c)
    check(c.ended.wait(10), "stopped stream ends")
    check(len(c.chunks) == 2, f"{len(c.chunks)} chunks after stop at 2")
    check(isinstance(c.error, sp.SwitchpointError.Cancelled), f"stop error {c.error!r}")
    check(last_log_entry_closed_early(), "stop closed the upstream connection")


def test_errors(gw):
    reset([{"status": 429, "retry_after": 2}])
    try:
        asyncio.run(gw.chat(request("gpt", "x"), None))
        check(False, "429 raised nothing")
    except sp.SwitchpointError.RateLimited as e:
        check(
            e.status == 429 and e.provider == "oai" and abs(e.retry_after - 2.0) < 1e-3,
            f"429 detail {e!r}",
        )
    try:
        asyncio.run(gw.chat('{"model": "gpt", "messages": [{"role": "robot"}]}', None))
        check(False, "bad request raised nothing")
    except sp.SwitchpointError.BadRequest as e:
        check(e.param == "messages[0].role", f"bad request param {e!r}")
    try:
        gw.chat_stream("{not json", None, Collector())
        check(False, "bad stream request raised nothing")
    except sp.SwitchpointError.BadRequest:
        check(True, "")
    try:
        asyncio.run(gw.chat(request("no-such-model", "x"), None))
        check(False, "unknown model raised nothing")
    except sp.SwitchpointError.NotFound as e:
        check(e.param == "model", f"unknown model {e!r}")
    try:
        sp.Gateway.from_text('{"providers": {"p": {"kind": "nope"}}}')
        check(False, "bad config raised nothing")
    except sp.SwitchpointError.Config as e:
        check("kind" in e.message, f"config error {e!r}")
    # An error before the first chunk reaches the listener.
    reset()
    c = Collector()
    start(gw, request("locked", "x", stream=True), c)
    check(c.ended.wait(10), "failed stream ends")
    check(
        isinstance(c.error, sp.SwitchpointError.Auth) and c.error.status == 401,
        f"stream auth error {c.error!r}",
    )
    # A stream cut mid-way ends in a typed error after its chunks.
    reset([{"cut_after": 2}])
    c = Collector()
    start(gw, request("gpt", "a b c d e", stream=True), c)
    check(c.ended.wait(10), "cut stream ends")
    check(
        isinstance(c.error, sp.SwitchpointError.Connection) and len(c.chunks) >= 2,
        f"cut stream {c.error!r} after {len(c.chunks)} chunks",
    )


def main():
    gw = sp.Gateway.from_text(CONFIG)
    test_chat(gw)
    test_stream(gw)
    test_stream_cancel(gw)
    test_errors(gw)
    deadline = time.monotonic() + 10
    while not all(h.is_finished() for h in handles) and time.monotonic() < deadline:
        time.sleep(0.01)
    check(all(h.is_finished() for h in handles), "every stream released its listener")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
