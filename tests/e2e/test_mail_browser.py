"""The e-mail channel as an agent lives it, in headless Chromium against a real ``serve``, a
real Dovecot and an SMTP server delivering into it: a customer's mail is offered on the
desktop, the agent reads it (the HTML only in a sandboxed frame), answers, closes it with a
disposition; the answer arrives in the customer's mailbox threaded; the customer's reply
comes back to the desktop in the same thread; a mailbox outage shows on the wallboard."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.bus.conftest import free_port
from tests.e2e.browser import NEEDS_CHROMIUM, SHOTS, chromium, login, new_page
from tests.integration.server import PASSWORD, fresh_server
from tests.mail.conftest import CENTER, Dovecot, SmtpPeer, dovecot, smtp_peer  # noqa: F401
from tests.mail.test_serve_mail import write_mail_yaml

pytestmark = NEEDS_CHROMIUM
ANN = "ann@customer.test"
USERS = [("root", "admin", None), ("boss", "supervisor", None), ("a14", "agent", "a14")]


def first_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Ann Archer <{ANN}>"
    msg["To"] = CENTER
    msg["Subject"] = "No internet since Monday"
    msg["Message-ID"] = "<monday@customer.test>"
    msg.set_content("My line has been dead since Monday.")
    msg.add_alternative("<p>My line has been <b>dead</b> since Monday."
                        "<script>document.title='owned'</script></p>", subtype="html")  # fmt: skip
    msg.add_attachment(b"modem log", maintype="text", subtype="plain", filename="modem.log")
    return msg.as_bytes()


def csat_today(base: str) -> list[dict[str, object]]:
    """The supervisors' CSAT rows of today, read as root."""
    login = urllib.request.Request(
        f"{base}/api/login", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"username": "root", "password": PASSWORD}).encode(),
    )  # fmt: skip
    with urllib.request.urlopen(login, timeout=10) as resp:
        token = json.loads(resp.read())["token"]
    read = urllib.request.Request(
        f"{base}/api/supervisor/csat", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(read, timeout=10) as resp:
        rows: list[dict[str, object]] = json.loads(resp.read())["queues"]
        return rows


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.1)


