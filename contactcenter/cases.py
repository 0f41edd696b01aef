"""Complaint cases: what a case is, the moves between its statuses, and the center's case policy
(``config/cases.yaml``).

Vocabulary:

* **case**: a complaint an agent opens from a contact, linked to the (verified) customer and to
  that contact, with a **category** (what it is about), a **severity** (how fast it must be
  handled) and an **owner** (the agent who opened it, until someone else takes it).
* **status**: ``open`` -> ``escalated`` (to a supervisor), ``with_department`` (handed to a
  back-office **department**), ``waiting_for_customer``, ``resolved``, ``closed``. The moves
  allowed are the table ``TRANSITIONS``; any other raises ``IllegalMove``.
* **acknowledged**: the first step anyone takes on a case after opening it (a move, a note or
  a follow-up task): the customer's complaint is being worked on.
* **targets**: a severity says within how many hours a case must be acknowledged and resolved
  (from its opening); a case past either, and not yet resolved, is **overdue**.
* **follow-up task**: something to do on a case by a due time; done once, by someone. When
  due it becomes routed work: a contact on the ``task`` channel in the policy's
  ``task_queue``, offered to the case's owner first (``runtime/case_tasks.py``).
* **owner change**: the case is handed to another user (a colleague, or a supervisor on
  escalation); the history says who, when, from and to.

Pure: no database, no clock (times are wall-clock seconds handed in). Loading reads the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contactcenter.config import ConfigError, ConfigIssue
from contactcenter.config.loader import read_yaml, validate_one
from contactcenter.config.models import Identifier
from contactcenter.events import CaseTarget as Target

FILE = "cases.yaml"


class CaseStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    WITH_DEPARTMENT = "with_department"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


S = CaseStatus
_WORKING = frozenset({S.OPEN, S.ESCALATED, S.WITH_DEPARTMENT, S.WAITING_FOR_CUSTOMER})

TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    S.OPEN: frozenset({S.ESCALATED, S.WITH_DEPARTMENT, S.WAITING_FOR_CUSTOMER, S.RESOLVED}),
    S.ESCALATED: frozenset({S.OPEN, S.WITH_DEPARTMENT, S.WAITING_FOR_CUSTOMER, S.RESOLVED}),
    S.WITH_DEPARTMENT: frozenset({S.OPEN, S.ESCALATED, S.WAITING_FOR_CUSTOMER, S.RESOLVED}),
    S.WAITING_FOR_CUSTOMER: frozenset({S.OPEN, S.ESCALATED, S.WITH_DEPARTMENT, S.RESOLVED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),  # reopened when the customer disagrees
    S.CLOSED: frozenset(),
}
"""Status -> the statuses a case in it may move to. ``closed`` is final."""

OPEN_STATUSES: frozenset[CaseStatus] = _WORKING
"""The statuses of a case still being worked on (shown on the screen-pop, counted as open)."""


class CaseError(Exception):
    """A step on a case that the case rules refuse."""


class IllegalMove(CaseError):
    """The move is not in ``TRANSITIONS`` (e.g. a closed case, or closing an open one)."""

    def __init__(self, current: CaseStatus, to: CaseStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none: it is final"
        super().__init__(f"a case {current} cannot move to {to} (allowed: {allowed})")
        self.current = current
        self.to = to


class DepartmentRequired(CaseError):
    """Handing a case to a department names the department (and only that move does)."""


def check_move(current: CaseStatus, to: CaseStatus, department: str | None) -> None:
    """Raise ``IllegalMove`` or ``DepartmentRequired`` unless ``current`` -> ``to`` is allowed."""
    if to not in TRANSITIONS[current]:
        raise IllegalMove(current, to)
    if (to is S.WITH_DEPARTMENT) != (department is not None):
        need = "names" if to is S.WITH_DEPARTMENT else "is only named when it hands to"
        raise DepartmentRequired(f"a move to {to} {need} a department")


# -- the case policy (config/cases.yaml) --------------------------------------------------------


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Identifier
    name: str = Field(default="", max_length=100)


class Category(_Item):
    """What a case is about (``billing``, ``outage``): a label of the case metrics."""


class Department(_Item):
    """A back-office team a case can be handed to."""


class Severity(_Item):
    """How fast a case must be handled: acknowledged and resolved within these hours."""

    acknowledge_within_hours: float = Field(gt=0, le=24 * 365)
    resolve_within_hours: float = Field(gt=0, le=24 * 365)


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: tuple[Category, ...] = Field(min_length=1)
    severities: tuple[Severity, ...] = Field(min_length=1)
    departments: tuple[Department, ...] = ()
    task_queue: str | None = Field(default=None, min_length=1, max_length=64)


@dataclass(frozen=True)
class CasePolicy:
    """The center's categories, severities (with their targets) and departments, by id."""

    categories: Mapping[str, Category] = field(default_factory=dict)
    severities: Mapping[str, Severity] = field(default_factory=dict)
    departments: Mapping[str, Department] = field(default_factory=dict)
    task_queue: str | None = None
    """The ``task`` queue due follow-up tasks enter (None: they are not routed)."""

    def overdue(self, severity: str, status: CaseStatus, opened: float, acknowledged: float | None,
                now_wall: float) -> bool:  # fmt: skip
        """Whether a case is past a target of its severity at ``now_wall`` (a resolved or
        closed case never is; a severity no longer in the policy has no targets)."""
        return bool(self.breached(severity, status, opened, acknowledged, now_wall))

    def breached(self, severity: str, status: CaseStatus, opened: float,
                 acknowledged: float | None, now_wall: float) -> tuple[Target, ...]:  # fmt: skip
        """The targets of its severity a case being worked on is past at ``now_wall``."""
        s = self.severities.get(severity)
        if s is None or status not in OPEN_STATUSES:
            return ()
        late_ack = acknowledged is None and now_wall > opened + s.acknowledge_within_hours * 3600
        late_resolve = now_wall > opened + s.resolve_within_hours * 3600
        return (*(("acknowledge",) if late_ack else ()), *(("resolve",) if late_resolve else ()))


