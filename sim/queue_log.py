"""Asterisk's ``queue_log`` as a recorded day (``sim.recording``), for ``contactcenter-sim
queue-log`` (docs/replay.md).

A line is ``epoch|callid|queue|agent|event|data1|data2|...`` (``app_queue.c``); lines are
taken in file order, and a caller's lines are matched by ``callid`` and queue. A contact is an
``ENTERQUEUE`` (its epoch is the arrival) and the line that ends its wait:

=====================================  ============  ==========================
event                                  outcome       wait (seconds)
=====================================  ============  ==========================
CONNECT                                answered      data1 (holdtime)
ABANDON                                abandoned     data3 (waittime)
EXITWITHTIMEOUT, EXITEMPTY, WITHDRAW   removed       data3
EXITWITHKEY                            removed       data4 (a key-out is the
                                                     caller's choice of another
                                                     service: censored, not an
                                                     abandon)
AGENTDUMP, SYSCOMPAT                   removed       line epoch - entry epoch
=====================================  ============  ==========================

The talk time of an answered call is the ``calltime`` of its ``COMPLETECALLER`` /
``COMPLETEAGENT`` (data2) or ``BLINDTRANSFER`` / ``ATTENDEDTRANSFER`` / ``TRANSFER`` (data4);
a call still connected at the end of the file has none (the replay draws one). A caller still
waiting at the end is ``unfinished``, its wait running to the file's last epoch. Member and
admin lines (``callid`` ``NONE``, ``MANAGER``...: pauses, logins, ``QUEUESTART``...) and ring
attempts (``RINGNOANSWER``, ``RINGCANCELED``) say nothing about a caller's wait and are
skipped. queue_log holds no tier and no wrap-up. Epochs are whole seconds, turned into the
local time of ``zone``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path

from contactcenter.config import ConfigError, ConfigIssue
from sim.recording import Outcome, RecordedContact, Recording

_NOT_CALLERS = frozenset({"NONE", "REALTIME", "MANAGER", "CLI", ""})
_ENDS: dict[str, tuple[Outcome, int | None]] = {
    "CONNECT": ("answered", 0),
    "ABANDON": ("abandoned", 2),
    "EXITWITHTIMEOUT": ("removed", 2),
    "EXITEMPTY": ("removed", 2),
    "WITHDRAW": ("removed", 2),
    "EXITWITHKEY": ("removed", 3),
    "AGENTDUMP": ("removed", None),
    "SYSCOMPAT": ("removed", None),
}
"""Event -> (outcome, index of the wait among the data fields; None: from the epochs)."""
_TALK = {
    "COMPLETECALLER": 1,
    "COMPLETEAGENT": 1,
    "BLINDTRANSFER": 3,
    "ATTENDEDTRANSFER": 3,
    "TRANSFER": 3,
}
"""Event -> index of the talk time (calltime) among the data fields."""


@dataclass
class _Call:
    entered: int
    queue: str
    outcome: Outcome | None = None
    wait: float = 0.0
    talk: float | None = None


def read_queue_log(path: Path, zone: tzinfo | None, day: date | None = None) -> Recording:
    """The callers of a queue_log file; ``ConfigError`` lists malformed lines (file, line,
    reason). ``day``: keep the callers who entered a queue that day (local time); needed when
    the file spans several."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(name, "", "file is missing")]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([ConfigIssue(name, "", f"cannot read: {err}")]) from None
    issues: list[ConfigIssue] = []
    calls: list[_Call] = []
    open_calls: dict[tuple[str, str], _Call] = {}
    last_epoch = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 5 or not fields[0].strip().isdigit():
            issues.append(
                ConfigIssue(name, "", "expected epoch|callid|queue|agent|event|...", line_no)
            )
            continue
        epoch = int(fields[0])
        last_epoch = max(last_epoch, epoch)
        callid, queue, event, data = fields[1], fields[2], fields[4], fields[5:]
        if callid in _NOT_CALLERS:
            continue
        key = (callid, queue)
        if event == "ENTERQUEUE":
            call = _Call(epoch, queue)
            calls.append(call)
            open_calls[key] = call
            continue
        call_or_none = open_calls.get(key)
        if call_or_none is None:
            continue  # (a caller who entered before the file began, or a ring attempt)
        call = call_or_none
        try:
            if event in _ENDS and call.outcome is None:
                outcome, at = _ENDS[event]
                call.outcome = outcome
                call.wait = _seconds(data, at) if at is not None else float(epoch - call.entered)
                if outcome != "answered":
                    del open_calls[key]
            elif event in _TALK and call.outcome == "answered":
                call.talk = _seconds(data, _TALK[event])
                del open_calls[key]
        except ValueError as err:
            issues.append(ConfigIssue(name, event, str(err), line_no))
    if issues:
        raise ConfigError(issues)
    contacts: dict[date, list[RecordedContact]] = {}
    for call in calls:
        when = datetime.fromtimestamp(call.entered, zone)
        midnight = datetime.combine(when.date(), datetime.min.time(), when.tzinfo)
        arrived = call.entered - midnight.timestamp()
        outcome = call.outcome or "unfinished"
        wait = call.wait if call.outcome is not None else float(last_epoch - call.entered)
        contact = RecordedContact(arrived, call.queue, None, outcome, wait, call.talk)
        contacts.setdefault(when.date(), []).append(contact)
    if day is None:
        if len(contacts) > 1:
            days = ", ".join(d.isoformat() for d in sorted(contacts))
            raise ConfigError([ConfigIssue(name, "", f"callers of several days ({days})")])
        day = next(iter(contacts), None)
    chosen = contacts.get(day, []) if day is not None else []
    if day is None or not chosen:
        what = f"no caller entered a queue on {day.isoformat()}" if day else "no ENTERQUEUE line"
        raise ConfigError([ConfigIssue(name, "", what)])
    chosen.sort(key=lambda c: c.arrived)  # (stable: same-second callers stay in file order)
    return Recording(day, tuple(chosen), name)


def _seconds(data: list[str], at: int) -> float:
    if len(data) <= at or not data[at].strip().lstrip("-").isdigit():
        got = data[at] if len(data) > at else "nothing"
        raise ValueError(f"expected whole seconds in data{at + 1}, got {got!r}")
    value = int(data[at])
    if value < 0:
        raise ValueError(f"negative seconds in data{at + 1}: {value}")
    return float(value)
