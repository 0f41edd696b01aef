"""Complaint cases at run time: follow-up tasks routed as work, and the case events.

* **One router for all work** (the Twilio TaskRouter idea). A follow-up task that falls due
  becomes a contact on the ``task`` channel in the case policy's ``task_queue``: it waits,
  escalates, is offered and wrapped up as any contact, against that queue's answer target and
  the agents' ``task`` capacity. The case's owner is its preferred agent: offered it first,
  for the queue's dedicated-only step, then the team (no owner logged in: the team at once).
* **Exactly once.** The scheduler looks for due tasks at start, whenever a task is added
  (``wake``), at the next due time and at least every ``check_seconds``. Marking a task
  routed and creating its contact is one store transaction that finds it unrouted
  (``store.cases.route_task``), before the core hears of it; a stop between the two leaves a
  routed task whose contact is not over, which the next start queues again in its place. So
  a task is never routed twice, nor lost.
* **The agent's side** (``ContactHandler`` for ``task``): accept and decline as any offer;
  ``done`` marks the task done in the store, then ends the contact (wrap-up follows). There is
  no hanging up a task: it ends with Done. An agent who is gone hands its tasks back to the
  queue, as chats.
* **Case events** (``CaseOpened``, ``CaseEscalated``, ``CaseOwnerChanged``, ``CaseResolved``,
  ``CaseSlaBreached``) go to listeners (the MQTT bus) and the metrics. A target passed is
  found by the same scheduler (every ``check_seconds``) and noted on the case once, so it is
  announced once, also across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from functools import partial
from typing import Protocol

from contactcenter.agents import SlotState
from contactcenter.cases import CaseError, CasePolicy
from contactcenter.events import CaseEvent, CaseSlaBreached
from contactcenter.routing import ContactState, RoutingError
from contactcenter.runtime.agents import AgentDesk
from contactcenter.runtime.background import cancel_and_wait
from contactcenter.runtime.desk_channel import DeskChannel
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.errors import Refused
from contactcenter.store import Store
from contactcenter.store.cases import (
    OpenTask,
    complete_task,
    due_tasks,
    next_task_due,
    note_breaches,
    open_tasks,
    route_task,
    task_work,
)

log = logging.getLogger(__name__)

CHECK_SECONDS = 60.0
"""At least this often: due tasks (another process may add some) and targets passed."""

CaseListener = Callable[[CaseEvent], None]


class CaseMetrics(Protocol):
    def case_event(self, event: str, category: str) -> None: ...


class CaseTasks(DeskChannel):
    def __init__(
        self,
        engine: Engine,
        store: Store,
        desk: AgentDesk,
        policy: CasePolicy,
        *,
        metrics: CaseMetrics | None = None,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.engine = engine
        self.store = store
        self.desk = desk
        self.policy = policy
        self.metrics = metrics
        self.check_seconds = check_seconds
        self.queue = policy.task_queue if policy.task_queue in engine.center.queues else None
        self._listeners: list[CaseListener] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        if self.queue is not None:
            desk.handle("task", self)

    # -- case events ----------------------------------------------------------------------------

    def listen(self, listener: CaseListener) -> None:
        """Have ``listener`` see every case event (it must not block)."""
        self._listeners.append(listener)

    def announce(self, event: CaseEvent) -> None:
        """A case moved: tell the listeners and count it (by its category in the policy)."""
        if self.metrics is not None:
            known = event.category if event.category in self.policy.categories else "other"
            self.metrics.case_event(_name(event), known)
        for listener in self._listeners:
            listener(event)

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self, stopped: float | None = None) -> None:
        """Bring back the routed tasks whose contact was not over (their place kept), then run
        the scheduler; ``stopped`` is the engine's last sign of life before this start."""
        wall = self.engine.wall()
        cut = min(stopped, wall) if stopped is not None else wall
        for task in await open_tasks(self.store):
            await self._restore(task, cut)
        self._task = asyncio.create_task(self._schedule(), name="case-tasks")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    def wake(self) -> None:
        """A task was added or a case moved: look for due tasks now."""
        self._wake.set()

    async def _restore(self, task: OpenTask, cut: float) -> None:
        store, engine = self.store, self.engine
        if task.done:  # done before the stop, its contact's end was cut
            await store.close_contact(task.contact_id, cut, "done", "completed")
            return
        if task.queue not in engine.center.queues:
            log.warning("open task contact in unknown queue %s dropped from routing", task.queue)
            return
        if task.cut:
            await store.end_segment(task.contact_id, cut, "interrupted")
        await self._enter(task.contact_id, task.queue, task.owner, task.arrived_wall, task.segment)

    # -- the scheduler --------------------------------------------------------------------------

    async def _schedule(self) -> None:
        breaches_due = 0.0
        while True:
            self._wake.clear()
            wall = self.engine.wall()
            try:
                if self.queue is not None:
                    await self._route_due(wall)
                if wall >= breaches_due:
                    await self.note_breaches(wall)
                    breaches_due = wall + self.check_seconds
            except Exception:  # keep going; try again at the next round
                log.exception("case tasks: a round failed")
            timeout = max(0.05, breaches_due - self.engine.wall())
            if self.queue is not None:
                with contextlib.suppress(Exception):
                    nxt = await next_task_due(self.store)
                    if nxt is not None:
                        timeout = max(0.05, min(timeout, nxt - self.engine.wall()))
            # (not ``wait_for``: on Python 3.11 it swallows a cancel that meets a wake-up)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _route_due(self, wall: float) -> None:
        assert self.queue is not None
        tier = self.engine.center.settings.default_tier
        for due in await due_tasks(self.store, wall):
            contact_id = f"task-{secrets.token_hex(8)}"
            routed = await route_task(
                self.store, due.task_id, contact_id=contact_id, queue=self.queue, tier=tier,
                arrived_wall=due.due_wall, wall_time=wall,
            )  # fmt: skip
            if routed:
                log.info("case %d: task %d routed", due.case_id, due.task_id)
                await self._enter(contact_id, self.queue, due.owner, due.due_wall, 1)

    async def _enter(
        self, contact_id: str, queue: str, owner: str, arrived_wall: float, segment: int
    ) -> None:
        """Queue a task's contact, in its place (from when it fell due), its owner first."""
        engine = self.engine
        preferred = owner if owner in engine.center.agents else None
        await engine.submit(
            partial(
                engine.router.contact_arrived,
                contact_id=contact_id,
                queue=queue,
                preferred_agent=preferred,
                arrived_at=engine.now() - max(0.0, engine.wall() - arrived_wall),
                segment=segment,
            )
        )

    async def note_breaches(self, wall: float) -> None:
        """Note and announce the targets cases passed by ``wall``."""
        now = self.engine.now()
        for b in await note_breaches(self.store, self.policy, wall):
            self.announce(CaseSlaBreached(now, b.case_id, b.category, b.severity, b.target))

    # -- the agent's side (``ContactHandler`` for tasks) ----------------------------------------

    async def hang_up(self, agent_id: str, contact_id: str) -> None:
        raise Refused("task_ends_with_done", "a task ends with Done (it marks the task done)")

    async def done(self, agent_id: str, contact_id: str, actor: str) -> int:
        """The agent did the task of the contact it works on: the task is done in the store
        (by ``actor``, the agent's user), then the contact ends and wrap-up starts. Returns the
        case's id."""
        self.desk.held_by(agent_id, contact_id, ContactState.ACTIVE)
        work = await task_work(self.store, contact_id)
        if work is None:
            raise Refused("not_a_task", f"contact {contact_id} routes no task")
        if work.done_wall is None:
            try:
                await complete_task(self.store, work.case_id, work.task_id, actor=actor,
                                    wall_time=self.engine.wall())  # fmt: skip
            except CaseError as err:  # closed meanwhile: nothing left to do on it
                log.info("case %d: task %d not marked done (%s)", work.case_id, work.task_id, err)
        router = self.engine.router
        await self.engine.submit(lambda now: router.contact_completed(now, contact_id))
        return work.case_id

    async def agent_returned(self, agent_id: str) -> None:
        """Nothing to hand back: a restart queued its tasks again."""

    async def agent_lost(self, agent_id: str) -> None:
        """The agent is gone: the tasks it was doing go back to their queue (their place), and
        its task wrap-ups end."""
        router = self.engine.router
        for cid, (channel, state) in list(router.agent(agent_id).slots.items()):
            if channel != "task":
                continue
            view = router.contacts.get(cid)
            if state is SlotState.ACTIVE and view is not None and view.agent == agent_id:
                with contextlib.suppress(RoutingError):
                    await self.engine.submit(partial(router.hand_off, contact_id=cid,
                                                     to_queue=view.queue))  # fmt: skip
            elif state is SlotState.WRAP_UP:
                await self.engine.submit(
                    partial(router.wrap_up_done, contact_id=cid, disposition=None,
                            agent_id=agent_id)
                )  # fmt: skip


def _name(event: CaseEvent) -> str:
    """``CaseSlaBreached`` -> ``sla_breached`` (the metrics' ``event`` label)."""
    return {
        "CaseOpened": "opened",
        "CaseEscalated": "escalated",
        "CaseOwnerChanged": "owner_changed",
        "CaseResolved": "resolved",
        "CaseSlaBreached": "sla_breached",
    }[type(event).__name__]
