"""E-mail threads, from a received mail to the answer that leaves: which queue and customer a
mail is for, the contact it starts (or reopens, or joins), the agent's answer into the outbox,
and the thread closing when its contact is over.

A mail is in the store (with the contact it starts and its acknowledgement in the outbox)
before the core hears of it, and the mail edge marks it seen on the server only after that:
nothing received is lost, nothing is routed twice. The customer is looked up in the CRM by the
sender's address; only a sender the site's own mail server authenticated (its
``Authentication-Results`` with ``dmarc=pass``, ``mail.trusted_authserv_ids``) buys tier and
dedicated agent; any other is kept as claimed and routes like an unknown sender. E-mail
contacts use the core unchanged (capacity, escalation, wrap-up with disposition).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contactcenter.events import (
    ContactAbandoned,
    ContactCompleted,
    ContactRemoved,
    Event,
)
from contactcenter.mail.message import parse, sender_authenticated
from contactcenter.mail.settings import Mailbox, MailSettings
from contactcenter.runtime.desk_channel import DeskChannel
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.errors import Refused
from contactcenter.runtime.intake import hand_back, queue_again
from contactcenter.runtime.surveys import Surveys
from contactcenter.store import Store
from contactcenter.store.mail import MailStore, NewThread, Received, StoredMail, Thread

log = logging.getLogger(__name__)

_DAY = 86_400.0


def new_mail_contact_id() -> str:
    return f"mail-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class MailReceived:
    """Published on the hub when a mail joined a thread whose contact is with an agent (the
    desktop shows it at once)."""

    contact_id: str
    mail_id: int


class MailService(DeskChannel):
    def __init__(
        self,
        engine: Engine,
        store: Store,
        settings: MailSettings,
        *,
        surveys: Surveys | None = None,
        token: Callable[[str], str] | None = None,
    ) -> None:
        """``surveys`` and ``token`` (a contact's customer token): for the survey link a
        closed thread sends (``MailSettings.survey_url``)."""
        self.engine = engine
        self.store = store
        self.settings = settings
        self.surveys = surveys
        self.token = token
        self.mails = MailStore(store)
        self.outbox_ready = asyncio.Event()
        """Set when a mail was put in the outbox (the mail edge sends it)."""
        engine.keep(self._keep)

    async def _keep(self, events: Sequence[Event]) -> None:
        """A thread closes with its contact (answers to it then reopen it within the
        window); stored before anyone hears the contact is over, with the survey link a
        thread an agent answered sends."""
        for e in events:
            if (
                isinstance(e, ContactCompleted | ContactAbandoned | ContactRemoved)
                and e.channel == "email"
            ):
                await self.mails.close_thread(e.contact_id, self.engine.wall())
                if isinstance(e, ContactCompleted) and await self._survey(e.contact_id):
                    self.outbox_ready.set()

    async def _survey(self, contact_id: str) -> bool:
        """Put the survey link of a closed contact in the outbox when e-mail is surveyed
        (``csat.channels``) and the link can be made; True when it did."""
        url, surveys, token = self.settings.survey_url, self.surveys, self.token
        if url is None or surveys is None or token is None:
            return False
        if "email" not in surveys.settings.channels:
            return False
        link = f"{url}#{contact_id}.{token(contact_id)}"
        text = (
            f"{surveys.settings.question}\n\nPlease tell us, from 1 (not at all) to 5 (very "
            f"satisfied), within {surveys.settings.window_hours:g} hours:\n{link}\n"
        )
        await self.mails.queue_notice(
            contact_id, "survey", "How did we do?", text, self.engine.wall()
        )
        return True

    async def start(self) -> None:
        """Put the e-mail contacts a stop cut back in their queues, in their place (an answer
        an agent had not sent yet is not kept); mails in the outbox go when the edge starts."""
        restored = await self.store.open_contacts("email")
        for oc in restored:
            if oc.queue not in self.engine.center.queues:
                log.warning("open e-mail contact in unknown queue %s not routed", oc.queue)
                continue
            if oc.agent_id is not None and oc.answered:
                await self.store.end_segment(oc.contact_id, self.engine.wall(), "interrupted")
            ended = oc.segment_ended or (oc.agent_id is not None and oc.answered)
            await queue_again(self.engine, oc, oc.segment + 1 if ended else oc.segment)
        if restored:
            log.info("restored %d e-mail contact(s) to their queues", len(restored))
        if await self.mails.outbox():
            self.outbox_ready.set()

    # -- mail in --------------------------------------------------------------------------------

    async def receive(
        self, mailbox: Mailbox, raw: bytes, uid: tuple[int, int] | None = None
    ) -> Received:
        """Store a mail read from ``mailbox`` and route what it starts (see the module
        docstring); a mail seen before changes nothing."""
        mail = parse(raw, max_attachment_bytes=self.settings.max_attachment_bytes)
        customer = await self.store.find_customer(email=mail.sender) if mail.sender else None
        trusted = customer is not None and sender_authenticated(
            mail, self.settings.trusted_authserv_ids
        )
        center = self.engine.center
        tier = customer.tier if customer is not None else None
        queue, ack = mailbox.route(mail.sender, mail.subject)
        new = NewThread(
            contact_id=new_mail_contact_id(),
            mailbox=mailbox.address,
            queue=queue,
            tier=tier if tier in center.tiers else center.settings.default_tier,
            customer_id=customer.id if customer is not None else None,
            verified=trusted,
            acknowledgement=ack.text if ack.enabled else None,
            reopen_seconds=self.settings.reopen_days * _DAY,
        )
        received = await self.mails.receive(
            mail,
            mailbox=mailbox.address,
            wall_time=self.engine.wall(),
            new_thread=new,
            max_attachment_bytes=self.settings.max_attachment_bytes,
            uid=uid,
        )
        if received.duplicate:
            return received
        if received.queued:
            dedicated = customer.dedicated_agent if trusted and customer is not None else None
            await self._route(received, new, dedicated)
        else:
            self.engine.hub.publish(MailReceived(received.contact_id, received.mail_id))
        if received.acknowledged:
            self.outbox_ready.set()
        return received

    async def _route(self, received: Received, new: NewThread, preferred: str | None) -> None:
        router = self.engine.router
        center = self.engine.center
        await self.engine.submit(
            lambda now: router.contact_arrived(
                now,
                received.contact_id,
                new.queue,
                tier=new.tier if new.verified else None,
                customer_id=new.customer_id if new.verified else None,
                preferred_agent=preferred if preferred in center.agents else None,
            )
        )

    # -- the agent's side -----------------------------------------------------------------------

    async def thread(self, contact_id: str) -> tuple[Thread, list[StoredMail]]:
        thread = await self.mails.thread(contact_id)
        return thread, await self.mails.thread_mails(thread.id)

    async def answer(self, agent_id: str, contact_id: str, text: str) -> StoredMail:
        """The agent's answer to the customer, into the outbox (sent by the mail edge)."""
        if not text.strip():
            raise Refused("empty_answer", "an answer needs some text")
        stored = await self.mails.queue_answer(contact_id, agent_id, text, self.engine.wall())
        self.outbox_ready.set()
        return stored

    # -- ContactHandler -------------------------------------------------------------------------

    async def hang_up(self, agent_id: str, contact_id: str) -> None:
        """Close: the agent is done with the thread for now (wrap-up follows)."""
        router = self.engine.router
        await self.engine.submit(lambda now: router.contact_completed(now, contact_id))

    async def agent_returned(self, agent_id: str) -> None:
        """Nothing waits for an agent after a restart: its mails went back to the queue."""

    async def agent_lost(self, agent_id: str) -> None:
        await hand_back(self.engine, agent_id, "email")
