"""Typed dicts of the admin surface (imported on first use of one of the names: `typing` is
not imported by ``import switchpoint``). The stubs (``__init__.pyi``) say which keys are
always present; at run time these are plain dicts."""

from __future__ import annotations

from typing import Any, Dict, List, TypedDict, Union

__all__ = ["KeySettings", "KeyInfo", "CreatedKey", "AuditRecord", "GuardrailEvent"]


class _KeyBudget(TypedDict, total=False):
    period: str
    limit_usd: Union[str, float, int]
    soft_limit_usd: Union[str, float, int]


class _KeyLimits(TypedDict, total=False):
    rpm: int
    tpm: int
    in_flight: int


class KeySettings(TypedDict, total=False):
    """What a virtual key allows and who it speaks for (``keys.create``/``keys.update``)."""

    key: str
    name: str
    user: str
    team: str
    tier: str
    models: List[str]
    routes: List[str]
    budgets: List[_KeyBudget]
    limits: _KeyLimits
    expires_at: Union[float, str]
    metadata: Dict[str, Any]


class KeyInfo(TypedDict, total=False):
    """A virtual key as ``keys.list``/``get``/``update``/``revoke`` answer it (never its value)."""

    id: str
    source: str
    revoked: bool
    expires_at_ms: int
    created_at_ms: int
    created_by: str
    updated_at_ms: int
    revision: int
    name: str
    user: str
    team: str
    tier: str
    models: List[str]
    routes: List[str]
    budgets: List[_KeyBudget]
    limits: _KeyLimits
    expires_at: Union[float, str]
    metadata: Dict[str, Any]


class CreatedKey(KeyInfo, total=False):
    """A key just created: its value (``key``), shown this once, and its settings."""

    key: str


class AuditRecord(TypedDict, total=False):
    """One administrative change: who (``actor``) did what (``action``) to what, and when."""

    at_ms: int
    actor: str
    action: str
    target: str
    details: Any


class GuardrailEvent(TypedDict, total=False):
    """What a guardrail hook sees: ``stage`` (input or output), ``messages`` (input) or
    ``content`` (output), and who is calling (``model``, ``user``, ``team``, ``key_id``,
    ``tier``, ``tags``, ``metadata``)."""

    stage: str
    messages: List[Dict[str, Any]]
    content: str
    model: str
    user: str
    team: str
    key_id: str
    tier: str
    tags: List[str]
    metadata: Dict[str, Any]


for _cls in (KeySettings, KeyInfo, CreatedKey, AuditRecord, GuardrailEvent):
    _cls.__module__ = "switchpoint"
del _cls
