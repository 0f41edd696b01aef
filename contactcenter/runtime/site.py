"""One site's live runtime: the engine and one service per concept of a contact's life, and the
edges handed to it.

Start order: the engine binds to the loop, the last sign of life before this start is read,
each service restores its part of the work that was in progress (calls the stop cut are closed
as interrupted, chats come back waiting or for their agent, call backs in order, agents are
expected back; today's tally is taken back once the chats are queued again, as their queueing
again is no new offer), the sign of life starts beating (it saves today's tally too), then the
edges start (they may take new contacts at once). Stop order is the reverse. Edges are given
explicitly (``add_edge``); nothing travels through the config.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contactcenter.cases import CasePolicy
from contactcenter.config import Center
from contactcenter.ivr.loader import flows_of
from contactcenter.mail.settings import MailSettings
from contactcenter.runtime.agents import AgentDesk
from contactcenter.runtime.callbacks import CallbackService
from contactcenter.runtime.case_tasks import CaseTasks
from contactcenter.runtime.chat import ChatService
from contactcenter.runtime.chat_front_door import ChatFrontDoor
from contactcenter.runtime.desktops import Desktops
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.liveness import Liveness
from contactcenter.runtime.mail import MailService
from contactcenter.runtime.ports import Edge, MetricsLike
from contactcenter.runtime.supervision import Supervision
from contactcenter.runtime.surveys import Surveys
from contactcenter.runtime.transfers import Transfers
from contactcenter.runtime.voice import VoiceService
from contactcenter.runtime.wallboard import Wallboard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeSettings:
    agent_grace_seconds: float = 30.0
    """An agent whose desktop is gone this long is set away (``disconnected``)."""
    restart_grace_seconds: float = 120.0
    """After a restart, agents have this long to come back as they were (with their chats)."""
    alive_every_seconds: float = 2.0
    """How often the engine writes its sign of life (a crash is dated to within this)."""


class Site:
    def __init__(
        self,
        center: Center,
        store: Any,
        *,
        metrics: MetricsLike | None = None,
        wall: Callable[[], float] = time.time,
        settings: RuntimeSettings | None = None,
        cases: CasePolicy | None = None,
        contact_token: Callable[[str], str] | None = None,
    ) -> None:
        """``cases``: the complaint case policy (its ``task_queue`` routes follow-up tasks).
        ``contact_token``: a contact's customer token (what the chat widget holds; what a
        survey link carries), from the server's secret; None: no survey links are sent."""
        self.center = center
        self.store = store
        self.contact_token = contact_token
        self.settings = settings or RuntimeSettings()
        self.engine = Engine(center, store, metrics=metrics, wall=wall)
        self.liveness = Liveness(
            store,
            wall,
            self.settings.alive_every_seconds,
            health=self.engine.store_health,
            save=lambda wall_time: self.engine.day_tally.save(store, wall_time),
        )
        self.agents = AgentDesk(self.engine, store)
        self.callbacks = CallbackService(self.engine, store, metrics=metrics)
        if metrics is not None:
            metrics.bind_callbacks(self.callbacks.pending)
        self.chat = ChatService(self.engine, store, self.callbacks)
        self.front_door = ChatFrontDoor(self.engine, store, self.chat, flows_of(center))
        self.surveys = Surveys(self.engine, store, center.settings.csat, metrics)
        self.voice = VoiceService(self.engine, store, self.agents, self.callbacks, self.surveys)
        self.transfers = Transfers(self.engine, store, self.agents, self.callbacks)
        self.supervision = Supervision(self.engine, store)
        self.wallboard = Wallboard(self.engine, self.callbacks, self.problems)
        self.agents.handle("chat", self.chat)
        self.agents.handle("voice", self.voice)
        self.case_tasks = CaseTasks(self.engine, store, self.agents, cases or CasePolicy(),
                                    metrics=metrics)  # fmt: skip
        self.desktops = Desktops(
            self.engine,
            store,
            self.agents,
            grace_seconds=self.settings.agent_grace_seconds,
            restart_grace_seconds=self.settings.restart_grace_seconds,
        )
        self.mail: MailService | None = None
        """The e-mail threads, when the site has a mail edge (``serve_mail``)."""
        self.edges: list[Edge] = []
        self._started: list[Edge] = []

    def serve_mail(self, settings: MailSettings) -> MailService:
        """Take e-mail contacts (before ``start``); the mail edge starts the service, so the
        e-mail contacts a stop cut are queued again just before new mail is read."""
        self.mail = MailService(
            self.engine, self.store, settings, surveys=self.surveys, token=self.contact_token
        )
        self.agents.handle("email", self.mail)
        return self.mail

    def add_edge(self, edge: Edge) -> None:
        """Run ``edge`` with the site (before ``start``)."""
        self.edges.append(edge)

    def problems(self) -> list[str]:
        """What keeps the site from serving fully (for ``/healthz``); empty when all is well."""
        store = self.engine.store_health.problem()
        return [*([store] if store else []), *(p for e in self.edges for p in e.problems())]

    async def start(self) -> None:
        await self.engine.start()
        stopped = await self.liveness.read()
        await self.voice.start(stopped)
        await self.chat.start(stopped)
        await self.engine.day_tally.restore(self.store)
        await self.callbacks.start(stopped)
        await self.case_tasks.start(stopped)
        await self.desktops.start()
        self.liveness.start()
        for edge in self.edges:
            await edge.start()
            self._started.append(edge)

    async def stop(self) -> None:
        while self._started:
            edge = self._started.pop()
            try:
                await edge.stop()
            except Exception:  # stop the rest whatever one edge did
                log.exception("stopping edge %r failed", edge)
        await self.desktops.stop()
        await self.case_tasks.stop()
        await self.callbacks.stop()
        await self.front_door.stop()
        await self.chat.stop()
        await self.liveness.stop()
        await self.engine.stop()
