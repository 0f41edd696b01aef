"""A short, scripted shift through the routing core, told as it happens (``contactcenter demo``).

It drives the real ``Router`` with a tiny discrete clock: agents log in, customers arrive in
several queues (one a VIP with a dedicated agent), agents answer after a few rings (one never
answers), talk, and wrap up; one customer gives up waiting.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from functools import partial

from contactcenter.config import Center
from contactcenter.events import (
    AgentStateChanged,
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactEscalated,
    ContactOffered,
    ContactQueued,
    ContactRemoved,
    ContactTransferred,
    Event,
    OfferRejected,
    TargetBreached,
    WrapUpEnded,
)
from contactcenter.routing import Router

Action = Callable[[float], list[Event]]


def describe(e: Event) -> str | None:
    """One line per event worth telling a newcomer; None for the rest."""
    match e:
        case ContactQueued():
            return f"{e.contact_id} queued in {e.queue} ({e.channel}, tier {e.tier})"
        case ContactOffered():
            return f"{e.contact_id} offered to {e.agent_id} (step {e.step}), ringing"
        case ContactAnswered():
            return f"{e.contact_id} answered by {e.agent_id} after {e.wait_seconds:.0f} s"
        case OfferRejected():
            return f"{e.contact_id}: {e.agent_id} {e.reason}; back in {e.queue}"
        case ContactEscalated():
            return f"{e.contact_id} escalated to step {e.step} of {e.queue}"
        case TargetBreached():
            return f"{e.contact_id} passed the {e.threshold_seconds:.0f} s answer target"
        case ContactAbandoned():
            return f"{e.contact_id} abandoned after {e.wait_seconds:.0f} s"
        case ContactTransferred():
            return f"{e.contact_id} moved {e.from_queue} -> {e.to_queue} ({e.reason})"
        case ContactRemoved():
            return f"{e.contact_id} left {e.queue}: {e.reason}, {e.outcome}"
        case ContactCompleted():
            return f"{e.contact_id} completed by {e.agent_id} after {e.handle_seconds:.0f} s"
        case WrapUpEnded():
            return f"{e.contact_id} wrap-up done by {e.agent_id}: {e.disposition or 'timed out'}"
        case AgentStateChanged() if e.state in ("available", "away", "offline") and e.reason:
            return f"{e.agent_id} is {e.state} ({e.reason})"
    return None


def run_demo(center: Center, *, contacts: int = 12, seed: int = 1) -> Iterator[str]:
    rng = random.Random(seed)
    router = Router(center)
    plan: list[tuple[float, int, Action]] = []
    seq = 0

    def at(t: float, action: Action) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(plan, (t, seq, action))

    voice = [q for q in center.queues.values() if q.channel == "voice"]
    chat = [q for q in center.queues.values() if q.channel == "chat"]
    agents = list(center.agents)[:12]
    sleepy = agents[-1]  # never answers: shows ring timeout and the no-answer rule
    for aid in agents:
        at(0.0, partial(router.agent_logged_in, agent_id=aid))
    vip = next((c for c in center.customers.values() if c.id in center.dedicated_agent), None)
    for i in range(contacts):
        cid = f"demo-{i + 1:02d}"
        queue = rng.choice(chat if i % 4 == 3 else voice).id
        arrive = 5.0 + i * rng.uniform(2, 8)
        if i == 2 and vip is not None and "vip" in center.queues:
            arrival = partial(
                router.contact_arrived,
                contact_id=cid,
                queue="vip",
                customer_id=vip.id,
                tier=vip.tier,
            )
        else:
            arrival = partial(router.contact_arrived, contact_id=cid, queue=queue)
        at(arrive, arrival)
        if i == contacts - 1:
            at(arrive + 40, partial(_abandon_if_waiting, router, cid=cid))

    yield f"demo of {center.settings.name}: {len(agents)} agents, {contacts} contacts"
    while True:
        deadline = router.next_deadline()
        if plan and (deadline is None or plan[0][0] <= deadline):
            now, _, action = heapq.heappop(plan)
            events = action(now)
        elif deadline is not None:
            now, events = deadline, router.advance(deadline)
        else:
            break
        for e in events:
            if isinstance(e, ContactOffered) and e.agent_id != sleepy:
                ring = rng.uniform(2, 6)
                talk = rng.uniform(60, 240)
                at(e.at + ring, partial(_accept, router, cid=e.contact_id))
                at(e.at + ring + talk, partial(_complete, router, cid=e.contact_id))
            if isinstance(e, ContactCompleted):
                done = partial(router.wrap_up_done, contact_id=e.contact_id, disposition="resolved")
                at(e.at + 10, done)
            line = describe(e)
            if line:
                yield f"[{e.at:7.1f}s] {line}"
    yield "all contacts handled"


def _accept(router: Router, now: float, cid: str) -> list[Event]:
    if cid in router.contacts and router.contact(cid).state == "offered":
        return router.offer_accepted(now, cid)
    return router.advance(now)


def _complete(router: Router, now: float, cid: str) -> list[Event]:
    if cid in router.contacts and router.contact(cid).state == "active":
        return router.contact_completed(now, cid)
    return router.advance(now)


def _abandon_if_waiting(router: Router, now: float, cid: str) -> list[Event]:
    if cid in router.contacts and router.contact(cid).state in ("waiting", "offered"):
        return router.contact_abandoned(now, cid)
    return router.advance(now)
