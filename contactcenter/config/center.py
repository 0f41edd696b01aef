"""The validated center: config models with defaults resolved and cross-references checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from contactcenter.config.models import (
    AgentConfig,
    AnswerTarget,
    CenterSettings,
    Channel,
    ChannelSettings,
    Customer,
    EscalationStep,
    QueueConfig,
    Tier,
)


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the config: which file, which key, and why."""

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"


class ConfigError(Exception):
    """All problems found in a config, reported at once."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass(frozen=True)
class Center:
    """A whole contact center, validated; the routing core and the planner both start here."""

    settings: CenterSettings
    queues: Mapping[str, QueueConfig]
    agents: Mapping[str, AgentConfig]
    customers: Mapping[str, Customer] = field(default_factory=dict)
    extra: Mapping[str, object] = field(default_factory=dict)
    """Validated sections owned by higher layers (IVR flows, hours), keyed by section name."""

    @property
    def tiers(self) -> dict[str, Tier]:
        return {t.id: t for t in self.settings.tiers}

    def tier(self, tier_id: str | None) -> Tier:
        tiers = self.tiers
        return tiers[tier_id if tier_id is not None else self.settings.default_tier]

    def channel(self, channel: Channel) -> ChannelSettings:
        return self.settings.channels[channel]

    def capacity(self, agent: AgentConfig, channel: Channel) -> int:
        return agent.capacity.get(channel, self.settings.channels[channel].capacity)

    def callback_queue(self, queue_id: str) -> str | None:
        """The voice queue that calls back customers of ``queue_id`` (None: it cannot)."""
        q = self.queues[queue_id]
        if q.callback_queue is not None:
            return q.callback_queue
        return q.id if q.channel == "voice" else None

    def dispositions(self, queue_id: str) -> tuple[str, ...]:
        """The wrap-up dispositions of ``queue_id``: its own list, else the center's."""
        q = self.queues.get(queue_id)
        own = q.dispositions if q is not None else None
        return own if own is not None else self.settings.dispositions

    @property
    def all_dispositions(self) -> tuple[str, ...]:
        """Every disposition some queue accepts (the center's first), each once."""
        listed = [self.dispositions(q) for q in self.queues]
        return tuple(
            dict.fromkeys([*self.settings.dispositions, *(d for ds in listed for d in ds)])
        )

    @property
    def dedicated_agent(self) -> dict[str, str]:
        """Customer id -> the agent dedicated to that customer."""
        return {c: a.id for a in self.agents.values() for c in a.dedicated_customers}


FILES = {
    "center": "center.yaml",
    "queues": "queues.yaml",
    "agents": "agents.yaml",
    "customers": "customers.yaml",
}


def resolve_queue(queue: QueueConfig, settings: CenterSettings) -> QueueConfig:
    """Fill channel defaults so the rest of the code never looks them up again."""
    ch = settings.channels[queue.channel]
    target = AnswerTarget(
        threshold_seconds=queue.answer_target.threshold_seconds or ch.answer_threshold_seconds,
        goal_percent=queue.answer_target.goal_percent or ch.answer_goal_percent,
    )
    steps = queue.escalation or (EscalationStep(after_seconds=0),)
    return queue.model_copy(update={"answer_target": target, "escalation": steps})


def step_min_proficiency(queue: QueueConfig, step: EscalationStep, skill: str) -> int:
    return step.min_proficiency if step.min_proficiency is not None else queue.skills[skill]


def can_serve_at_step(agent: AgentConfig, queue: QueueConfig, step: EscalationStep) -> bool:
    """Whether ``agent`` is eligible for ``queue`` at a (non-dedicated) escalation ``step``.

    Capacity and presence are not considered: this is the static part of eligibility.
    """
    if step.dedicated_only:
        return False
    level = agent.queues.get(queue.id)
    if level is None:
        if not step.any_agent:
            return False
    elif step.max_tier is not None and level > step.max_tier:
        return False
    return all(
        agent.skills.get(skill, 0) >= step_min_proficiency(queue, step, skill)
        for skill in queue.skills
    )


class _Issues:
    def __init__(self) -> None:
        self.items: list[ConfigIssue] = []

    def add(self, file: str, path: str, message: str) -> None:
        self.items.append(ConfigIssue(file, path, message))


