"""The JSON the bus publishes, one builder per topic kind; each kind has its JSON Schema in
``contactcenter/bus/schemas/<kind>.schema.json`` (the tests hold every payload to it).

Every payload names its ``schema`` (kind and version), its ``site`` and ``ts`` (UTC
milliseconds, when it was made). Events also carry ``boot`` (random per engine start) and
``seq`` (1, 2, ... per boot, no gaps unless the buffer overflowed): a consumer drops a
duplicate (at-least-once delivery) by ``(boot, seq)`` and sees a loss as a gap.

No customer data: events carry contact ids (random), queue, agent and tier ids (config) and
closed vocabularies; case events a case id (a number), category and severity (config) and the
users involved, never the customer, description, notes or task texts. The free-text fields
an agent or supervisor can fill (an away ``reason``, a ``disposition``) and user names (a
case's owner, who moved it) go out only when they look like a short code, else as ``other``,
so a phone number or an e-mail address typed there never reaches the bus.
"""

from __future__ import annotations

import dataclasses
import json
import re
from enum import Enum
from importlib.resources import files
from typing import Any, get_args

from contactcenter.events import CaseEvent, Event

KINDS = ("engine_status", "agent_state", "queue_stats", "event")
VERSION = 1

_MONOTONIC = {"arrived_at": "arrived_ts", "ring_deadline": "ring_deadline_ts"}
"""Event fields on the engine's monotonic clock, published as UTC milliseconds instead."""
_FREE_TEXT = frozenset({"reason", "disposition", "owner", "previous_owner", "by"})
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")
_DIGITS = re.compile(r"\d{5}")


def event_type(cls: type) -> str:
    """``ContactQueued`` -> ``contact_queued``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


_FIELDS: dict[type, tuple[str, tuple[str, ...]]] = {
    cls: (event_type(cls), tuple(f.name for f in dataclasses.fields(cls) if f.name != "at"))
    for cls in (*get_args(Event), *get_args(CaseEvent))
}


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``kind`` (one of ``KINDS``), as shipped in the package."""
    text = files("contactcenter.bus").joinpath("schemas", f"{kind}.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def code(value: str | None) -> str | None:
    """A free-text value as it may be published: itself if it looks like a short code (no
    run of five digits, no ``@``), else ``other``."""
    if value is None:
        return None
    if _CODE.fullmatch(value) is None or _DIGITS.search(value) is not None:
        return "other"
    return value


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def _head(kind: str, site: str, ts_ms: int) -> dict[str, Any]:
    return {"schema": f"cc.{kind}/{VERSION}", "site": site, "ts": ts_ms}


def engine_status(
    site: str, boot: str, state: str, *, started_ms: int, ts_ms: int, reason: str | None = None
) -> dict[str, Any]:
    """``online`` (after each connect), ``offline`` (the last will, ``reason`` ``lost``; or
    before a clean disconnect, ``stopped``)."""
    return {**_head("engine_status", site, ts_ms), "state": state, "reason": reason,
            "boot": boot, "started": started_ms}  # fmt: skip


def agent_state(
    site: str, agent: str, state: str, reason: str | None, *, since_ms: int, ts_ms: int
) -> dict[str, Any]:
    return {**_head("agent_state", site, ts_ms), "agent": agent, "state": state,
            "reason": code(reason), "since": since_ms}  # fmt: skip


def queue_stats(site: str, row: dict[str, Any], agents_available: int) -> dict[str, Any]:
    """A queue's live numbers from a wallboard row (``Wallboard.queues``), without ``ts``
    (so two can be compared: only a change is published); ``stamped`` adds it."""
    return {
        "schema": f"cc.queue_stats/{VERSION}",
        "site": site,
        "queue": row["queue"],
        "channel": row["channel"],
        "waiting": row["waiting"],
        "oldest_wait_seconds": row["oldest_wait_seconds"],
        "agents_available": agents_available,
        "service_level": row["service_level"],
        "service_level_goal": row["service_level_goal"],
        "answer_threshold_seconds": row["answer_threshold_seconds"],
        "offered": row["offered"],
        "answered": row["answered"],
        "abandoned": row["abandoned"],
        "asa_seconds": row["asa_seconds"],
    }


def stamped(payload: dict[str, Any], ts_ms: int) -> dict[str, Any]:
    return {**payload, "ts": ts_ms}


def event(site: str, boot: str, seq: int, ts_ms: int, e: Event | CaseEvent) -> dict[str, Any]:
    """One domain event: its fields (``at`` becomes ``ts``; monotonic instants UTC ms)."""
    kind, names = _FIELDS[type(e)]
    out: dict[str, Any] = {**_head("event", site, ts_ms), "boot": boot, "seq": seq,
                           "type": kind}  # fmt: skip
    for name in names:
        value = getattr(e, name)
        if name in _MONOTONIC:
            out[_MONOTONIC[name]] = ts_ms - round((e.at - value) * 1000)
        elif name in _FREE_TEXT:
            out[name] = code(value)
        elif isinstance(value, Enum):
            out[name] = value.value
        else:
            out[name] = value
    return out