def test_an_agent_answers_a_mail_on_the_desktop_and_the_reply_comes_back(
    tmp_path: Path,
    dovecot: Dovecot,  # noqa: F811
    smtp_peer: SmtpPeer,  # noqa: F811
) -> None:
    with fresh_server(tmp_path, USERS) as srv:
        port = free_port()
        write_mail_yaml(srv.config, dovecot, smtp_peer, f"http://127.0.0.1:{port}/survey")
        base = srv.start(port)
        with chromium() as browser:
            agent = new_page(browser, 1280, 900)
            agent.goto(f"{base}/desktop")
            login(agent, "a14")
            agent.get_by_test_id("routing-login").click()
            dovecot.deliver(CENTER, first_mail())
            agent.get_by_test_id("offer-accept").click(timeout=20_000)
            thread = agent.get_by_test_id("mail-thread")
            expect(agent.get_by_test_id("mail-subject")).to_contain_text("No internet since Monday")
            expect(thread.get_by_test_id("mail").first).to_contain_text(
                "My line has been dead since Monday.")  # fmt: skip
            expect(agent.get_by_test_id("tab")).to_contain_text("No internet since Monday")
            # the HTML, on demand, in a sandboxed frame without the script
            agent.get_by_test_id("mail-show-html").first.click()
            frame = agent.get_by_test_id("mail-html")
            expect(frame).to_have_attribute("sandbox", "")
            assert "script" not in (frame.get_attribute("srcdoc") or "")
            expect(agent.frame_locator('[data-testid="mail-html"]').locator("b")).to_have_text(
                "dead"
            )
            assert agent.title() != "owned"
            expect(agent.get_by_test_id("mail-attachment")).to_have_text("modem.log (9 bytes)")
            agent.screenshot(path=str(SHOTS / "mail-1-thread.png"), full_page=True)

            agent.get_by_test_id("mail-answer").fill("We reset your line; it works again.")
            agent.get_by_test_id("mail-send").click()
            expect(thread.locator('[data-direction="out"]')).to_contain_text(
                "We reset your line; it works again.")  # fmt: skip
            wait_for(lambda: len(dovecot.inbox(ANN)) == 2)  # the acknowledgement, the answer
            answer, _ = dovecot.inbox(ANN)[1]
            assert answer["In-Reply-To"] == "<monday@customer.test>"
            assert answer["From"] == f"Northwind Support <{CENTER}>"
            assert answer.get_content().strip() == "We reset your line; it works again."
            expect(thread.locator('[data-direction="out"]')).to_contain_text("sent")

            agent.get_by_test_id("agent-hangup").click()  # "Close"
            agent.get_by_test_id("wrapup-disposition").select_option("resolved")
            agent.get_by_test_id("wrapup-submit").click()
            expect(agent.get_by_test_id("tab")).to_have_count(0)

            # closing it mails Ann the survey link; she scores it on the survey page
            wait_for(lambda: len(dovecot.inbox(ANN)) == 3)
            survey, _ = dovecot.inbox(ANN)[2]
            assert survey["Auto-Submitted"] == "auto-generated"
            assert survey["In-Reply-To"] == answer["Message-ID"]
            (link,) = re.findall(r"http://\S+/survey#\S+", survey.get_content())
            ann = new_page(browser, 390, 800)
            ann.goto(link)
            expect(ann.get_by_test_id("survey-question")).to_have_text(
                "How satisfied are you with the help you got?")  # fmt: skip
            assert "#" not in ann.url  # the token left the address bar
            ann.get_by_text("5", exact=False).last.check()
            ann.get_by_test_id("survey-send").click()
            expect(ann.get_by_test_id("survey-thanks")).to_be_visible()
            ann.screenshot(path=str(SHOTS / "mail-2-survey.png"))
            csat = csat_today(base)
            assert [(q["queue"], q["channel"], q["answers"], q["average"]) for q in csat] == [
                ("support_email", "email", 1, 5.0)
            ]
            ann.goto("about:blank")
            ann.goto(link)  # a second time: answered already, said so
            expect(ann.get_by_test_id("survey-error")).to_contain_text("rated already")

            # Ann answers the agent's mail: the thread comes back to the desktop
            reply = EmailMessage()
            reply["From"] = ANN
            reply["To"] = CENTER
            reply["Subject"] = str(answer["Subject"])
            reply["Message-ID"] = "<thanks@customer.test>"
            reply["In-Reply-To"] = str(answer["Message-ID"])
            reply["References"] = f"{answer['References']} {answer['Message-ID']}"
            reply.set_content("Thank you, it works.")
            dovecot.deliver(CENTER, reply.as_bytes())
            agent.get_by_test_id("offer-accept").click(timeout=20_000)
            mails = agent.get_by_test_id("mail-thread").get_by_test_id("mail")
            expect(mails).to_have_count(5)  # hers, acknowledgement, answer, survey link, hers
            expect(mails.nth(3)).to_contain_text("Survey link")
            expect(mails.nth(4)).to_contain_text("Thank you, it works.")
            assert len(dovecot.inbox(ANN)) == 3  # no second acknowledgement

            # a mailbox outage shows on the wallboard, and goes away
            boss = new_page(browser, 1280, 900)
            boss.goto(f"{base}/wallboard")
            login(boss, "boss")
            problems = boss.get_by_test_id("wallboard-problems")
            expect(problems).to_be_hidden()
            dovecot.stop()
            expect(problems).to_contain_text("mailbox support@northwind.test unreachable",
                                             timeout=20_000)  # fmt: skip
            boss.screenshot(path=str(SHOTS / "mail-3-wallboard-outage.png"))
            dovecot.start()
            expect(problems).to_be_hidden(timeout=20_000)


@pytest.fixture(autouse=True)
def _shots() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