def build_center(
    settings: CenterSettings,
    queues: list[QueueConfig],
    agents: list[AgentConfig],
    customers: list[Customer] | None = None,
    *,
    file_names: Mapping[str, str] = FILES,
    unchecked_queues: frozenset[str] = frozenset(),
    check_coverage: bool = True,
) -> Center:
    """Cross-check the parts of a center and resolve defaults; raise ConfigError with all issues.

    List positions in the key paths are those of the lists passed in (the files' order).
    ``unchecked_queues`` are ids of queues that failed their own validation: references to them
    are not reported again. ``check_coverage`` False skips "no agent can serve queue" (for
    when the agents could not be read at all).
    """
    issues = _Issues()
    cf, qf, af, kf = (file_names[k] for k in ("center", "queues", "agents", "customers"))
    customers = customers or []

    _check_unique(issues, cf, "skills", [s.id for s in settings.skills])
    _check_unique(issues, cf, "tiers", [t.id for t in settings.tiers])
    _check_unique(issues, qf, "queues", [q.id for q in queues])
    _check_unique(issues, af, "agents", [a.id for a in agents])
    _check_unique(issues, kf, "customers", [c.id for c in customers])
    skills = {s.id for s in settings.skills}
    tiers = {t.id for t in settings.tiers}
    if settings.default_tier not in tiers:
        issues.add(cf, "default_tier", f"unknown tier {settings.default_tier!r}")

    queue_by_id = {q.id: q for q in queues}
    for topic, qid in settings.chat_topics.items():
        target = queue_by_id.get(qid)
        if target is None and qid not in unchecked_queues:
            issues.add(cf, f"chat_topics.{topic}", f"unknown queue {qid!r}")
        elif target is not None and target.channel != "chat":
            issues.add(cf, f"chat_topics.{topic}", f"queue {qid!r} is not a chat queue")
    for i, q in enumerate(queues):
        _check_queue(issues, qf, f"queues[{i}]", q, skills, queue_by_id, unchecked_queues)

    extensions: dict[str, str] = {}
    dedicated: dict[str, str] = {}
    for i, a in enumerate(agents):
        base = f"agents[{i}]"
        for skill in a.skills:
            if skill not in skills:
                issues.add(af, f"{base}.skills.{skill}", f"agent {a.id!r}: unknown skill {skill!r}")
        for qid in a.queues:
            member_of = queue_by_id.get(qid)
            if member_of is None:
                if qid not in unchecked_queues:
                    issues.add(af, f"{base}.queues.{qid}", f"agent {a.id!r}: unknown queue {qid!r}")
            elif a.capacity.get(member_of.channel, 1) == 0:
                issues.add(
                    af,
                    f"{base}.capacity.{member_of.channel}",
                    f"agent {a.id!r} is a member of {member_of.channel} queue {qid!r} "
                    f"but has no {member_of.channel} capacity",
                )
        for qid in a.queue_rank:
            if qid not in queue_by_id and qid not in unchecked_queues:
                issues.add(af, f"{base}.queue_rank.{qid}", f"agent {a.id!r}: unknown queue {qid!r}")
        if a.extension is not None:
            other = extensions.setdefault(a.extension, a.id)
            if other != a.id:
                issues.add(
                    af, f"{base}.extension", f"extension {a.extension!r} is also agent {other!r}'s"
                )
        for j, cust in enumerate(a.dedicated_customers):
            other = dedicated.setdefault(cust, a.id)
            if other != a.id:
                issues.add(
                    af,
                    f"{base}.dedicated_customers[{j}]",
                    f"customer {cust!r} already has dedicated agent {other!r}",
                )
    for i, c in enumerate(customers):
        if c.tier not in tiers:
            issues.add(kf, f"customers[{i}].tier", f"customer {c.id!r}: unknown tier {c.tier!r}")

    resolved = {q.id: resolve_queue(q, settings) for q in queues}
    troubled = {i.path.split(".")[0] for i in issues.items if i.file == qf}
    for i, q in enumerate(queues):
        if check_coverage and f"queues[{i}]" not in troubled:
            rq = resolved[q.id]
            widest = rq.escalation[-1]
            if not any(
                can_serve_at_step(a, rq, widest)
                and a.capacity.get(q.channel, settings.channels[q.channel].capacity) > 0
                for a in agents
            ):
                need = ", ".join(f"{s}>={step_min_proficiency(rq, widest, s)}" for s in q.skills)
                issues.add(
                    qf,
                    f"queues[{i}]",
                    f"no agent can serve queue {q.id!r} even at its widest step "
                    f"(needs {q.channel} capacity and skills {need})",
                )
    if issues.items:
        raise ConfigError(issues.items)
    return Center(
        settings=settings,
        queues=resolved,
        agents={a.id: a for a in agents},
        customers={c.id: c for c in customers},
    )


