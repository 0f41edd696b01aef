"""Call backs in the live runtime, on a site without a voice edge (the agent dials by hand and
reports how the call went): place in the queue, agent first, attempts, retries, outcomes,
cancel, reschedule, expiry, promises made at max wait, and the status table."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from contactcenter.events import ContactRemoved
from contactcenter.routing import ContactState
from contactcenter.runtime import Refused
from contactcenter.runtime.callbacks import (
    FINAL,
    MOVES,
    CallbackBooked,
    CallbackStatus,
    IllegalCallbackMove,
)
from contactcenter.store.records import CallbackAttempt
from tests.polling import until
from tests.runtime.conftest import SiteFactory, center_with

S = CallbackStatus
FAST = {"retry_delay_seconds": 1, "max_attempts": 2}


def state(router: Any, contact_id: str) -> ContactState | None:
    c = router.contacts.get(contact_id)
    return c.state if c is not None else None


def test_status_table_is_exactly_the_documented_one() -> None:
    moves = {(a, b) for a, targets in MOVES.items() for b in targets}
    assert moves == {
        (S.SCHEDULED, S.QUEUED), (S.SCHEDULED, S.SCHEDULED), (S.SCHEDULED, S.CANCELLED),
        (S.SCHEDULED, S.EXPIRED), (S.QUEUED, S.DIALING), (S.QUEUED, S.SCHEDULED),
        (S.QUEUED, S.CANCELLED), (S.QUEUED, S.EXPIRED), (S.DIALING, S.CONNECTED),
        (S.DIALING, S.SCHEDULED), (S.DIALING, S.UNREACHABLE), (S.CONNECTED, S.COMPLETED),
    }  # fmt: skip
    assert all(not MOVES[s] for s in FINAL)


async def test_call_backs_keep_the_callers_place_in_the_queue(make_site: SiteFactory) -> None:
    site = await make_site()
    wall, router = site.engine.wall(), site.engine.router
    later = await site.callbacks.book(
        "support", "+4930555010100", source="api", requested_by="boss", arrived_wall=wall - 60
    )
    earlier = await site.callbacks.book(
        "support", "+4930555010101", source="ivr", arrived_wall=wall - 300
    )
    ids = [earlier.callback_contact_id, later.callback_contact_id]
    assert await until(lambda: all(c in router.contacts for c in ids))
    assert router.waiting("support") == ids  # by original arrival, not booking order
    view = router.contact(earlier.callback_contact_id)
    assert site.engine.now() - view.arrived_at == pytest.approx(300, abs=1.0)
    # booked again while pending: the same call back, no duplicate
    again = await site.callbacks.book("support", "+4930555010100", source="chat")
    assert again.id == later.id and len(await site.store.open_callbacks()) == 2
    pending = site.callbacks.pending()["support"]
    assert (pending["queued"], pending["scheduled"]) == (2, 0)
    assert pending["oldest"] == pytest.approx(300, abs=1.0)
    # a queue that cannot call back refuses; a chat queue's call backs go to its voice queue
    with pytest.raises(Refused, match="no queue for call backs"):
        await site.callbacks.book("sales_chat", "+4930555010102", source="chat")
    via_chat = await site.callbacks.book("support_chat", "+4930555010103", source="chat")
    assert via_chat.queue == "support"


async def test_agent_first_then_retry_then_answered(make_site: SiteFactory) -> None:
    site = await make_site(center_with(callbacks=FAST))
    router, desk = site.engine.router, site.agents
    booked = await site.callbacks.book("support", "+4930555010104", source="api")
    cid = booked.callback_contact_id
    await desk.login("a12")
    assert await until(lambda: state(router, cid) is ContactState.OFFERED)
    await desk.decline("a12", cid)  # declining uses no attempt
    assert await until(lambda: state(router, cid) is ContactState.OFFERED, 15)  # again later
    assert router.contact(cid).agent == "a12"
    await desk.accept("a12", cid)  # manual: taken on the desktop, the agent dials
    cb = site.callbacks.for_contact(cid)
    assert cb is not None and (cb.status, cb.attempts) == (S.DIALING, 1)
    assert await site.callbacks.attempt_result(cid, "no_answer") is S.SCHEDULED
    assert cid not in router.contacts  # out of routing until the retry is due
    assert router.agent("a12").activity.value == "wrap_up"  # the attempt's wrap-up
    await desk.wrap_up("a12", cid, "follow-up")
    assert await until(lambda: cid in router.contacts, 5)  # due again after 1 s
    assert await until(lambda: state(router, cid) is ContactState.OFFERED, 5)
    await desk.accept("a12", cid)
    assert await site.callbacks.attempt_result(cid, "answered") is S.CONNECTED
    await desk.hang_up("a12", cid)
    await desk.wrap_up("a12", cid, "resolved")
    rec = await site.store.callback(booked.id)
    assert (rec.status, rec.outcome, rec.attempts) == ("completed", "completed", 2)
    attempts = await site.store.attempts(booked.id)
    assert [(a.attempt, a.agent_id, a.outcome) for a in attempts] == [
        (1, "a12", "no_answer"),
        (2, "a12", "answered"),
    ]
    assert all(isinstance(a, CallbackAttempt) and a.ended_wall for a in attempts)
    contact = await site.store.contact_record(cid)
    assert contact is not None and (contact.outcome, contact.segment) == ("completed", 2)
    segs = await site.store.segments(cid)
    assert [(s.segment, s.agent_id, s.end_reason, s.disposition) for s in segs] == [
        (1, "a12", "retry", "follow-up"),
        (2, "a12", "completed", "resolved"),
    ]
    assert site.callbacks.for_contact(cid) is None
    text = site.engine.metrics.render().decode()  # type: ignore[union-attr]
    assert 'contactcenter_callback_attempts_total{outcome="no_answer",queue="support"} 1.0' in text
    assert 'contactcenter_callbacks_ended_total{outcome="completed",queue="support"} 1.0' in text
    assert 'contactcenter_callbacks_booked_total{queue="support",source="api"} 1.0' in text


async def test_every_attempt_unanswered_makes_it_unreachable(make_site: SiteFactory) -> None:
    site = await make_site(center_with(callbacks=FAST))
    router, desk = site.engine.router, site.agents
    booked = await site.callbacks.book("support", "+4930555010105", source="api")
    cid = booked.callback_contact_id
    await desk.login("a12")
    for outcome in ("busy", "no_answer"):
        assert await until(lambda: state(router, cid) is ContactState.OFFERED, 5)
        await desk.accept("a12", cid)
        await site.callbacks.attempt_result(cid, outcome)  # type: ignore[arg-type]
        await desk.wrap_up("a12", cid, "no-resolution")
    rec = await site.store.callback(booked.id)
    assert (rec.status, rec.outcome, rec.attempts) == ("unreachable", "unreachable", 2)
    contact = await site.store.contact_record(cid)
    assert contact is not None and contact.outcome == "unreachable" and contact.ended_wall
    assert await asyncio.wait_for(asyncio.sleep(1.2), 2) is None
    assert cid not in router.contacts  # never queued again


async def test_hanging_up_before_the_customer_answers_gives_the_attempt_up(
    make_site: SiteFactory,
) -> None:
    site = await make_site(center_with(callbacks=FAST))
    router, desk = site.engine.router, site.agents
    booked = await site.callbacks.book("support", "+4930555010106", source="api")
    cid = booked.callback_contact_id
    await desk.login("a12")
    assert await until(lambda: state(router, cid) is ContactState.OFFERED)
    await desk.accept("a12", cid)
    await desk.hang_up("a12", cid)
    (attempt,) = await site.store.attempts(booked.id)
    assert attempt.outcome == "abandoned"
    assert (await site.store.callback(booked.id)).status == "scheduled"


async def test_cancel_reschedule_and_refusals(make_site: SiteFactory) -> None:
    site = await make_site()
    router, wall = site.engine.router, site.engine.wall()
    soon = await site.callbacks.book("support", "+4930555010107", source="api")
    later = await site.callbacks.book(
        "support", "+4930555010108", source="api", due_wall=wall + 3600
    )
    assert await until(lambda: soon.callback_contact_id in router.contacts)
    assert later.callback_contact_id not in router.contacts  # not due yet: scheduled
    moved = await site.callbacks.reschedule(soon.id, wall + 7200, "boss")
    assert (moved.status, moved.due_wall) == ("scheduled", wall + 7200)
    assert soon.callback_contact_id not in router.contacts  # left its queue until then
    cancelled = await site.callbacks.cancel(later.id, "boss")
    assert (cancelled.status, cancelled.outcome) == ("cancelled", "cancelled")
    with pytest.raises(Refused, match="not open"):
        await site.callbacks.cancel(later.id, "boss")
    with pytest.raises(Refused, match="days ahead"):
        await site.callbacks.reschedule(soon.id, wall + 30 * 86_400, "boss")
    with pytest.raises(Refused, match="days ahead"):
        await site.callbacks.book("support", "+49305", source="api", due_wall=wall + 40 * 86_400)
    log = await site.store.audit_log()
    assert [(e.actor, e.action) for e in log[:2]] == [
        ("boss", "callback_cancel"),
        ("boss", "callback_reschedule"),
    ]
    await site.agents.login("a12")
    assert await until(lambda: router.contacts.get(soon.callback_contact_id) is None)
    # a call back being dialled cannot be cancelled
    now_due = await site.callbacks.book("support", "+4930555010109", source="api")
    cid = now_due.callback_contact_id
    assert await until(lambda: state(router, cid) is ContactState.OFFERED)
    await site.agents.accept("a12", cid)
    with pytest.raises(IllegalCallbackMove):
        await site.callbacks.cancel(now_due.id, "boss")


async def test_an_old_call_back_expires_visibly(make_site: SiteFactory) -> None:
    site = await make_site(center_with(callbacks={"expire_after_hours": 0.0005}))  # 1.8 s
    booked = await site.callbacks.book("support", "+4930555010110", source="api")
    assert await until(lambda: site.callbacks.for_contact(booked.callback_contact_id) is None, 5)
    rec = await site.store.callback(booked.id)
    assert (rec.status, rec.outcome) == ("expired", "expired")
    assert booked.callback_contact_id not in site.engine.router.contacts


async def test_removal_at_max_wait_books_the_call_back_before_anyone_hears_of_it(
    make_site: SiteFactory,
) -> None:
    """The voice edge tells the caller "your call back is scheduled" when it hears of the
    removal: the booking must be on disk by then."""
    center = center_with()
    queues = dict(center.queues)
    queues["sales"] = queues["sales"].model_copy(
        update={"max_wait": queues["sales"].max_wait.model_copy(update={"seconds": 0.5})}  # type: ignore[union-attr]
    )
    import dataclasses

    site = await make_site(dataclasses.replace(center, queues=queues))
    seen: list[Any] = []

    async def watch() -> None:
        sub = site.engine.hub.subscribe(lambda n: isinstance(n, ContactRemoved | CallbackBooked))
        async for n in sub:
            booked = await site.store.open_callbacks()
            seen.append((n, [(b.phone, b.source, b.contact_id) for b in booked]))

    watcher = asyncio.create_task(watch())
    await site.voice.call_arrived("voice-1", queue="sales", caller="+4930555010111")
    assert await until(lambda: len(seen) >= 2, 5)
    watcher.cancel()
    removed, booked_then = seen[0]
    assert isinstance(removed, ContactRemoved) and removed.outcome == "callback"
    assert booked_then == [("+4930555010111", "max_wait", "voice-1")]
    assert isinstance(seen[1][0], CallbackBooked)
    (cb,) = await site.store.open_callbacks()
    inbound = await site.store.contact_record("voice-1")
    assert inbound is not None and cb.arrived_wall == inbound.arrived_wall
