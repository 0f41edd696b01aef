"""E-mail in the core unchanged: the example's e-mail queue escalates in hours (its team, then
after 16 h anyone with the skill), and a mail an agent holds never keeps a call from it."""

from __future__ import annotations

from contactcenter.config import load_center
from contactcenter.events import ContactEscalated, ContactOffered
from contactcenter.routing import Router

from .conftest import CONFIG_DIR, login, of, one

HOURS_16 = 16 * 3600.0


def test_a_mail_reaches_a_chat_agent_with_the_skill_only_after_16_hours() -> None:
    r = Router(load_center(CONFIG_DIR))
    login(r, 0, "a29")  # support 4, in the chat queues, not in support_email
    assert of(r.contact_arrived(0, "m1", "support_email"), ContactOffered) == []
    assert of(r.advance(HOURS_16 - 1), ContactOffered) == []
    events = r.advance(HOURS_16)
    assert one(events, ContactEscalated).step == 1
    offer = one(events, ContactOffered)
    assert (offer.contact_id, offer.agent_id) == ("m1", "a29")


def test_an_agent_holding_mails_still_gets_a_call() -> None:
    r = Router(load_center(CONFIG_DIR))
    login(r, 0, "a14")  # support and support_email
    for i in (1, 2):  # its e-mail capacity
        r.contact_arrived(i, f"m{i}", "support_email")
        r.offer_accepted(i, f"m{i}")
    offer = one(r.contact_arrived(10, "call", "support"), ContactOffered)
    assert (offer.contact_id, offer.agent_id) == ("call", "a14")