def _check_unique(issues: _Issues, file: str, key: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            issues.add(file, f"{key}[{i}].id", f"duplicate id {ident!r}")
        seen.add(ident)


def _check_queue(
    issues: _Issues,
    file: str,
    base: str,
    q: QueueConfig,
    skills: set[str],
    queues: Mapping[str, QueueConfig],
    unchecked: frozenset[str],
) -> None:
    for skill in q.skills:
        if skill not in skills:
            issues.add(file, f"{base}.skills.{skill}", f"queue {q.id!r}: unknown skill {skill!r}")

    def check_target(path: str, target: str | None) -> None:
        if target is None or target in unchecked:
            return
        other = queues.get(target)
        if other is None:
            issues.add(file, path, f"queue {q.id!r}: unknown queue {target!r}")
        elif other.id == q.id:
            issues.add(file, path, f"queue {q.id!r} cannot overflow to itself")
        elif other.channel != q.channel:
            issues.add(
                file,
                path,
                f"queue {q.id!r} ({q.channel}) cannot overflow to {other.channel} queue {target!r}",
            )

    if q.max_wait is not None:
        check_target(f"{base}.max_wait.overflow_to", q.max_wait.overflow_to)
        if q.max_wait.action == "overflow" and q.max_wait.overflow_to is None:
            issues.add(file, f"{base}.max_wait.overflow_to", "action 'overflow' needs a queue")
    check_target(f"{base}.no_agents_overflow_to", q.no_agents_overflow_to)
    if q.callback_queue is not None and q.callback_queue not in unchecked:
        target = queues.get(q.callback_queue)
        if target is None:
            issues.add(file, f"{base}.callback_queue", f"unknown queue {q.callback_queue!r}")
        elif target.channel != "voice":
            issues.add(
                file,
                f"{base}.callback_queue",
                f"call backs are calls: queue {q.callback_queue!r} is a {target.channel} queue",
            )
    offers = any(s.offer_callback for s in q.escalation) or (
        q.max_wait is not None and q.max_wait.action == "callback"
    )
    if offers and q.channel != "voice" and q.callback_queue is None:
        issues.add(
            file,
            f"{base}.callback_queue",
            f"queue {q.id!r} ({q.channel}) offers call backs: name the voice queue that makes "
            "them (callback_queue)",
        )
    if q.when_no_agents == "overflow" and q.no_agents_overflow_to is None:
        issues.add(file, f"{base}.no_agents_overflow_to", "when_no_agents 'overflow' needs a queue")

    steps = q.escalation
    prev_time: float | None = None
    prev_open: EscalationStep | None = None
    for j, step in enumerate(steps):
        path = f"{base}.escalation[{j}]"
        check_target(f"{path}.overflow_to", step.overflow_to)
        if step.overflow_to is not None and step.after_seconds == 0:
            issues.add(file, f"{path}.overflow_to", "overflow at 0 s: route to that queue instead")
        if j == 0 and step.after_seconds != 0:
            issues.add(file, f"{path}.after_seconds", "the first step must start at 0 seconds")
        if prev_time is not None and step.after_seconds <= prev_time:
            issues.add(file, f"{path}.after_seconds", "steps must be in increasing time order")
        prev_time = step.after_seconds
        if step.dedicated_only:
            if prev_open is not None:
                issues.add(file, f"{path}.dedicated_only", "dedicated-only steps must come first")
            continue
        if prev_open is not None and not _widens(q, prev_open, step):
            issues.add(
                file,
                path,
                "escalation steps only widen: max_tier may not fall, min_proficiency may not "
                "rise, any_agent may not be switched off",
            )
        prev_open = step
    if steps and prev_open is None:
        issues.add(file, f"{base}.escalation", "needs at least one step that is not dedicated_only")


def _widens(q: QueueConfig, a: EscalationStep, b: EscalationStep) -> bool:
    inf = 1 << 30
    tier_ok = (b.max_tier or inf) >= (a.max_tier or inf)
    prof_ok = all(step_min_proficiency(q, b, s) <= step_min_proficiency(q, a, s) for s in q.skills)
    return tier_ok and prof_ok and (b.any_agent or not a.any_agent)
