"""The e-mail channel in a real ``serve`` process configured by ``mail.yaml``: a customer's mail
(HTML with a script, an attachment) is offered to an agent's desktop socket, the agent reads
the thread over HTTP (sanitized, audited), downloads the attachment, answers, closes with a
disposition; the answer lands in the customer's mailbox; a mailbox outage shows in /healthz
and /metrics and heals by itself."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import yaml

from tests.integration.server import call, frame, fresh_server, login
from tests.mail.conftest import CENTER, PASSWORD, Dovecot, SmtpPeer
from tests.polling import until
from tests.scrape import value

ANN = "ann@customer.test"
USERS = [("root", "admin", None), ("a14", "agent", "a14"), ("a05", "agent", "a05")]


def write_mail_yaml(
    config: Path, dovecot: Dovecot, smtp: SmtpPeer, survey_url: str | None = None
) -> None:
    os.environ["CC_TEST_MAIL_PASSWORD"] = PASSWORD
    doc = {
        "mail": {
            "enabled": True,
            "mailboxes": [{
                "address": CENTER, "name": "Northwind Support", "queue": "support_email",
                "imap": {"host": "127.0.0.1", "port": dovecot.port, "security": "none",
                         "username": CENTER, "password_env": "CC_TEST_MAIL_PASSWORD"},
            }],
            "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none"},
            "survey_url": survey_url,
            "reconnect_initial_seconds": 0.2,
            "reconnect_max_seconds": 1.0,
        }
    }  # fmt: skip
    (config / "mail.yaml").write_text(yaml.safe_dump(doc))


def html_mail_with_attachment() -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Ann Archer <{ANN}>"
    msg["To"] = CENTER
    msg["Subject"] = "Photo of the broken router"
    msg["Message-ID"] = "<photo@customer.test>"
    msg.set_content("See the photo.")
    msg.add_alternative(
        "<p>See the <b>photo</b>.<script>fetch('/api/agent/logout',{method:'POST'})</script>"
        '<a href="https://example.invalid" onclick="steal()">here</a></p>',
        subtype="html",
    )
    msg.add_attachment(b"\x89PNG fake image bytes", maintype="image", subtype="png",
                       filename="router.png")  # fmt: skip
    return msg.as_bytes()


async def test_an_agent_reads_answers_and_closes_a_mail_through_the_api(
    tmp_path: Path, dovecot: Dovecot, smtp_peer: SmtpPeer
) -> None:
    with fresh_server(tmp_path, USERS) as srv:
        write_mail_yaml(srv.config, dovecot, smtp_peer)
        base = srv.start()
        async with aiohttp.ClientSession() as http:
            auth = await login(http, base, "a14")
            desk = await http.ws_connect(f"{base}/api/agent/ws", headers=auth)
            await frame(desk, "snapshot")
            await call(http, "POST", f"{base}/api/agent/login", auth)
            dovecot.deliver(CENTER, html_mail_with_attachment())
            offer = await frame(desk, "offer", timeout=20)
            cid = offer["contact_id"]
            assert (offer["queue"], offer["channel"]) == ("support_email", "email")

            # another agent cannot read it
            other = await login(http, base, "a05")
            async with http.get(f"{base}/api/agent/contacts/{cid}/mail", headers=other) as r:
                assert r.status == 403

            await call(http, "POST", f"{base}/api/agent/contacts/{cid}/accept", auth)
            thread = await call(http, "GET", f"{base}/api/agent/contacts/{cid}/mail", auth)
            first = thread["mails"][0]
            assert first["direction"] == "in" and first["text"].strip() == "See the photo."
            assert "<b>photo</b>" in first["html"]
            assert "script" not in first["html"] and "onclick" not in first["html"]
            (att,) = first["attachments"]
            assert (att["filename"], att["content_type"], att["kept"]) == (
                "router.png", "image/png", True)  # fmt: skip
            url = f"{base}/api/agent/contacts/{cid}/mail/attachments/{att['id']}"
            async with http.get(url, headers=auth) as r:
                assert r.status == 200
                assert await r.read() == b"\x89PNG fake image bytes"
                assert r.headers["Content-Disposition"] == 'attachment; filename="router.png"'
                assert r.headers["X-Content-Type-Options"] == "nosniff"

            answer_url = f"{base}/api/agent/contacts/{cid}/mail/answer"
            async with http.post(answer_url, headers=auth, json={"text": ""}) as r:
                assert r.status == 422  # an empty answer is refused with a message
            await call(http, "POST", answer_url, auth, {"text": "Please restart it."})
            await call(http, "POST", f"{base}/api/agent/contacts/{cid}/hangup", auth)
            await call(http, "POST", f"{base}/api/agent/contacts/{cid}/wrapup", auth,
                       {"disposition": "resolved"})  # fmt: skip
            assert await until(lambda: len(dovecot.inbox(ANN)) == 2, timeout=20)
            answer, _ = dovecot.inbox(ANN)[1]
            assert answer["In-Reply-To"] == "<photo@customer.test>"
            assert answer.get_content().strip() == "Please restart it."

            # every read of the thread, the download and the answer are in the audit log
            root = await login(http, base, "root")
            for action, times in (("read_mail_thread", 1), ("read_mail_attachment", 1),
                                  ("answer_mail", 1)):  # fmt: skip
                audit = await call(http, "GET", f"{base}/api/audit?action={action}", root)
                mine = [e for e in audit["entries"] if e["target"] == cid and e["actor"] == "a14"]
                assert len(mine) == times, (action, audit["entries"])
            assert "Please restart" not in str(audit["entries"])  # ids and codes, no text

            # a mailbox outage: visible, and healed when the server is back
            dovecot.stop()
            assert await until(lambda: _mailbox_problem(http, base), timeout=20)
            metrics = await _metrics(http, base)
            assert value(metrics, "contactcenter_mail_mailboxes_down") == 1.0
            dovecot.start()
            assert await until(lambda: _no_mailbox_problem(http, base), timeout=20)
            dovecot.deliver(CENTER, b"From: bob@customer.test\r\nTo: " + CENTER.encode() +
                            b"\r\nSubject: after the outage\r\nMessage-ID: <late@customer.test>"
                            b"\r\n\r\nStill there?\r\n")  # fmt: skip
            offer = await frame(desk, "offer", timeout=20)
            assert offer["channel"] == "email"
            await desk.close()


async def _problems(http: aiohttp.ClientSession, base: str) -> list[str]:
    async with http.get(f"{base}/healthz") as r:
        data = await r.json()
        problems: list[str] = data.get("problems", [])
        return problems


async def _mailbox_problem(http: aiohttp.ClientSession, base: str) -> bool:
    return any("mailbox" in p for p in await _problems(http, base))


async def _no_mailbox_problem(http: aiohttp.ClientSession, base: str) -> bool:
    return not await _mailbox_problem(http, base)


async def _metrics(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(f"{base}/metrics") as r:
        return await r.text()
