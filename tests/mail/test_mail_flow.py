"""The e-mail channel against real servers: a customer's mail in the center's Dovecot mailbox
becomes a routed contact, is acknowledged into the customer's Dovecot mailbox through a real
SMTP conversation, the customer's answer joins the contact, the agent's answer leaves threaded
on the customer's mail, a closed thread reopens within the window."""

from __future__ import annotations

import asyncio
import time

import pytest

from contactcenter.routing import ContactState
from tests.mail.conftest import (
    BOTH_DATABASES,
    CENTER,
    Dovecot,
    MailSite,
    MailSiteFactory,
    SmtpPeer,
    customer_mail,
    mail_settings,
)
from tests.polling import until

ANN = "ann@customer.test"


def email_contacts(ms: MailSite) -> dict[str, object]:
    return {cid: c for cid, c in ms.site.engine.router.contacts.items() if c.channel == "email"}


async def test_a_customer_mail_is_queued_and_acknowledged_with_its_reference(
    dovecot: Dovecot, smtp_peer: SmtpPeer, make_mail_site: MailSiteFactory
) -> None:
    ms = await make_mail_site(mail_settings(dovecot, smtp_peer))
    started = time.monotonic()
    first = customer_mail(
        f"Ann Archer <{ANN}>", "My router is broken", "It blinks red.",
        message_id="<m1@customer.test>",
    )  # fmt: skip
    dovecot.deliver(CENTER, first)
    assert await until(lambda: len(email_contacts(ms)) == 1, timeout=15)
    queued_after = time.monotonic() - started
    (cid,) = email_contacts(ms)
    view = ms.site.engine.router.contact(cid)
    assert (view.queue, view.state) == ("support_email", ContactState.WAITING)
    record = await ms.store.contact_record(cid)
    assert record is not None and record.channel == "email" and record.customer_name == "Ann Archer"

    thread, mails = await ms.site.mail.thread(cid)  # type: ignore[union-attr]
    assert [m.direction for m in mails] == ["in", "ack"]
    assert (mails[0].message_id, mails[0].text.strip()) == ("<m1@customer.test>", "It blinks red.")
    assert thread.customer_address == ANN

    # the acknowledgement arrives in Ann's mailbox, threaded, with the reference, automatic
    assert await until(lambda: len(dovecot.inbox(ANN)) == 1, timeout=15)
    ((ack, _),) = dovecot.inbox(ANN)
    assert ack["In-Reply-To"] == "<m1@customer.test>"
    assert ack["Subject"] == f"Re: My router is broken [#{thread.reference}]"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert thread.reference in ack.get_content()
    assert ack["From"] == f"Northwind Support <{CENTER}>"
    # the center's copy is marked seen only now that it is stored
    assert [seen for _, seen in dovecot.inbox(CENTER)] == [True]
    assert queued_after < 5.0  # (IDLE: pushed, not polled)


async def test_the_customers_answer_joins_the_open_contact_and_is_not_acknowledged_again(
    dovecot: Dovecot, smtp_peer: SmtpPeer, make_mail_site: MailSiteFactory
) -> None:
    ms = await make_mail_site(mail_settings(dovecot, smtp_peer))
    dovecot.deliver(CENTER, customer_mail(ANN, "Invoice", "Wrong amount.",
                                          message_id="<q1@customer.test>"))  # fmt: skip
    assert await until(lambda: len(dovecot.inbox(ANN)) == 1, timeout=15)
    ((ack, _),) = dovecot.inbox(ANN)
    # Ann answers the acknowledgement (her client threads on it)
    dovecot.deliver(CENTER, customer_mail(ANN, str(ack["Subject"]), "Here is the invoice number.",
                                          message_id="<q2@customer.test>",
                                          in_reply_to=str(ack["Message-ID"])))  # fmt: skip
    assert await until(lambda: all(seen for _, seen in dovecot.inbox(CENTER)) and
                len(dovecot.inbox(CENTER)) == 2, timeout=15)  # fmt: skip
    (cid,) = email_contacts(ms)
    _, mails = await ms.site.mail.thread(cid)  # type: ignore[union-attr]
    assert [(m.direction, m.message_id) for m in mails if m.direction == "in"] == [
        ("in", "<q1@customer.test>"), ("in", "<q2@customer.test>")
    ]  # fmt: skip
    await asyncio.sleep(0.5)
    assert len(dovecot.inbox(ANN)) == 1  # one acknowledgement per thread


