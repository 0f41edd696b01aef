"""Nothing received is lost or routed twice: mails that arrived while the engine was down are
all routed after start, in arrival order, once; a mail stored but not yet marked seen when the
engine stopped is fetched again and recognised; hostile or broken mail is stored safely and
the mailbox goes on."""

from __future__ import annotations

import time
from email.message import EmailMessage

from contactcenter.routing import ContactState
from tests.mail.conftest import (
    BOTH_DATABASES,
    CENTER,
    Dovecot,
    MailSiteFactory,
    SmtpPeer,
    customer_mail,
    mail_settings,
)
from tests.polling import until

DOWN = 500


@BOTH_DATABASES
async def test_mails_that_arrived_while_the_engine_was_down_are_routed_in_order_once(
    dovecot: Dovecot, smtp_peer: SmtpPeer, make_mail_site: MailSiteFactory
) -> None:
    raws = [
        customer_mail(
            f"c{i}@customer.test",
            f"Question {i}",
            f"Body {i}",
            message_id=f"<down-{i:04d}@customer.test>",
        )
        for i in range(DOWN)
    ]
    dovecot.deliver_many(CENTER, raws)
    settings = mail_settings(dovecot, smtp_peer, mailbox={"acknowledge": {"enabled": False}})
    started = time.monotonic()
    ms = await make_mail_site(settings)
    router = ms.site.engine.router
    assert await until(lambda: ms.edge.counts.received == DOWN, timeout=120)
    seconds = time.monotonic() - started
    waiting = [c for c in router.contacts.values() if c.channel == "email"]
    assert len(waiting) == DOWN and all(c.state is ContactState.WAITING for c in waiting)
    # the queue serves them in arrival order: the mails' order in the mailbox
    records = [await ms.store.contact_record(c.id) for c in waiting]
    by_arrival = sorted(records, key=lambda r: (r.arrived_wall, r.contact_id) if r else (0, ""))
    threads = [await ms.site.mail.thread(r.contact_id) for r in by_arrival if r]  # type: ignore[union-attr]
    assert [mails[0].message_id for _, mails in threads] == [
        f"<down-{i:04d}@customer.test>" for i in range(DOWN)
    ]
    assert all(seen for _, seen in dovecot.inbox(CENTER))
    rate = DOWN / seconds
    assert rate > 20, f"{rate:.0f} mails/s"  # (measured ~200/s on 2 cores, see the docs)


@BOTH_DATABASES
async def test_a_mail_stored_but_not_marked_seen_is_recognised_when_fetched_again(
    dovecot: Dovecot, smtp_peer: SmtpPeer, make_mail_site: MailSiteFactory, tmp_path: object
) -> None:
    raw = customer_mail("ann@customer.test", "Twice?", "Once.", message_id="<once@customer.test>")
    dovecot.deliver(CENTER, raw)
    settings = mail_settings(dovecot, smtp_peer)
    ms = await make_mail_site(settings)
    assert await until(lambda: ms.edge.counts.received == 1, timeout=15)
    assert await until(lambda: ms.edge.counts.sent == 1, timeout=15)  # its acknowledgement
    # the engine stored it, then "crashed" before marking it seen: unmark it on the server
    with dovecot.client(CENTER) as c:
        c.select("INBOX")
        c.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")
    await ms.site.stop()  # (a restart reads the mailbox from the start)
    await ms.store.close()
    again = await make_mail_site(settings, db=ms.store.path)
    assert await until(lambda: again.edge.counts.duplicates == 1, timeout=15)
    emails = [c for c in again.site.engine.router.contacts.values() if c.channel == "email"]
    assert len(emails) == 1  # the one contact, queued again after the restart; no second
    assert all(seen for _, seen in dovecot.inbox(CENTER))
    assert len(dovecot.inbox("ann@customer.test")) == 1  # one acknowledgement


def hostile_mails() -> list[bytes]:
    script = EmailMessage()
    script["From"] = "mallory@customer.test"
    script["To"] = CENTER
    script["Subject"] = "<script>alert('subject')</script>"
    script["Message-ID"] = "<script@customer.test>"
    script.set_content("<p onmouseover=alert(1)>hi</p><script>alert(2)</script>"
                       '<iframe src="https://evil.invalid"></iframe><img src="https://t.invalid/p.gif">',
                       subtype="html")  # fmt: skip
    big = EmailMessage()
    big["From"] = "bob@customer.test"
    big["To"] = CENTER
    big["Subject"] = "A big scan"
    big["Message-ID"] = "<big@customer.test>"
    big.set_content("The scan is attached.")
    big.add_attachment(b"\x00" * (30 * 2**20), maintype="application", subtype="pdf",
                       filename="scan.pdf")  # fmt: skip
    broken = (
        b"From: =?utf-8?q?broken?= <weird@customer.test\r\nTo: " + CENTER.encode() + b"\r\n"
        b"Subject: =?x-unknown?B?////?=\r\nMessage-ID: <broken@customer.test>\r\n"
        b'Content-Type: multipart/mixed; boundary="nope"\r\n\r\n'
        b"--wrong\r\nContent-Type: text/plain; charset=no-such-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
    )
    return [script.as_bytes(), big.as_bytes(), broken]


async def test_hostile_and_broken_mail_is_stored_safely_and_the_mailbox_goes_on(
    dovecot: Dovecot, smtp_peer: SmtpPeer, make_mail_site: MailSiteFactory
) -> None:
    ms = await make_mail_site(mail_settings(dovecot, smtp_peer))
    dovecot.deliver_many(CENTER, hostile_mails())
    dovecot.deliver(CENTER, customer_mail("ann@customer.test", "Normal", "Fine.",
                                          message_id="<after@customer.test>"))  # fmt: skip
    assert await until(lambda: ms.edge.counts.received == 4, timeout=60)
    by_id = {}
    for c in ms.site.engine.router.contacts.values():
        _, mails = await ms.site.mail.thread(c.id)  # type: ignore[union-attr]
        by_id[mails[0].message_id] = mails[0]
    assert set(by_id) == {"<script@customer.test>", "<big@customer.test>",
                          "<broken@customer.test>", "<after@customer.test>"}  # fmt: skip
    html = by_id["<script@customer.test>"].html or ""
    for bad in ("<script", "onmouseover", "<iframe", "<img", "evil.invalid", "t.invalid"):
        assert bad not in html, (bad, html)
    assert "hi" in html
    (scan,) = by_id["<big@customer.test>"].attachments
    assert (scan.filename, scan.size, scan.kept) == ("scan.pdf", 30 * 2**20, False)
    assert by_id["<broken@customer.test>"].text is not None
