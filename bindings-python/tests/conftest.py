"""Shared fixtures: the mock provider process, its control API, and gateways pointed at it."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import switchpoint

ROOT = Path(__file__).resolve().parents[2]


def _mock_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = target / "debug" / "mock-provider"
    if not path.exists():
        pytest.exit(f"mock provider not built at {path}: run `cargo build -p mock-provider`", 2)
    return path


class Mock:
    """The mock provider's control endpoints (log, script queue)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def reset(self) -> None:
        self._call("DELETE", "/_mock/log")
        self._call("DELETE", "/_mock/script")

    def script(self, faults: List[Dict[str, Any]]) -> None:
        self._call("POST", "/_mock/script", faults)

    def log(self) -> List[Dict[str, Any]]:
        return self._call("GET", "/_mock/log")  # type: ignore[no-any-return]

    def wait_for(self, pred: Callable[[List[Dict[str, Any]]], bool], timeout: float = 5.0) -> List[Dict[str, Any]]:
        """Polls the log until `pred` holds (the end of a response is recorded asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log()
            if pred(log) or time.monotonic() > deadline:
                return log
            time.sleep(0.02)


@pytest.fixture(scope="session")
def mock() -> Iterator[Mock]:
    proc = subprocess.Popen(
        [str(_mock_binary()), "--port", "0", "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline().strip()
    prefix = "mock-provider listening on "
    assert line.startswith(prefix), f"unexpected first line from the mock: {line!r}"
    os.environ["MOCK_URL"] = line[len(prefix) :]
    try:
        yield Mock(line[len(prefix) :])
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def config_for(url: str) -> Dict[str, Any]:
    """Four providers of three wire formats on the mock, and models on each."""
    return {
        "providers": {
            "oai": {"kind": "openai", "base_url": url + "/v1", "api_key": "sk-test"},
            "claude": {"kind": "anthropic", "base_url": url, "api_key": "sk-ant-test"},
            "gem": {"kind": "gemini", "base_url": url, "api_key": "gm-test"},
            "oai_bad": {"kind": "openai", "base_url": url + "/v1", "api_key": "bad-key"},
        },
        "models": {
            "gpt": {"provider": "oai", "model": "gpt-4o-mini"},
            "sonnet": {"provider": "claude", "model": "claude-sonnet-4-5"},
            "flash": {"provider": "gem", "model": "gemini-2.5-flash"},
            "locked": {"provider": "oai_bad", "model": "gpt-4o-mini"},
            "embed": {"provider": "oai", "model": "text-embedding-3-small"},
        },
    }


@pytest.fixture(scope="session")
def config(mock: Mock) -> Dict[str, Any]:
    return config_for(mock.url)


@pytest.fixture(scope="session")
def gw(config: Dict[str, Any]) -> switchpoint.Gateway:
    return switchpoint.Gateway(config=config)


@pytest.fixture(scope="session")
def agw(config: Dict[str, Any]) -> switchpoint.AsyncGateway:
    return switchpoint.AsyncGateway(config=config)


@pytest.fixture()
def clean(mock: Mock) -> Mock:
    """The mock with an empty log and script queue."""
    mock.reset()
    return mock


def user(text: str) -> List[Dict[str, str]]:
    return [{"role": "user", "content": text}]
