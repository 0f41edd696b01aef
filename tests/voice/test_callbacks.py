"""Call backs made by the voice edge, agent first, through real Kamailio and SIPp phones: the
agent's phone rings, the agent answers, the customer's phone (a SIPp UAS registered under the
customer's number) rings and is bridged; an unanswered customer is tried again, then the call
back is closed as unreachable. And the in-queue offer: a caller presses 1 to be called back."""

from __future__ import annotations

import asyncio
from typing import Any

from contactcenter.routing import ContactState
from contactcenter.voice.media import PCMA, PCMU
from tests.polling import until
from tests.voice import audio
from tests.voice.conftest import CLOSED
from tests.voice.harness import (
    caller_scenario,
    free_media_port,
    free_udp_port,
    register_extension,
    scenario,
    sipp_caller,
    sipp_uas,
)

CUSTOMER = "4930555010099"
"""The customer's number: their phone registers under it, the engine dials it."""
KNOWN = "+4930555010008"
"""Jan Novak's number: the IVR knows him and goes straight to the main menu."""


async def customer_phone(site: Any, scenario_name: str, *, calls: int = 1, **values: object) -> Any:
    values = {"ring_ms": 800, **values}
    sf = scenario(site.tmp / f"customer-{scenario_name}", scenario_name, **values)
    port = free_udp_port()
    uas = site.track(sipp_uas(site.tmp, sf, port, free_media_port(), calls))
    await register_extension(site.tmp, site.proxy, CUSTOMER, port)
    return uas


