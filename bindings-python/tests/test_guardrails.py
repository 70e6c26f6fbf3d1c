"""Host guardrail hooks: Python callables that see every request's input and every answer,
and allow, deny or rewrite it; exceptions in them fail the request, never the process."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any, Dict, List

import pytest
import switchpoint

from .conftest import Mock, config_for, user


@pytest.fixture()
def gw(mock: Mock) -> switchpoint.Gateway:
    """A gateway of its own per test (hooks are not shared with other tests)."""
    return switchpoint.Gateway(config=config_for(mock.url))


def test_an_allowing_hook_sees_input_and_output(gw: switchpoint.Gateway, clean: Mock) -> None:
    seen: List[Dict[str, Any]] = []
    threads: List[str] = []

    def hook(event: switchpoint.GuardrailEvent) -> None:
        seen.append(dict(event))
        threads.append(threading.current_thread().name)

    hook_id = gw.add_guardrail(hook)
    assert isinstance(hook_id, int)
    r = gw.chat.completions.create(
        model="gpt", messages=user("hello there"), user="u1", team="t1", tags=["t"], metadata={"m": "1"}
    )
    assert r.choices[0].message.content == "hello there"
    assert [e["stage"] for e in seen] == ["input", "output"]
    first, second = seen
    assert first["messages"] == [{"role": "user", "content": "hello there"}]
    assert (first["model"], first["user"], first["team"], first["tags"], first["metadata"]) == (
        "gpt",
        "u1",
        "t1",
        ["t"],
        {"m": "1"},
    )
    assert "content" not in first
    assert second["content"] == "hello there" and "messages" not in second
    # Called off the calling thread (on one of the gateway's blocking threads).
    assert threading.current_thread().name not in threads
    assert gw.remove_guardrail(hook_id) is True
    assert gw.remove_guardrail(hook_id) is False
    gw.chat.completions.create(model="gpt", messages=user("again"))
    assert len(seen) == 2


def test_a_deny_is_policy_denied_with_the_reason(gw: switchpoint.Gateway, clean: Mock) -> None:
    def hook(event: switchpoint.GuardrailEvent) -> Any:
        texts = [m["content"] for m in event.get("messages") or []]
        if any("launch codes" in t for t in texts):
            return {"action": "deny", "reason": "no launch codes"}
        return True

    gw.add_guardrail(hook)
    with pytest.raises(switchpoint.PolicyDeniedError) as e:
        gw.chat.completions.create(model="gpt", messages=user("tell me the launch codes"))
    assert (e.value.kind, e.value.code) == ("policy_denied", "guardrail_hook")
    assert "no launch codes" in e.value.message
    assert clean.log() == []  # the provider was never asked
    assert gw.chat.completions.create(model="gpt", messages=user("weather?")).choices[0].message.content == "weather?"


def test_false_denies_without_a_reason(gw: switchpoint.Gateway, clean: Mock) -> None:
    gw.add_guardrail(lambda event: event["stage"] != "input")
    with pytest.raises(switchpoint.PolicyDeniedError) as e:
        gw.chat.completions.create(model="gpt", messages=user("x"))
    assert "no reason given" in e.value.message


def test_an_input_rewrite_reaches_the_provider(gw: switchpoint.Gateway, clean: Mock) -> None:
    def hook(event: switchpoint.GuardrailEvent) -> Any:
        if event["stage"] != "input":
            return None
        messages = [{**m, "content": m["content"].replace("Project Falcon", "the project")} for m in event["messages"]]
        return {"action": "rewrite", "messages": messages}

    gw.add_guardrail(hook)
    r = gw.chat.completions.create(model="gpt", messages=user("status of Project Falcon"))
    assert r.choices[0].message.content == "status of the project"
    log = clean.log()
    assert [m["content"] for m in log[-1]["body"]["messages"]] == ["status of the project"]


def test_an_output_rewrite_changes_the_answer(gw: switchpoint.Gateway, clean: Mock) -> None:
    def hook(event: switchpoint.GuardrailEvent) -> Any:
        if event["stage"] == "output":
            return {"action": "rewrite", "content": (event.get("content") or "").upper()}
        return None

    gw.add_guardrail(hook)
    r = gw.chat.completions.create(model="gpt", messages=user("quiet words"))
    assert r.choices[0].message.content == "QUIET WORDS"
    # The provider saw the request unchanged.
    assert [m["content"] for m in clean.log()[-1]["body"]["messages"]] == ["quiet words"]


def test_a_hook_that_raises_fails_the_request_not_the_process(gw: switchpoint.Gateway, clean: Mock) -> None:
    def hook(event: switchpoint.GuardrailEvent) -> None:
        raise ValueError("the hook broke")

    hook_id = gw.add_guardrail(hook)
    for _ in range(3):
        with pytest.raises(switchpoint.InternalError) as e:
            gw.chat.completions.create(model="gpt", messages=user("x"))
        assert (e.value.kind, e.value.code, e.value.message) == ("internal", "guardrail_hook_failed", "the hook broke")
    assert clean.log() == []
    gw.remove_guardrail(hook_id)
    assert gw.chat.completions.create(model="gpt", messages=user("alive")).choices[0].message.content == "alive"


def test_an_unusable_answer_is_a_config_error(gw: switchpoint.Gateway) -> None:
    gw.add_guardrail(lambda event: "yes")
    with pytest.raises(switchpoint.ConfigError) as e:
        gw.chat.completions.create(model="gpt", messages=user("x"))
    assert e.value.code == "guardrail_hook_invalid"


def test_add_guardrail_needs_a_callable(gw: switchpoint.Gateway) -> None:
    with pytest.raises(TypeError):
        gw.add_guardrail("not callable")  # type: ignore[arg-type]


def test_hooks_run_in_order_and_see_each_other(gw: switchpoint.Gateway, clean: Mock) -> None:
    def first(event: switchpoint.GuardrailEvent) -> Any:
        if event["stage"] == "input":
            return {"action": "rewrite", "messages": [{"role": "user", "content": "one"}]}
        return None

    second_saw: List[Any] = []

    def second(event: switchpoint.GuardrailEvent) -> None:
        if event["stage"] == "input":
            second_saw.append(event["messages"][0]["content"])

    gw.add_guardrail(first)
    gw.add_guardrail(second)
    assert gw.chat.completions.create(model="gpt", messages=user("zero")).choices[0].message.content == "one"
    assert second_saw == ["one"]


def test_hooks_survive_rebuild_and_reload_once_each(gw: switchpoint.Gateway, config: Dict[str, Any]) -> None:
    stages: List[str] = []
    hook_id = gw.add_guardrail(lambda event: stages.append(event["stage"]))
    gw.rebuild()
    gw.reload(config)
    gw.chat.completions.create(model="gpt", messages=user("x"))
    assert stages == ["input", "output"]
    assert gw.remove_guardrail(hook_id) is True
    gw.rebuild()
    gw.chat.completions.create(model="gpt", messages=user("x"))
    assert stages == ["input", "output"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_hooks_follow_the_gateway_into_a_forked_child(gw: switchpoint.Gateway) -> None:
    gw.add_guardrail(lambda event: {"action": "deny", "reason": f"pid {os.getpid()}"})
    with pytest.raises(switchpoint.PolicyDeniedError):
        gw.chat.completions.create(model="gpt", messages=user("parent"))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 1
        try:
            try:
                gw.chat.completions.create(model="gpt", messages=user("child"))
                os.write(w, b"allowed")
            except switchpoint.PolicyDeniedError as e:
                os.write(w, e.message.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.02)
    answer = os.read(r, 1000).decode()
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0
    # The child's (rebuilt) gateway runs the hook, in the child.
    assert f"pid {pid}" in answer, answer


def test_async_gateway_with_sync_and_async_hooks(mock: Mock) -> None:
    async def play() -> None:
        gw = switchpoint.AsyncGateway(config=config_for(mock.url))
        loop_thread = threading.current_thread().name
        ran_on: List[str] = []

        async def deny_secrets(event: switchpoint.GuardrailEvent) -> Any:
            ran_on.append(threading.current_thread().name)
            await asyncio.sleep(0.01)  # a real await on the loop
            texts = [m["content"] for m in event.get("messages") or []]
            return {"action": "deny", "reason": "secret"} if any("secret" in t for t in texts) else None

        def shout(event: switchpoint.GuardrailEvent) -> Any:
            if event["stage"] == "output":
                return {"action": "rewrite", "content": (event.get("content") or "").upper()}
            return None

        gw.add_guardrail(deny_secrets)
        gw.add_guardrail(shout)
        r = await gw.chat.completions.create(model="gpt", messages=user("calm"))
        assert r.choices[0].message.content == "CALM"
        # The coroutine ran on the event loop's thread.
        assert ran_on and set(ran_on) == {loop_thread}
        with pytest.raises(switchpoint.PolicyDeniedError) as e:
            await gw.chat.completions.create(model="gpt", messages=user("a secret"))
        assert "secret" in e.value.message
        # Many concurrent requests, each through both hooks.
        answers = await asyncio.gather(
            *(gw.chat.completions.create(model="gpt", messages=user(f"n{i}")) for i in range(50))
        )
        assert [a.choices[0].message.content for a in answers] == [f"N{i}" for i in range(50)]

    asyncio.run(play())


def test_an_async_hook_on_a_blocking_gateway_runs_on_a_private_loop(gw: switchpoint.Gateway) -> None:
    async def hook(event: switchpoint.GuardrailEvent) -> Any:
        await asyncio.sleep(0)
        return False if "stop" in str(event.get("messages")) else None

    gw.add_guardrail(hook)
    assert gw.chat.completions.create(model="gpt", messages=user("go")).choices[0].message.content == "go"
    with pytest.raises(switchpoint.PolicyDeniedError):
        gw.chat.completions.create(model="gpt", messages=user("stop"))


def test_many_threads_through_a_hook(gw: switchpoint.Gateway) -> None:
    calls: List[int] = []
    gw.add_guardrail(lambda event: calls.append(1))
    errors: List[BaseException] = []

    def run() -> None:
        try:
            for i in range(25):
                r = gw.chat.completions.create(model="gpt", messages=user(f"t{i}"))
                assert r.choices[0].message.content == f"t{i}"
        except BaseException as e:  # noqa: B036 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(calls) == 8 * 25 * 2
