"""Shared state across processes (the Redis backend): rate limits counted once for every
process, a key created in one process admitted and then refused in another, and a target
benched by one process skipped by another. Each process has its own Gateway (multiprocessing,
spawn context); a real redis-server runs on a free port for the session."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import socket
import subprocess
import time
import uuid
from typing import Any, Dict, Iterator, List

import pytest
import switchpoint

from . import policy_procs
from .conftest import Mock, user

SPAWN = multiprocessing.get_context("spawn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: the multi-process tests need it (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while not _ping(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def shared(url: str, redis: str, **extra: Any) -> Dict[str, Any]:
    """A config on the shared state, under a prefix of its own (tests do not see each
    other's counters)."""
    cfg: Dict[str, Any] = {
        "providers": {"oai": {"kind": "openai", "base_url": url + "/v1", "api_key": "sk-test"}},
        "models": {"gpt": {"provider": "oai", "model": "gpt-4o-mini"}},
        "state": {"backend": "redis", "redis": {"url": redis, "prefix": f"sp-{uuid.uuid4().hex[:12]}:"}},
    }
    cfg.update(extra)
    return cfg


def test_four_processes_share_one_rate_limit(mock: Mock, redis_url: str) -> None:
    cfg = json.dumps(shared(mock.url, redis_url, limits=[{"scope": "gateway", "rpm": 100}]))
    barrier, out = SPAWN.Barrier(4), SPAWN.Queue()
    procs = [SPAWN.Process(target=policy_procs.fire, args=(cfg, 50, barrier, out)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert [other for _, _, other in results] == [[], [], [], []]
    assert sum(ok for ok, _, _ in results) == 100
    assert sum(limited for _, limited, _ in results) == 100


class Peer:
    """A gateway in another process, driven through a pipe."""

    def __init__(self, config: Dict[str, Any]) -> None:
        self.conn, child = SPAWN.Pipe()
        self.proc = SPAWN.Process(target=policy_procs.serve, args=(json.dumps(config), child))
        self.proc.start()
        assert self.conn.poll(60), "the peer process did not start"
        assert self.conn.recv() == "ready"

    def call(self, op: str, args: Any = None) -> Any:
        self.conn.send((op, args))
        assert self.conn.poll(30), f"the peer process did not answer {op}"
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join(timeout=10)
        assert self.proc.exitcode == 0


def test_a_key_created_in_one_process_is_admitted_then_refused_in_another(mock: Mock, redis_url: str) -> None:
    cfg = shared(mock.url, redis_url, virtual_keys={"required": True})
    a = switchpoint.Gateway(config=cfg)
    b = Peer(cfg)
    try:
        key = a.keys.create(user="cross-process", actor="process-a")
        ok = b.call("chat", {"model": "gpt", "api_key": key["key"]})
        assert ok[0] == "ok" and ok[1] == "hi", ok
        a.keys.revoke(key["id"], actor="process-a")
        refused = b.call("chat", {"model": "gpt", "api_key": key["key"]})
        assert refused[:3] == ["error", "auth", "key_revoked"], refused
        # The audit log is shared too.
        assert [(r["action"], r["actor"]) for r in a.audit()] == [
            ("key_created", "process-a"),
            ("key_revoked", "process-a"),
        ]
    finally:
        b.close()


def test_a_target_benched_in_one_process_is_skipped_by_another(mock: Mock, redis_url: str) -> None:
    cfg = shared(
        mock.url,
        redis_url,
        routes={
            "pair": {
                "targets": [
                    {"provider": "oai", "model": "bench-primary"},
                    {"provider": "oai", "model": "bench-backup"},
                ],
                "retries": {"max": 0},
                "cooldown": {"failures": 1, "duration": "60s"},
            }
        },
    )
    a = switchpoint.Gateway(config=cfg)
    mock.reset()
    mock.script([{"status": 503, "match_model": "bench-primary"}])
    r = a.chat.completions.create(model="pair", messages=user("hi"))
    assert r.switchpoint is not None
    assert [(t.provider_model, t.status) for t in r.switchpoint.attempts] == [
        ("bench-primary", "error"),
        ("bench-backup", "ok"),
    ]
    assert [t.state for t in a.health() if t.model == "bench-primary"] == ["cooling_down"]

    b = Peer(cfg)
    try:
        # A fresh process learns of the rest from the shared state (the watcher publishes
        # within a scan; give it up to a second).
        deadline = time.monotonic() + 1.0
        states: List[str] = []
        while time.monotonic() < deadline:
            states = [t["state"] for t in b.call("health") if t["model"] == "bench-primary"]
            if states == ["cooling_down"]:
                break
            time.sleep(0.05)
        assert states == ["cooling_down"]
        mock.reset()
        answer = b.call("chat", {"model": "pair"})
        assert answer[0] == "ok", answer
        facts = answer[2]
        assert [(t["provider_model"], t["status"]) for t in facts["attempts"]] == [("bench-backup", "ok")]
        assert [e["model"] for e in mock.log()] == ["bench-backup"]
    finally:
        b.close()
