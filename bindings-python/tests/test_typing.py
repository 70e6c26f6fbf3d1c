"""The stubs: mypy --strict passes on a program using every public name, catches mistakes,
and stubtest finds the stubs match the module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import switchpoint

from .conftest import Mock

HERE = Path(__file__).resolve().parent
PKG = HERE.parent
EXAMPLE = PKG / "examples" / "typed_usage.py"


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull, *args],
        capture_output=True,
        text=True,
        cwd=PKG,
    )


def test_example_uses_every_public_name() -> None:
    source = EXAMPLE.read_text()
    missing = [name for name in switchpoint.__all__ if name not in source]
    assert missing == []


def test_mypy_strict_passes_on_the_example() -> None:
    result = _mypy("--strict", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_mypy_catches_misuse(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import switchpoint\n"
        "gw = switchpoint.Gateway()\n"
        "r = gw.chat.completions.create(model='m', messages=[])\n"
        "r.choices[0].message.contnet\n"  # typo
        "n: int = r.choices[0].message.content\n"  # Optional[str]
        "s: switchpoint.ChatCompletion = gw.chat.completions.create(model='m', messages=[], stream=True)\n"
        "gw.chat.completions.create(model='m', messages=[], temprature=1)\n"
        "gw.chat.completions.create(model='m', messages=[], cache={'no_reed': True})\n"
        "gw.usage(group_by='teams')\n"
        "spent: float = gw.usage()[0].cost_usd\n"
        "gw.on_record(lambda record: record.cost.totl)\n"
        "gw.responses.create(model='m', input='x').output_txt\n"
        "e: switchpoint.Response = gw.responses.create(model='m', input='x', stream=True)\n"
        "gw.responses.create(model='m', input='x', max_output_token=5)\n"
        "gw.keys.create(colour='red')\n"
        "gw.keys.create({'limits': {'rpn': 5}})\n"
        "k: str = gw.keys.get('key-1')['revison']\n"
        "gw.audit()[0]['actr']\n"
        "gw.reload(42)\n"
    )
    result = _mypy("--strict", str(bad))
    out = result.stdout
    assert result.returncode == 1
    assert 'has no attribute "contnet"' in out
    assert "Incompatible types in assignment" in out
    assert "Stream[ChatCompletionChunk]" in out
    assert "temprature" in out
    assert 'bad.py:8: error: No overload variant of "create"' in out  # the cache= typo
    assert 'Argument "group_by" to "usage" of "Gateway" has incompatible type' in out
    assert '(expression has type "Decimal", variable has type "float")' in out
    assert 'Item "RecordCost" of "RecordCost | None" has no attribute "totl"' in out
    assert '"Response" has no attribute "output_txt"' in out
    assert "Stream[ResponseStreamEvent]" in out
    assert "max_output_token" in out
    assert 'Unexpected keyword argument "colour" for "create" of "Keys"' in out
    assert 'bad.py:16: error: Argument 1 to "create" of "Keys" has incompatible type' in out
    assert 'TypedDict "KeyInfo" has no key "revison"' in out
    assert 'TypedDict "AuditRecord" has no key "actr"' in out
    assert 'Argument 1 to "reload" of "Gateway" has incompatible type "int"' in out


def test_stubtest_finds_the_stubs_match() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "switchpoint",
            "--allowlist",
            str(HERE / "stubtest-allowlist.txt"),
        ],
        capture_output=True,
        text=True,
        cwd=PKG / "python",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_example_runs(mock: Mock) -> None:
    env = {**os.environ, "MOCK_URL": mock.url}
    result = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("typed hello stop 4 tokens (cached 0, reasoning 0) oai/gpt-4o-mini ok in ")
    assert "BadRequestError bad_request messages[0].role None None None None" in lines
    assert lines[-1] == "2"
    assert "['key_created', 'key_updated', 'key_revoked']" in lines


@pytest.mark.parametrize("name", ["py.typed", "__init__.pyi", "_native.pyi"])
def test_package_ships_typing_files(name: str) -> None:
    assert (Path(switchpoint.__file__).parent / name).exists()


def test_demo_runs_and_type_checks(mock: Mock) -> None:
    demo = PKG / "examples" / "demo.py"
    env = {**os.environ, "MOCK_URL": mock.url}
    result = subprocess.run([sys.executable, str(demo)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "gpt     -> openai     gpt-4o-mini        'Hello from one API to every provider'  tokens 7+7" in out
    assert "claude  -> anthropic  claude-sonnet-4-5  'Hello from one API to every provider'  tokens 7+7" in out
    assert "streams arrive word by word as they are produced  [usage: 18 tokens]" in out
    assert "RateLimitError: kind=rate_limited status_code=429 provider=openai retry_after=2.0" in out
    assert "NotFoundError: kind=not_found param=model" in out
    checked = _mypy("--strict", str(demo))
    assert checked.returncode == 0, checked.stdout
