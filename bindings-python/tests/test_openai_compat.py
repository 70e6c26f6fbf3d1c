"""A program written for the official openai package runs against switchpoint by changing
only the import and the constructor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Mock

PROGRAM = Path(__file__).resolve().parents[1] / "examples" / "openai_program.py"

CONFIG = """
providers:
  openai: {{ base_url: "{url}/v1", api_key: sk-switchpoint }}
models:
  gpt-4o-mini: {{ provider: openai, model: gpt-4o-mini }}
  text-embedding-3-small: {{ provider: openai, model: text-embedding-3-small }}
  # The program asks the mock for faults with a model suffix; the gateway routes the same names.
  "gpt-4o-mini!status=429": {{ provider: openai, model: "gpt-4o-mini!status=429" }}
  "gpt-4o-mini!status=401": {{ provider: openai, model: "gpt-4o-mini!status=401" }}
  "gpt-4o-mini!error=context_window": {{ provider: openai, model: "gpt-4o-mini!error=context_window" }}
"""

#: The only edits: the import and the two constructors.
EDITS = [
    ("import openai\n", "import switchpoint as openai\n"),
    (
        'client = openai.OpenAI(base_url=MOCK_URL + "/v1", api_key="sk-program", max_retries=0)\n',
        'client = openai.Gateway.from_file(os.environ["SWITCHPOINT_CONFIG"])\n',
    ),
    (
        'aclient = openai.AsyncOpenAI(base_url=MOCK_URL + "/v1", api_key="sk-program", max_retries=0)\n',
        'aclient = openai.AsyncGateway.from_file(os.environ["SWITCHPOINT_CONFIG"])\n',
    ),
]


def _run(source: str, env: "dict[str, str]", tmp: Path, name: str) -> str:
    path = tmp / name
    path.write_text(source)
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_openai_program_runs_on_switchpoint(mock: Mock, tmp_path: Path) -> None:
    pytest.importorskip("openai")
    original = PROGRAM.read_text()
    changed = original
    for old, new in EDITS:
        assert changed.count(old) == 1, old
        changed = changed.replace(old, new)
    config = tmp_path / "switchpoint.yaml"
    config.write_text(CONFIG.format(url=mock.url))
    env = {**os.environ, "MOCK_URL": mock.url, "SWITCHPOINT_CONFIG": str(config)}

    with_openai = _run(original, env, tmp_path, "with_openai.py")
    with_switchpoint = _run(changed, env, tmp_path, "with_switchpoint.py")
    assert with_switchpoint == with_openai
    lines = with_switchpoint.splitlines()
    assert lines[0] == "chat: hello from a program written for openai stop chat.completion"
    assert "error: rate limited 429" in lines and "error: auth 401" in lines
    assert "error: bad request 400 context_length_exceeded" in lines
    assert lines[-1] == "async stream: async stream"
    # Only the import and the constructors differ.
    diff = [(a, b) for a, b in zip(original.splitlines(), changed.splitlines()) if a != b]
    assert len(diff) == 3
