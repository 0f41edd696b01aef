"""``explain``: why a waiting contact is (not) offered to each agent, in codes and words.

For supervisors ("why is this VIP still waiting?") and for tests, which check the codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from contactcenter.config import AgentConfig, EscalationStep, QueueConfig, step_min_proficiency
from contactcenter.routing.contact import Contact, ContactState

if TYPE_CHECKING:
    from contactcenter.routing.router import Router

Reason = Literal[
    "not_member",
    "skill",
    "proficiency",
    "tier_level",
    "dedicated_only",
    "step",
    "offline",
    "away",
    "offered",
    "capacity",
    "wrap_up",
    "blocked",
    "excluded",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    agent_id: str
    eligible: bool
    reason: Reason | None
    detail: str


@dataclass(frozen=True, slots=True)
class Explanation:
    contact_id: str
    queue: str
    state: ContactState
    step: int
    wait_seconds: float
    agent: str | None
    candidates: tuple[Candidate, ...]


def explain(router: Router, c: Contact) -> Explanation:
    """Every agent who is a member of the contact's queue, could serve it at some step, or is
    its dedicated agent, with whether they are eligible now and, if not, why."""
    qs = router.queues[c.queue]
    now = router.now
    cands: list[Candidate] = []
    if c.state is ContactState.WAITING:
        for aid, cfg in router.center.agents.items():
            if aid == c.preferred_agent or aid in qs.first_step or c.queue in cfg.queues:
                cands.append(_candidate(router, c, qs.cfg, cfg, qs.first_step.get(aid)))
    return Explanation(c.id, c.queue, c.state, c.step, now - c.arrived_at, c.agent, tuple(cands))


def _candidate(
    router: Router, c: Contact, q: QueueConfig, cfg: AgentConfig, first: int | None
) -> Candidate:
    aid = cfg.id
    steps = q.escalation
    step = steps[c.step]
    dedicated = aid == c.preferred_agent
    if not dedicated:
        if step.dedicated_only:
            return Candidate(
                aid, False, "dedicated_only", f"step {c.step} is for the dedicated agent"
            )
        if first is None:
            code, text = _static(cfg, q, steps[-1])
            return Candidate(aid, False, code, f"{text} at every step")
        if first > c.step:
            code, text = _static(cfg, q, step)
            when = steps[first].after_seconds
            return Candidate(aid, False, "step", f"{text}; eligible from step {first} ({when:g} s)")
    agent = router.agents[aid]
    why = agent.why_not(c.channel)
    if why is not None:
        return Candidate(aid, False, _dynamic_code(why), why)
    if c.is_excluded(aid, router.now):
        until = c.excluded[aid]
        return Candidate(aid, False, "excluded", f"declined or missed it; again from {until:g}")
    return Candidate(aid, True, None, "dedicated agent" if dedicated else "eligible")


def _static(cfg: AgentConfig, q: QueueConfig, step: EscalationStep) -> tuple[Reason, str]:
    for skill in q.skills:
        need = step_min_proficiency(q, step, skill)
        has = cfg.skills.get(skill, 0)
        if has == 0:
            return "skill", f"lacks skill {skill}"
        if has < need:
            return "proficiency", f"{skill} proficiency {has} < {need}"
    level = cfg.queues.get(q.id)
    if level is None:
        return "not_member", "not a member of the queue"
    if step.max_tier is not None and level > step.max_tier:
        return "tier_level", f"tier level {level} > {step.max_tier}"
    return "capacity", f"no {q.channel} capacity"


def _dynamic_code(why: str) -> Reason:
    if why == "offline":
        return "offline"
    if why.startswith("away"):
        return "away"
    if why.startswith("being offered"):
        return "offered"
    if why == "in wrap-up":
        return "wrap_up"
    if why.startswith("blocked"):
        return "blocked"
    return "capacity"
