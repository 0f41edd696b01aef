"""Customer satisfaction (CSAT) surveys: after a contact an agent handled has ended, its
customer may score it 1-5, once, with an optional comment, within the center's window
(``csat`` in center.yaml, per channel).

Who may answer is the edge's business (the chat widget holds its chat's token; on the phone
the caller who stayed on the line after the agent hung up, ``voice/survey.py``); this service
decides whether the contact takes an answer now and keeps it: the store records it with the
queue and agent of the contact's last segment an agent answered (one answer per contact,
decided in the store's transaction), then the score is observed in the metrics under that
queue and the contact's channel. The comment is personal data: the store seals it, and
retention and erasure treat it as a note. A survey the phone asked that got no score is kept
as such (``unanswered``), never as a score. Nothing here logs a contact or customer id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from contactcenter.config.models import CsatSettings
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.errors import Refused
from contactcenter.store.errors import DuplicateSurvey, UnknownContact
from contactcenter.store.records import ContactRecord, SurveyRecord

log = logging.getLogger(__name__)

SCORES = range(1, 6)
"""The scale: 1 (very dissatisfied) to 5 (very satisfied)."""


class SurveyStore(Protocol):
    async def contact(self, contact_id: str) -> ContactRecord | None: ...

    async def add_survey(
        self, contact_id: str, score: int, comment: str | None, wall_time: float
    ) -> SurveyRecord: ...

    async def add_unanswered_survey(
        self, contact_id: str, reason: str, wall_time: float
    ) -> None: ...

    async def surveys(self, contact_id: str) -> list[SurveyRecord]: ...


class SurveyMetrics(Protocol):
    def observe_survey(self, queue: str, channel: str, score: float) -> None: ...


@dataclass(frozen=True, slots=True)
class SurveyOffer:
    """What the customer is asked, and until when (wall time) an answer is taken."""

    question: str
    closes_wall: float


def ended_wall(c: ContactRecord) -> float | None:
    """When the contact ended for its customer (None: not yet)."""
    ends = (c.completed_wall, c.abandoned_wall, c.removed_wall, c.ended_wall)
    return min((t for t in ends if t is not None), default=None)


class Surveys:
    def __init__(
        self,
        engine: Engine,
        store: SurveyStore,
        settings: CsatSettings,
        metrics: SurveyMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.settings = settings
        self.metrics = metrics

    async def offer(self, contact_id: str) -> SurveyOffer:
        """The survey of the contact, if it takes an answer now; else ``Refused``
        (``no_survey``, ``contact_open``, ``survey_closed``, ``already_answered``: a link
        opened again says so) or ``UnknownContact``."""
        c = await self.store.contact(contact_id)
        if c is None:
            raise UnknownContact(contact_id)
        if c.channel not in self.settings.channels:
            raise Refused("no_survey", f"{c.channel} contacts are not surveyed")
        if c.answered_wall is None:
            raise Refused("no_survey", "no agent handled this contact: there is nothing to score")
        end = ended_wall(c)
        if end is None:
            raise Refused("contact_open", "the survey opens when the contact has ended")
        closes = end + self.settings.window_hours * 3600
        if self.engine.wall() > closes:
            raise Refused("survey_closed", "the time to answer this survey is over")
        if await self.store.surveys(contact_id):
            raise Refused("already_answered", "this contact's survey is answered")
        return SurveyOffer(self.settings.question, closes)

    async def answer(self, contact_id: str, score: int, comment: str | None) -> SurveyRecord:
        """Keep the customer's answer (see ``offer`` for when it is refused;
        ``already_answered`` for a second one) and count it in the metrics."""
        if score not in SCORES:
            raise Refused("bad_score", "the score is 1 to 5")
        await self.offer(contact_id)
        text = comment.strip() if comment is not None else ""
        try:
            survey = await self.store.add_survey(
                contact_id, score, text or None, self.engine.wall()
            )
        except DuplicateSurvey:
            raise Refused("already_answered", "this contact's survey is answered") from None
        queue, channel = survey.queue, survey.channel
        if self.metrics is not None and queue in self.engine.center.queues and channel:
            assert queue is not None
            self.metrics.observe_survey(queue, channel, survey.score)
        log.debug("survey answered in %s: %d", survey.queue, survey.score)
        return survey

    async def unanswered(self, contact_id: str, reason: str) -> None:
        """Keep that the survey asked of the contact's customer got no score (``reason``:
        ``no_response``, ``hung_up``); refused as ``answer`` is."""
        await self.offer(contact_id)
        try:
            await self.store.add_unanswered_survey(contact_id, reason, self.engine.wall())
        except DuplicateSurvey:
            raise Refused("already_answered", "this contact's survey is answered") from None