def load_cases(directory: str | Path, queues: Mapping[str, str] | None = None) -> CasePolicy:
    """Load ``cases.yaml`` from ``directory`` (none: a center without cases, every category
    unknown). Raises ConfigError with every problem (file, key path, reason), among them an
    id listed twice. ``queues`` (queue id -> channel, the center's) checks ``task_queue``."""
    issues: list[ConfigIssue] = []
    doc: Any = read_yaml(Path(directory) / FILE, issues, required=False)
    if doc is None and not issues:
        return CasePolicy()
    parsed = validate_one(_PolicyFile, doc, FILE, issues) if not issues else None
    if parsed is None:
        raise ConfigError(issues or [ConfigIssue(FILE, "", "expected a mapping")])
    lists: dict[str, tuple[_Item, ...]] = {
        "categories": parsed.categories,
        "severities": parsed.severities,
        "departments": parsed.departments,
    }
    for key, items in lists.items():
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in seen:
                issues.append(
                    ConfigIssue(FILE, f"{key}[{i}].id", f"{key}[{seen[item.id]}] has this id too")
                )
            seen.setdefault(item.id, i)
    if parsed.task_queue is not None and queues is not None:
        channel = queues.get(parsed.task_queue)
        if channel != "task":
            why = "unknown queue" if channel is None else f"a {channel} queue, not a task queue"
            issues.append(ConfigIssue(FILE, "task_queue", f"{parsed.task_queue!r}: {why}"))
    if issues:
        raise ConfigError(issues)
    return CasePolicy(
        {c.id: c for c in parsed.categories},
        {s.id: s for s in parsed.severities},
        {d.id: d for d in parsed.departments},
        parsed.task_queue,
    )