@BOTH_DATABASES
async def test_the_agents_answer_leaves_threaded_and_a_later_answer_reopens_the_thread(
    dovecot: Dovecot, smtp_peer: SmtpPeer, make_mail_site: MailSiteFactory
) -> None:
    ms = await make_mail_site(mail_settings(dovecot, smtp_peer))
    site = ms.site
    assert site.mail is not None
    dovecot.deliver(CENTER, customer_mail(ANN, "Cancel my plan", "Please cancel.",
                                          message_id="<c1@customer.test>"))  # fmt: skip
    assert await until(lambda: len(email_contacts(ms)) == 1, timeout=15)
    (cid,) = email_contacts(ms)
    await site.agents.login("a14")
    assert await until(lambda: site.engine.router.contact(cid).state is ContactState.OFFERED)
    agent = site.engine.router.contact(cid).agent
    assert agent is not None
    await site.agents.accept(agent, cid)
    await site.mail.answer(agent, cid, "Done: your plan ends on the 31st.")
    assert await until(lambda: len(dovecot.inbox(ANN)) == 2, timeout=15)
    (answer, _) = dovecot.inbox(ANN)[1]
    assert answer["In-Reply-To"] == "<c1@customer.test>"
    assert "<c1@customer.test>" in str(answer["References"])
    assert answer["Auto-Submitted"] is None
    assert answer.get_content().strip() == "Done: your plan ends on the 31st."
    await site.agents.hang_up(agent, cid)
    await site.agents.wrap_up(agent, cid, "resolved")
    assert await until(lambda: cid not in site.engine.router.contacts)

    # Ann writes back: the thread reopens as a new contact of the same thread
    dovecot.deliver(CENTER, customer_mail(ANN, str(answer["Subject"]), "Thanks! One more thing.",
                                          message_id="<c2@customer.test>",
                                          in_reply_to=str(answer["Message-ID"])))  # fmt: skip
    assert await until(lambda: len(email_contacts(ms)) == 1, timeout=15)
    (again,) = email_contacts(ms)
    assert again != cid
    record = await ms.store.contact_record(again)
    assert record is not None and record.previous_contact_id == cid
    thread, mails = await site.mail.thread(again)
    assert [m.direction for m in mails] == ["in", "ack", "out", "in"]
    assert thread.closed_wall is None


async def test_a_rule_acknowledges_in_its_own_words_or_not_at_all(
    dovecot: Dovecot, smtp_peer: SmtpPeer, make_mail_site: MailSiteFactory
) -> None:
    """Acknowledgement per queue: a rule that sends a mail to a queue can give that queue's
    own wording, or none; a mail no rule takes gets the mailbox's."""
    rules = [
        {"subject": "invoice", "queue": "support_email",
         "acknowledge": {"text": "Billing answers within 2 working days. Ref {reference}"}},
        {"sender": "^vip@", "queue": "support_email",
         "acknowledge": {"enabled": False}},
    ]  # fmt: skip
    ms = await make_mail_site(mail_settings(dovecot, smtp_peer, mailbox={"rules": rules}))
    vip, bob = "vip@customer.test", "bob@customer.test"
    for sender, subject, mid in ((ANN, "Wrong invoice", "<i1@c.test>"),
                                 (vip, "Our order", "<p1@c.test>"),
                                 (bob, "Hello", "<h1@c.test>")):  # fmt: skip
        dovecot.deliver(CENTER, customer_mail(sender, subject, "text", message_id=mid))
    assert await until(lambda: len(email_contacts(ms)) == 3, timeout=15)
    assert await until(lambda: len(dovecot.inbox(bob)) == 1, timeout=15)
    assert await until(lambda: len(dovecot.inbox(ANN)) == 1, timeout=15)
    ((billing, _),) = dovecot.inbox(ANN)
    assert billing.get_content().startswith("Billing answers within 2 working days. Ref ")
    ((general, _),) = dovecot.inbox(bob)
    assert general.get_content().startswith("Thank you for your message.")
    await asyncio.sleep(1.0)
    assert dovecot.inbox(vip) == []  # its rule acknowledges nothing
    assert len(smtp_peer.handler.envelopes) == 2


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"List-Id": "<news.customer.test>"},
])  # fmt: skip
async def test_automatic_mail_is_routed_but_never_answered_automatically(
    dovecot: Dovecot, smtp_peer: SmtpPeer, make_mail_site: MailSiteFactory,
    headers: dict[str, str],
) -> None:  # fmt: skip
    ms = await make_mail_site(mail_settings(dovecot, smtp_peer))
    raw = customer_mail(ANN, "Out of office", "I am away.", message_id="<auto@customer.test>",
                        headers=headers)  # fmt: skip
    dovecot.deliver(CENTER, raw)
    assert await until(lambda: len(email_contacts(ms)) == 1, timeout=15)
    await asyncio.sleep(1.0)
    assert dovecot.inbox(ANN) == []
    assert smtp_peer.handler.envelopes == []


@BOTH_DATABASES
async def test_an_agent_hands_a_mail_to_a_colleague_who_answers_the_same_thread(
    dovecot: Dovecot, smtp_peer: SmtpPeer, make_mail_site: MailSiteFactory
) -> None:
    ms = await make_mail_site(mail_settings(dovecot, smtp_peer))
    site = ms.site
    assert site.mail is not None
    await site.agents.login("a14")
    raw = customer_mail(ANN, "Roaming", "Roaming abroad fails.", message_id="<r1@customer.test>")
    dovecot.deliver(CENTER, raw)
    assert await until(lambda: len(email_contacts(ms)) == 1, timeout=15)
    (cid,) = email_contacts(ms)
    assert await until(lambda: site.engine.router.contact(cid).agent == "a14")
    await site.agents.accept("a14", cid)
    await site.agents.login("a15")
    await site.transfers.to_agent("a14", cid, "a15", note="roaming specialist")
    assert await until(lambda: site.engine.router.contact(cid).state is ContactState.OFFERED)
    assert site.engine.router.contact(cid).agent == "a15"
    await site.agents.accept("a15", cid)
    await site.mail.answer("a15", cid, "Roaming is on again.")
    assert await until(lambda: len(dovecot.inbox(ANN)) == 2, timeout=15)  # ack, answer
    answer, _ = dovecot.inbox(ANN)[1]
    assert answer["In-Reply-To"] == "<r1@customer.test>"
    _, mails = await site.mail.thread(cid)
    assert [(m.direction, m.agent_id) for m in mails] == [("in", None), ("ack", None),
                                                          ("out", "a15")]  # fmt: skip
    segments = await ms.store.segments(cid)
    assert [s.agent_id for s in segments] == ["a14", "a15"]
