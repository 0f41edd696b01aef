"""A recorded day: the contacts that really arrived, what became of them, and the contacts CSV.

One ``RecordedContact`` per contact that entered a queue, in arrival order:

* ``arrived``: seconds since the day's midnight when it entered its first queue (the moment
  routing began: waits count from here);
* ``queue``: that first queue; ``last_queue``: where it was answered, abandoned or removed
  (different when the routing core overflowed it), which is where the KPIs count it;
* ``tier``: the customer tier (None: the center's default);
* ``outcome`` (``OUTCOMES``): ``answered``; ``abandoned`` (hung up while waiting: its wait *is*
  its patience); ``removed`` (the center ended the wait: max wait, no agents, an Asterisk
  timeout, exit key or empty queue); ``callback`` (took a call back offered while waiting);
  ``unfinished`` (still waiting when the record ends). All but ``abandoned`` only tell that the
  customer's patience exceeded the wait (censored);
* ``wait``: seconds from arrival to that outcome (for ``unfinished``: to the end of the record);
* ``talk``: seconds from answer to the end of the conversation (the planner's handle time; None
  when unknown, e.g. a call still going on); ``wrap_up``: the agent's after-contact work, if
  recorded (of the agent who ended the contact);
* ``transfers``: how each of its segments but the last ended when an agent handed it on
  (``Transfer``: to a queue, to an agent, or out of routing and back later: a call back's
  attempt that did not reach the customer), with the next segment's talk; ``talk`` is then
  the first segment's;
* ``dedicated_agent``: the customer's dedicated agent, when the record names one;
* ``queued``: a call back's own contact only: when it entered its queue (``arrived`` is the
  customer's original arrival, its place and answer clock, as live); nobody waits on the line,
  so it never abandons (``removed``: the call back was cancelled or expired while queued).

The CSV (``read_contacts`` / ``write_contacts``; docs/replay.md) has a header and the columns
``arrived,queue,tier,outcome,wait_seconds,talk_seconds,wrap_up_seconds,last_queue,
dedicated_agent,queued,transfers``; only ``arrived``, ``queue``, ``outcome`` and
``wait_seconds`` are required. ``transfers`` is a JSON list of objects with the fields of
``Transfer`` (``queue``, ``agent``, ``back``, ``talk``, ``wrap_up``; absent: none).
``arrived`` (and ``queued``) is the local date and time, ISO 8601
``YYYY-MM-DDTHH:MM:SS[.fraction]``, any number of fraction digits (written with as many as
make the time read back exactly). Rows may come in any order; a file
holds one day (``day`` picks one from a longer file).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from contactcenter.config import ConfigError, ConfigIssue
from contactcenter.kpi import QueueTally

Outcome = Literal["answered", "abandoned", "removed", "callback", "unfinished"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

COLUMNS = (
    "arrived",
    "queue",
    "tier",
    "outcome",
    "wait_seconds",
    "talk_seconds",
    "wrap_up_seconds",
    "last_queue",
    "dedicated_agent",
    "queued",
    "transfers",
)
REQUIRED = ("arrived", "queue", "outcome", "wait_seconds")

_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?")


@dataclass(frozen=True, slots=True)
class Transfer:
    """The end of a segment an agent handed on, and what came of it: to ``queue``, to ``agent``
    (rung at once, in its queue or ``queue``), or with neither out of routing and queued
    again ``back`` seconds later (a call back's next attempt; None: never, it was the last).
    ``talk``: the next segment's conversation (None: drawn); ``wrap_up``: the handing agent's
    after-contact work (None: its queue's timer)."""

    queue: str | None = None
    agent: str | None = None
    back: float | None = None
    talk: float | None = None
    wrap_up: float | None = None


_TRANSFER_FIELDS = ("queue", "agent", "back", "talk", "wrap_up")


@dataclass(frozen=True, slots=True)
class RecordedContact:
    arrived: float
    queue: str
    tier: str | None
    outcome: Outcome
    wait: float
    talk: float | None = None
    wrap_up: float | None = None
    last_queue: str | None = None
    dedicated_agent: str | None = None
    queued: float | None = None
    transfers: tuple[Transfer, ...] = ()

    @property
    def entered(self) -> float:
        """When it entered its first queue (a call back's contact later than its arrival)."""
        return self.arrived if self.queued is None else self.queued

    @property
    def is_callback(self) -> bool:
        """A call back's own contact (nobody on the line while it waits)."""
        return self.queued is not None

    @property
    def counted_in(self) -> str:
        """The queue its KPIs count in."""
        return self.last_queue or self.queue

    @property
    def abandoned(self) -> bool:
        return self.outcome == "abandoned"


@dataclass(frozen=True)
class Recording:
    """One day's contacts in arrival order; ``source`` names where they came from."""

    day: date
    contacts: tuple[RecordedContact, ...]
    source: str

    def within(self, start: float, end: float) -> Recording:
        """Only the contacts that arrived in [start, end)."""
        kept = tuple(c for c in self.contacts if start <= c.arrived < end)
        return Recording(self.day, kept, self.source)

    def tallies(
        self, thresholds: Mapping[str, float], short_abandon: float
    ) -> dict[str, QueueTally]:
        """The day's KPIs per queue as recorded, by ``contactcenter.kpi``'s definitions (each
        contact offered once, in the queue it was answered, abandoned or removed in)."""
        out: dict[str, QueueTally] = {}
        for c in self.contacts:
            q = c.counted_in
            t = out.get(q)
            if t is None:
                t = out[q] = QueueTally(thresholds[q], short_abandon)
            t.entered += 1
            if c.outcome == "answered":
                t.answered += 1
                t.wait_answered_sum += c.wait
                t.answered_within += c.wait <= t.threshold
            elif c.outcome == "abandoned":
                t.abandoned += 1
                t.wait_abandoned_sum += c.wait
                t.abandoned_short += c.wait <= short_abandon
            elif c.outcome in ("removed", "callback"):
                t.removed += 1
        return out

    def talk_times(self, queue: str | None = None) -> np.ndarray:
        """Recorded talk seconds of answered inbound contacts' first segments (of the queue
        they arrived in)."""
        return np.array(
            [
                c.talk
                for c in self.contacts
                if c.talk is not None and not c.is_callback and (queue is None or c.queue == queue)
            ]
        )


def clock_text(day: date, seconds: float) -> str:
    """``seconds`` since midnight as ``YYYY-MM-DDTHH:MM:SS[.fraction]``, digits enough to read
    back to the same float."""
    whole, _, fraction = np.format_float_positional(seconds, unique=True, trim="-").partition(".")
    s = int(whole)
    stamp = f"{day.isoformat()}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{stamp}.{fraction}" if fraction else stamp


def parse_clock_text(text: str) -> tuple[date, float]:
    """The inverse of ``clock_text``: (day, seconds since midnight); ValueError if malformed."""
    m = _STAMP.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"expected YYYY-MM-DDTHH:MM:SS[.fraction], got {text!r}")
    day = date.fromisoformat(m[1])
    h, mi, s = int(m[2]), int(m[3]), int(m[4])
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(f"not a time of day: {text!r}")
    whole = h * 3600 + mi * 60 + s
    return day, float(f"{whole}.{m[5]}") if m[5] else float(whole)


def write_contacts(recording: Recording, path: Path) -> None:
    """The contacts CSV of ``recording`` (reads back to the same contacts); the columns of
    transfers, call backs and dedicated agents only when some contact has them."""

    def num(x: float | None) -> str:
        return "" if x is None else np.format_float_positional(x, unique=True, trim="-")

    contacts = recording.contacts
    used = {
        "dedicated_agent": any(c.dedicated_agent for c in contacts),
        "queued": any(c.is_callback for c in contacts),
        "transfers": any(c.transfers for c in contacts),
    }
    columns = [k for k in COLUMNS if used.get(k, True)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(columns)
        for c in contacts:
            row = {
                "arrived": clock_text(recording.day, c.arrived),
                "queue": c.queue,
                "tier": c.tier or "",
                "outcome": c.outcome,
                "wait_seconds": num(c.wait),
                "talk_seconds": num(c.talk),
                "wrap_up_seconds": num(c.wrap_up),
                "last_queue": c.last_queue or "",
                "dedicated_agent": c.dedicated_agent or "",
                "queued": "" if c.queued is None else clock_text(recording.day, c.queued),
                "transfers": _transfers_text(c.transfers),
            }
            out.writerow([row[k] for k in columns])


def _transfers_text(transfers: tuple[Transfer, ...]) -> str:
    if not transfers:
        return ""
    items = [
        {k: getattr(t, k) for k in _TRANSFER_FIELDS if getattr(t, k) is not None} for t in transfers
    ]
    return json.dumps(items, separators=(",", ":"))


def _transfers(text: str) -> tuple[Transfer, ...]:
    """The ``transfers`` column; ValueError naming what is wrong."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not JSON: {err.msg}") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValueError("expected a JSON list of objects")
    out = []
    for n, item in enumerate(items, 1):
        unknown = sorted(set(item) - set(_TRANSFER_FIELDS))
        if unknown:
            raise ValueError(f"transfer {n}: unknown field(s) {', '.join(unknown)}")
        for k in ("queue", "agent"):
            if item.get(k) is not None and not isinstance(item[k], str):
                raise ValueError(f"transfer {n}: {k} must be a name")
        for k in ("back", "talk", "wrap_up"):
            v = item.get(k)
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0
            ):
                raise ValueError(f"transfer {n}: {k} must be seconds >= 0")
        if item.get("back") is not None and (item.get("queue") or item.get("agent")):
            raise ValueError(f"transfer {n}: back is for a hand-off out of routing only")
        out.append(Transfer(**{k: item.get(k) for k in _TRANSFER_FIELDS}))
    return tuple(out)


def read_contacts(path: Path, day: date | None = None) -> Recording:
    """Read the contacts CSV; ``ConfigError`` lists every problem with its line (queue and
    tier names are the replay's to check against its center). ``day``: keep that day's
    contacts (needed when the file holds several days)."""
    name = path.name
    issues: list[ConfigIssue] = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise ConfigError([ConfigIssue(name, c, "missing column", 1) for c in missing])
            rows = [
                (reader.line_num, {(k or "").strip(): (v or "").strip() for k, v in r.items()})
                for r in reader
            ]
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(name, "", "file is missing")]) from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ConfigError([ConfigIssue(name, "", f"cannot read: {err}")]) from None
    by_day: dict[date, list[tuple[int, RecordedContact]]] = {}
    for line, row in rows:
        if not any(row.values()):
            continue
        found = _contact(row, name, line, issues)
        if found is not None:
            by_day.setdefault(found[0], []).append((line, found[1]))
    if issues:
        raise ConfigError(issues)
    if day is None:
        if len(by_day) > 1:
            days = ", ".join(d.isoformat() for d in sorted(by_day))
            raise ConfigError([ConfigIssue(name, "arrived", f"contacts of several days ({days})")])
        day = next(iter(by_day), None)
    chosen = by_day.get(day, []) if day is not None else []
    if day is None or not chosen:
        what = f"no contacts on {day.isoformat()}" if day is not None else "no contacts"
        raise ConfigError([ConfigIssue(name, "", what)])
    ordered = sorted(chosen, key=lambda lc: (lc[1].arrived, lc[0]))
    return Recording(day, tuple(c for _, c in ordered), name)


def _contact(
    row: dict[str, str], name: str, line: int, issues: list[ConfigIssue]
) -> tuple[date, RecordedContact] | None:
    before = len(issues)

    def problem(column: str, message: str) -> None:
        issues.append(ConfigIssue(name, column, message, line))

    def seconds(column: str, required: bool) -> float | None:
        text = row.get(column, "")
        if not text:
            if required:
                problem(column, "missing")
            return None
        try:
            value = float(text)
        except ValueError:
            problem(column, f"not a number: {text!r}")
            return None
        if not math.isfinite(value) or value < 0:
            problem(column, f"must be a finite number >= 0, got {text!r}")
            return None
        return value

    try:
        day, arrived = parse_clock_text(row["arrived"])
    except ValueError as err:
        problem("arrived", str(err))
        day, arrived = date.min, 0.0
    queue = row["queue"]
    if not queue:
        problem("queue", "missing")
    last = row.get("last_queue") or None
    tier = row.get("tier") or None
    outcome = row["outcome"]
    if outcome not in OUTCOMES:
        problem("outcome", f"expected one of {', '.join(OUTCOMES)}, got {outcome!r}")
    wait = seconds("wait_seconds", True)
    talk = seconds("talk_seconds", False)
    wrap = seconds("wrap_up_seconds", False)
    if talk is not None and outcome != "answered":
        problem("talk_seconds", f"only answered contacts talk (this one is {outcome})")
    queued = None
    if row.get("queued"):
        try:
            queued_day, queued = parse_clock_text(row["queued"])
        except ValueError as err:
            problem("queued", str(err))
        else:
            if (queued_day, queued) < (day, arrived):
                problem("queued", "a call back queues after the customer's arrival")
            elif queued_day != day:
                problem("queued", "a call back of another day")
            if outcome in ("abandoned", "callback"):
                problem("outcome", f"a call back's contact is not {outcome}: nobody waits on it")
    transfers: tuple[Transfer, ...] = ()
    if row.get("transfers"):
        try:
            transfers = _transfers(row["transfers"])
        except ValueError as err:
            problem("transfers", str(err))
        if outcome != "answered":
            problem("transfers", f"only answered contacts are handed on (this one is {outcome})")
    if len(issues) > before or wait is None:
        return None
    contact = RecordedContact(
        arrived,
        queue,
        tier,
        outcome,  # type: ignore[arg-type]  # checked against OUTCOMES above
        wait,
        talk,
        wrap,
        last if last != queue else None,
        row.get("dedicated_agent") or None,
        queued,
        transfers,
    )
    return day, contact
