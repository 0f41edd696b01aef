"""E-mail ingest benchmark: mails a second from a real Dovecot mailbox to routed contacts, against
a baseline measured in the same run, and the latency from a mail's delivery to its contact
queued.

Setup (a temporary directory, removed at the end): Debian's Dovecot on a free loopback port
(``tests/mail/conftest.py``'s), the example center on a fresh SQLite store, the mail edge
reading the center's mailbox (acknowledgements off: no SMTP server is part of this).

1. *Backlog*: ``MAILS`` customer mails are delivered while the engine is down. Baseline: a bare
   aioimaplib client fetches each unseen mail and marks it seen, the least an IMAP reader costs
   (then they are marked unseen again). Ours: the engine starts and reads, parses, stores (each
   mail with its thread and contact in one fsync'd transaction), routes and marks seen every
   one; mails a second = mails / seconds from start to the last one stored.
2. *Live*: ``LIVE`` mails delivered one at a time while the engine waits in IDLE; latency from
   the delivery (IMAP APPEND answered) to the contact in the core's queue. Baseline: a bare
   aioimaplib client in IDLE, from the delivery to the server's push.

Floors (judged on a full run only): >= 20 mails/s ingested; arrival to queued p95 < 2 s.
Last line: ``key=value`` pairs. Usage: ``python bench/mail.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # (the Dovecot of the mail tests)

import aioimaplib  # noqa: E402

from contactcenter.config import load_center  # noqa: E402
from contactcenter.mail.edge import MailEdge  # noqa: E402
from contactcenter.mail.settings import MailSettings  # noqa: E402
from contactcenter.runtime import Site  # noqa: E402
from contactcenter.store import Store  # noqa: E402
from tests.mail.conftest import CENTER, PASSWORD, Dovecot, customer_mail  # noqa: E402

MAILS = 500
LIVE = 40
FLOOR_MAILS_PER_S = 20.0
FLOOR_P95_SECONDS = 2.0


def mails(n: int, tag: str) -> list[bytes]:
    body = "My question, in a few lines.\n" * 20
    return [
        customer_mail(f"c{i}@customer.test", f"Q {i}", body, message_id=f"<{tag}-{i}@c.test>")
        for i in range(n)
    ]


async def baseline(port: int) -> tuple[int, float]:
    """A bare client: every unseen mail fetched and marked seen; then unmarked again."""
    client = aioimaplib.IMAP4("127.0.0.1", port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(CENTER, PASSWORD)
    await client.select("INBOX")
    started = time.perf_counter()
    found = await client.uid_search("UNSEEN")
    uids = [u for u in bytes(found.lines[0]).split() if u.isdigit()]
    for uid in uids:
        await client.uid("fetch", uid.decode(), "(INTERNALDATE BODY.PEEK[])")
        await client.uid("store", uid.decode(), "+FLAGS.SILENT (\\Seen)")
    seconds = time.perf_counter() - started
    await client.uid("store", b",".join(uids).decode(), "-FLAGS.SILENT (\\Seen)")
    await client.logout()
    return len(uids), seconds


async def idle_baseline(dovecot: Dovecot, live: int) -> list[float]:
    """A bare client in IDLE: from each delivery to the server's push (what the server itself
    takes to tell an IDLE client, before any reading)."""
    client = aioimaplib.IMAP4("127.0.0.1", dovecot.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(CENTER, PASSWORD)
    await client.select("INBOX")
    pushed: list[float] = []
    for raw in mails(live, "idle"):
        idle = await client.idle_start(timeout=60)
        await asyncio.to_thread(dovecot.deliver, CENTER, raw)
        sent = time.perf_counter()
        await client.wait_server_push(timeout=30)
        pushed.append(time.perf_counter() - sent)
        client.idle_done()
        await asyncio.wait_for(idle, 10)
    await client.uid("store", "1:*", "+FLAGS.SILENT (\\Seen)")  # (not the engine's to read)
    await client.logout()
    return pushed


def settings(port: int) -> MailSettings:
    os.environ["CC_BENCH_MAIL_PASSWORD"] = PASSWORD
    return MailSettings.model_validate({
        "enabled": True,
        "mailboxes": [{
            "address": CENTER, "queue": "support_email", "acknowledge": {"enabled": False},
            "imap": {"host": "127.0.0.1", "port": port, "security": "none",
                     "username": CENTER, "password_env": "CC_BENCH_MAIL_PASSWORD"},
        }],
        "smtp": {"host": "127.0.0.1", "port": 9, "security": "none"},
    })  # fmt: skip


async def until(predicate: object, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise TimeoutError("the engine did not get there in time")
        await asyncio.sleep(0.002)


async def ours(
    dovecot: Dovecot, workdir: Path, backlog: int, live: int
) -> tuple[float, list[float]]:
    center = load_center(ROOT / "config")
    store = await Store.open(workdir / "cc.sqlite3")
    site = Site(center, store)
    mail = settings(dovecot.port)
    edge = MailEdge(site.serve_mail(mail), mail)
    site.add_edge(edge)
    started = time.perf_counter()
    await site.start()
    try:
        await until(lambda: edge.counts.received == backlog, timeout=600)
        ingest = time.perf_counter() - started
        latencies: list[float] = []
        for i, raw in enumerate(mails(live, "live")):
            await asyncio.to_thread(dovecot.deliver, CENTER, raw)
            sent = time.perf_counter()
            await until(lambda i=i: edge.counts.received == backlog + i + 1, timeout=30)
            latencies.append(time.perf_counter() - sent)
        return ingest, latencies
    finally:
        await site.stop()
        await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100 mails, 10 live: a smoke test")
    args = parser.parse_args(argv)
    backlog, live = (100, 10) if args.quick else (MAILS, LIVE)
    workdir = Path(tempfile.mkdtemp(prefix="cc-bench-mail-"))
    workdir.chmod(0o755)
    dovecot = Dovecot(workdir, (CENTER,))
    try:
        dovecot.start()
        idle_push = asyncio.run(idle_baseline(dovecot, live))
        dovecot.deliver_many(CENTER, mails(backlog, "backlog"))
        base_n, base_s = asyncio.run(baseline(dovecot.port))
        assert base_n == backlog, (base_n, backlog)
        ingest_s, latencies = asyncio.run(ours(dovecot, workdir, backlog, live))
    finally:
        dovecot.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    base_rate, our_rate = backlog / base_s, backlog / ingest_s
    p50 = statistics.median(latencies)
    push_p50 = statistics.median(idle_push)
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else latencies[0]
    met = not args.quick and our_rate >= FLOOR_MAILS_PER_S and p95 < FLOOR_P95_SECONDS
    print(f"backlog of {backlog} mails (delivered while the engine was down):")
    print(f"  bare IMAP fetch + mark seen: {base_rate:8.0f} mails/s")
    print(f"  engine (parse, store, route, mark seen): {our_rate:8.0f} mails/s "
          f"({our_rate / base_rate:.2f}x the bare reader)")  # fmt: skip
    print(f"live: {live} mails one at a time: delivery to queued p50 {p50 * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms; a bare IDLE client is told of one after "
          f"{push_p50 * 1000:.0f} ms (p50): the server's own notification delay")  # fmt: skip
    print(
        f"mails={backlog} ingest_mails_per_s={our_rate:.1f} baseline_mails_per_s={base_rate:.1f} "
        f"ingest_vs_baseline_ratio={our_rate / base_rate:.3f} "
        f"arrival_to_queued_p50_ms={p50 * 1000:.1f} arrival_to_queued_p95_ms={p95 * 1000:.1f} "
        f"baseline_idle_push_p50_ms={push_p50 * 1000:.1f} "
        f"floor_mails_per_s={FLOOR_MAILS_PER_S:g} floor_p95_ms={FLOOR_P95_SECONDS * 1000:g} "
        f"floors_met={int(met)} quick={int(args.quick)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
