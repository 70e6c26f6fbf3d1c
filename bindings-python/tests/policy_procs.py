"""What the processes of test_redis.py run (a module of its own, importable by a `spawn`
child without pytest's fixtures): each builds its own Gateway from the config it is given."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import switchpoint


def fire(config: str, n: int, barrier: Any, out: Any) -> None:
    """Sends `n` chat requests once every process is ready; reports (ok, refused with
    rate_limit_exceeded and a retry_after, anything else)."""
    gw = switchpoint.Gateway(config=json.loads(config))
    barrier.wait()
    ok, limited, other = 0, 0, []
    for _ in range(n):
        try:
            gw.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}])
            ok += 1
        except switchpoint.RateLimitExceededError as e:
            if e.code == "rpm" and e.retry_after is not None and e.retry_after > 0:
                limited += 1
            else:
                other.append(repr(e))
        except Exception as e:  # every other failure is reported, not raised in the child
            other.append(repr(e))
    out.put((ok, limited, other))


def _chat(gw: switchpoint.Gateway, args: Dict[str, Any]) -> List[Any]:
    try:
        r = gw.chat.completions.create(messages=[{"role": "user", "content": "hi"}], **args)
    except switchpoint.SwitchpointError as e:
        return ["error", e.kind, e.code, e.message]
    facts = r.switchpoint.to_dict() if r.switchpoint is not None else None
    return ["ok", r.choices[0].message.content, facts]


def serve(config: str, conn: Any) -> None:
    """A gateway answering commands sent through a pipe: ``("chat", kwargs)`` and
    ``("health", None)``; ``None`` ends it."""
    gw = switchpoint.Gateway(config=json.loads(config))
    conn.send("ready")
    while True:
        msg = conn.recv()
        if msg is None:
            break
        op, args = msg
        if op == "chat":
            conn.send(_chat(gw, args))
        elif op == "health":
            conn.send([t.to_dict() for t in gw.health()])
        else:
            conn.send(["error", "unknown op", op, ""])
    conn.close()
