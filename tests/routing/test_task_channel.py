"""Follow-up tasks of complaint cases as routed work: a contact on the ``task`` channel enters
the core's queues like any other, with its own answer target and capacity; the case's owner is
its preferred agent (offered first, for the queue's dedicated-only step), then the team; and a
task an agent holds never keeps a call from reaching that agent."""

from __future__ import annotations

from contactcenter.agents import Presence
from contactcenter.config import load_center
from contactcenter.events import ContactEscalated, ContactOffered, ContactQueued
from contactcenter.routing import Router

from .conftest import CONFIG_DIR, agent, login, make_router, of, one, queue, step


def task_router() -> Router:
    """``tasks``: the owner only for 120 s, then the team; ``owner`` and ``mate`` are on the
    team, ``caller`` only takes calls; everyone may hold one task."""
    tasks = queue(
        "tasks", channel="task", escalation=(step(0, dedicated_only=True), step(120, max_tier=1))
    )
    calls = queue("calls")
    return make_router(
        [tasks, calls],
        [
            agent("owner", {"tasks": 1, "calls": 1}),
            agent("mate", {"tasks": 1}),
            agent("caller", {"calls": 1}),
        ],
    )


def test_a_due_task_is_offered_to_its_owner_first_then_to_the_team_after_the_timeout() -> None:
    r = task_router()
    login(r, 0, "mate", "owner")
    r.contact_arrived(0, "busy", "calls")  # the owner is on a call: the task must wait for it
    r.offer_accepted(0, "busy")

    ev = r.contact_arrived(1, "task-1", "tasks", preferred_agent="owner")
    queued = one(ev, ContactQueued)
    assert (queued.channel, queued.queue) == ("task", "tasks")
    assert of(ev, ContactOffered) == []  # mate is ready, but the owner comes first
    ev = r.contact_completed(60, "busy")  # the call ends (no wrap-up): the owner takes its task
    assert one(ev, ContactOffered).agent_id == "owner"

    # the owner turns it down and takes a break: the team gets it once the owner's step is over
    r.offer_declined(61, "task-1")
    r.set_agent_presence(61, "owner", Presence.AWAY, "break")
    assert of(r.advance(120.9), ContactOffered) == []
    ev = r.advance(121)
    assert one(ev, ContactEscalated).step == 1
    offer = one(ev, ContactOffered)
    assert (offer.agent_id, offer.channel) == ("mate", "task")


def test_without_its_owner_logged_in_a_task_goes_to_the_team_at_once() -> None:
    r = task_router()
    login(r, 0, "mate")
    offer = one(r.contact_arrived(1, "task-1", "tasks", preferred_agent="owner"), ContactOffered)
    assert offer.agent_id == "mate"


def test_a_task_in_hand_never_blocks_a_call() -> None:
    r = task_router()
    login(r, 0, "owner")
    r.contact_arrived(0, "task-1", "tasks", preferred_agent="owner")
    r.offer_accepted(1, "task-1")
    ev = r.contact_arrived(2, "call-1", "calls")
    assert one(ev, ContactOffered).agent_id == "owner"
    r.offer_accepted(3, "call-1")
    owner = r.agent("owner")
    assert (owner.count("task"), owner.count("voice")) == (1, 1)


def test_the_shipped_config_routes_case_tasks() -> None:
    center = load_center(CONFIG_DIR)
    tasks = [q for q in center.queues.values() if q.channel == "task"]
    assert tasks, "config/queues.yaml has a task queue"
    assert tasks[0].escalation[0].dedicated_only
    assert center.settings.channels["task"].blocks == ()
