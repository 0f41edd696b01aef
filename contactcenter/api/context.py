"""What every handler reaches through ``request.app[CTX]``: the site (engine and services),
store, metrics, settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from contactcenter.answers import Answers
from contactcenter.api.chat_identity import ChatIdentity
from contactcenter.api.login_throttle import LoginThrottle
from contactcenter.api.ratelimit import Limiter, Limits, LineAllowance
from contactcenter.api.session_sockets import SessionSockets
from contactcenter.cases import CasePolicy
from contactcenter.runtime import Engine, Site
from contactcenter.runtime.store_health import HeldWrites


@dataclass
class Settings:
    session_ttl: float = 12 * 3600.0
    """How long a login lasts, in seconds."""
    login_failures: int = 5
    """Wrong passwords in a row for one user name from one client address before that pair
    must wait ``login_backoff`` seconds, doubled by each further one up to
    ``login_backoff_max`` (429 meanwhile); other addresses are not slowed."""
    login_backoff: float = 1.0
    login_backoff_max: float = 900.0
    login_address_failures: int = 60
    """Failed logins from one client address, whatever the user names, per ``login_window``
    (trying many user names); then 429."""
    login_window: float = 60.0
    chat_starts: int = 30
    """New chats per client address per minute."""
    chat_grace: float = 20.0
    """A waiting customer whose chat socket stays closed this long has left (abandon)."""
    wallboard_min_interval: float = 0.5
    """At most two wallboard pushes a second."""
    wallboard_refresh: float = 5.0
    """Push at least this often, so waiting times keep counting up."""
    secure_cookies: bool = False
    """Mark the session cookie Secure (behind TLS)."""
    limits: Limits = field(default_factory=Limits)
    """What a client may use: chat lines, transcripts, connections, timeouts."""
    answers: Answers = field(default_factory=Answers)
    """The standard answers agents insert in chat replies (``config/answers.yaml``)."""
    cases: CasePolicy = field(default_factory=CasePolicy)
    """Complaint case categories, severities and departments (``config/cases.yaml``)."""


@dataclass
class Ctx:
    site: Site
    store: Any
    metrics: Any
    settings: Settings
    chat_secret: bytes
    chat_identity: ChatIdentity
    """Checks the identity a new chat's widget forwards from the site's backend."""
    clock: Callable[[], float] = time.monotonic
    ready: bool = False
    login_limiter: Limiter = field(init=False)
    """Failed logins per client address."""
    login_throttle: LoginThrottle = field(init=False)
    """Failed logins per user name and client address."""
    chat_limiter: Limiter = field(init=False)
    lines: LineAllowance = field(init=False)
    """What customers may still write (``Limits``), per chat and per client address."""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    customer_sockets: dict[str, int] = field(default_factory=dict)
    """Chat contact id -> open customer WebSockets."""
    absence: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    """Chat contact id -> the timer that ends the chat unless the customer comes back."""
    audit_writes: HeldWrites = field(init=False)
    """Audit entries of changes already made, held while the database refuses writes."""
    session_sockets: SessionSockets = field(init=False)
    """The WebSockets of each login session, closed when it ends."""

    @property
    def engine(self) -> Engine:
        return self.site.engine

    def __post_init__(self) -> None:
        s = self.settings
        self.login_limiter = Limiter(s.login_address_failures, s.login_window, clock=self.clock)
        self.login_throttle = LoginThrottle(
            s.login_failures, s.login_backoff, s.login_backoff_max, clock=self.clock
        )
        self.chat_limiter = Limiter(s.chat_starts, 60.0, clock=self.clock)
        self.lines = LineAllowance(s.limits, clock=self.clock)
        self.session_sockets = SessionSockets(self.store, self.spawn)
        self.audit_writes = HeldWrites(self.site.engine.store_health, "audit entries")

    def spawn(self, coro: Any, name: str) -> asyncio.Task[None]:
        """Run a background task that the app cancels on shutdown."""
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


CTX = web.AppKey("ctx", Ctx)