async def test_booked_in_the_ivr_then_offered_to_an_agent_who_is_bridged_to_the_customer(
    make_site: Any,
) -> None:
    site = await make_site(clock=CLOSED)  # after hours: the menu offers a call back
    agent_ear, customer_ear = audio.RtpRecorder().start(), audio.RtpRecorder().start()
    says = audio.tone_pcap(site.tmp / "customer.pcap", 1000.0, 12.0, PCMA, 30)
    customer = await customer_phone(
        site, "agent_uas_tone.xml", listen_port=customer_ear.port, audio_pcap=says
    )  # answers, says 1 kHz, talks until our BYE
    sf = caller_scenario(
        site.tmp / "closed.xml", [("pause", 9000), ("dtmf", "1")], number=CUSTOMER, end="wait",
        wait_ms=20_000,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    assert await caller.wait(30) == 0, caller.errors()
    (booked,) = await site.store.open_callbacks()
    assert (booked.phone, booked.queue, booked.source) == (CUSTOMER, "support", "ivr")
    cb_contact = booked.callback_contact_id
    router = site.engine.router
    assert await until(lambda: cb_contact in router.contacts, 5)  # due: waits in support

    agent_says = audio.tone_pcap(site.tmp / "agent.pcap", 700.0, 14.0, PCMU, 20)
    agent = await site.agent(
        "a12", "agent_uas_tone.xml", listen_port=agent_ear.port, audio_pcap=agent_says
    )
    talking = "the customer answered: talking"
    assert await until(lambda: talking in _timeline(site, cb_contact), 20)
    await asyncio.sleep(6)
    await site.runtime.agents.hang_up("a12", cb_contact)  # the desktop's Hang up
    try:
        assert await agent.wait(15) == 0, agent.errors()
        assert await customer.wait(15) == 0, customer.errors()  # got the engine's BYE
    finally:
        agent_ear.stop()
        customer_ear.stop()
    calls = [c for c in await site.ended(2) if c.contact_id == cb_contact]
    (call,) = calls
    assert call.outcome == "completed", call.timeline
    assert call.timeline[:3] == [
        "ringing a12 at 2012",
        "a12 answered; dialling the customer",
        talking,
    ], call.timeline
    # audio both ways: each hears the other, and not themselves
    agent_heard, customer_heard = agent_ear.audio(), customer_ear.audio()
    assert audio.seconds_of_tone(agent_heard, 1000.0) >= 4.0, "the agent did not hear them"
    assert audio.seconds_of_tone(customer_heard, 700.0) >= 4.0, "the customer heard no agent"
    assert audio.seconds_of_tone(agent_heard, 700.0) == 0
    assert audio.seconds_of_tone(customer_heard, 1000.0) == 0

    rec = await site.store.callback(booked.id)
    assert (rec.status, rec.outcome, rec.attempts) == ("completed", "completed", 1)
    (attempt,) = await site.store.attempts(booked.id)
    assert (attempt.agent_id, attempt.outcome) == ("a12", "answered")
    contact = await site.store.contact_record(cb_contact)
    assert contact is not None
    assert (contact.kind, contact.agent_id, contact.outcome) == ("callback", "a12", "completed")
    assert contact.talk_seconds is not None and 4 < contact.talk_seconds < 15
    assert contact.arrived_wall == booked.arrived_wall  # kept the caller's place


async def test_an_unanswered_customer_is_called_again_then_the_call_back_is_unreachable(
    make_site: Any,
) -> None:
    site = await make_site(
        center={"callbacks": {"max_attempts": 2, "retry_delay_seconds": 1, "ring_seconds": 5}}
    )
    customer = await customer_phone(site, "agent_noanswer.xml", calls=2)  # rings, never answers
    agent = await site.agent("a12", "agent_uas.xml", calls=2, ring_ms=300)
    booked = await site.runtime.callbacks.book("support", CUSTOMER, source="api")
    assert await customer.wait(40) == 0, customer.errors()  # CANCELled twice
    assert await agent.wait(15) == 0, agent.errors()  # answered twice, got BYE twice
    assert await until(
        lambda: site.runtime.callbacks.for_contact(booked.callback_contact_id) is None, 10
    )
    rec = await site.store.callback(booked.id)
    assert (rec.status, rec.outcome, rec.attempts) == ("unreachable", "unreachable", 2)
    attempts = await site.store.attempts(booked.id)
    assert [(a.agent_id, a.outcome) for a in attempts] == [("a12", "no_answer")] * 2
    for a in attempts:
        assert a.ended_wall is not None and 4.5 < a.ended_wall - a.started_wall < 8
    gap = attempts[1].started_wall - attempts[0].ended_wall
    assert gap >= 1.0  # the retry delay, at least
    contact = await site.store.contact_record(booked.callback_contact_id)
    assert contact is not None and contact.outcome == "unreachable"
    segments = await site.store.segments(booked.callback_contact_id)
    assert [(s.segment, s.agent_id, s.end_reason) for s in segments] == [
        (1, "a12", "retry"),
        (2, "a12", "retry"),
    ]
    assert booked.callback_contact_id not in site.engine.router.contacts


async def test_a_queued_caller_takes_the_offered_call_back(make_site: Any) -> None:
    """The support queue offers a call back at its escalation step: the caller presses 1,
    leaves the queue, hears it is booked (after it is stored) and is hung up on."""
    site = await make_site(
        queues={"support": {"escalation": [
            {"after_seconds": 0},
            {"after_seconds": 2, "offer_callback": True},
        ]}}
    )  # fmt: skip
    # menu 2 (support) -> long-wait menu (nobody is in) -> 2 keep waiting -> queued; the
    # offer comes 2 s after queueing; 1 takes it
    sf = caller_scenario(
        site.tmp / "offer.xml",
        [("pause", 3000), ("dtmf", "2"), ("pause", 4500), ("dtmf", "2"), ("pause", 5000),
         ("dtmf", "1")],
        number=KNOWN, end="wait", wait_ms=20_000,
    )  # fmt: skip
    caller = site.track(sipp_caller(site.tmp, sf, site.proxy))
    rc = await caller.wait(40)
    (call,) = await site.ended(1)
    assert rc == 0, (call.timeline, caller.errors())  # the engine hung up
    assert "call back offered" in call.timeline and "call back taken" in call.timeline
    assert call.outcome == "removed:callback", call.timeline
    inbound = await site.store.contact_record(call.contact_id)
    assert inbound is not None and (inbound.outcome, inbound.removed_reason) == (
        "callback", "callback_accepted",
    )  # fmt: skip
    (booked,) = await site.store.open_callbacks()
    assert (booked.phone, booked.source, booked.contact_id) == (
        KNOWN, "queue_offer", call.contact_id,
    )  # fmt: skip
    assert (booked.customer_id, booked.verified) == ("C1008", True)  # identified by number
    assert booked.arrived_wall == inbound.arrived_wall
    router = site.engine.router
    assert await until(lambda: booked.callback_contact_id in router.contacts, 5)
    assert router.contact(booked.callback_contact_id).state is ContactState.WAITING


def _timeline(site: Any, contact_id: str) -> list[str]:
    """The timeline of the call back ``contact_id`` while it runs."""
    call = site.edge.by_contact.get(contact_id)
    return list(call.timeline) if call is not None else []
