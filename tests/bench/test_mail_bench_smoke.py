"""Smoke test of the e-mail ingest benchmark: ``python bench/mail.py --quick`` reads a real
Dovecot mailbox into routed contacts and ends with a parsable ``key=value`` line; a quick run is
never judged against the floors."""

from __future__ import annotations

import math

from tests.bench.quick_run import run_quick
from tests.mail.conftest import DOVECOT
from tests.peers import required

pytestmark = required(
    None if DOVECOT else "dovecot is not installed (apt-get install dovecot-imapd)"
)


def test_quick_run_prints_a_parsable_summary() -> None:
    summary = run_quick("mail.py")
    assert summary["mails"] == "100"
    for key in ("ingest_mails_per_s", "baseline_mails_per_s", "ingest_vs_baseline_ratio",
                "arrival_to_queued_p50_ms", "arrival_to_queued_p95_ms",
                "baseline_idle_push_p50_ms"):  # fmt: skip
        value = float(summary[key])
        assert math.isfinite(value) and value > 0, key
    assert float(summary["arrival_to_queued_p50_ms"]) <= float(summary["arrival_to_queued_p95_ms"])
    assert summary["floors_met"] == "0"
