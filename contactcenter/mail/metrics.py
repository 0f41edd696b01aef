"""The mail edge in ``/metrics``, read from the edge at scrape time. No labels: no address,
customer or thread ever becomes one (the e-mail queues' waiting, oldest age and service level
are the queues' series, channel ``email``, like every other channel's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)

from contactcenter.metrics import PREFIX

if TYPE_CHECKING:
    from contactcenter.mail.edge import MailEdge


class MailCollector:
    def __init__(self, edge: MailEdge) -> None:
        self.edge = edge

    def collect(self) -> Iterator[Metric]:
        edge, counts = self.edge, self.edge.counts
        yield GaugeMetricFamily(
            PREFIX + "mail_mailboxes", "Mailboxes the engine reads.", value=len(edge.mailboxes)
        )
        yield GaugeMetricFamily(
            PREFIX + "mail_mailboxes_down",
            "Mailboxes the engine cannot read right now (tried again with backoff).",
            value=sum(link.down_since is not None for link in edge.mailboxes.values()),
        )
        yield GaugeMetricFamily(
            PREFIX + "mail_smtp_down",
            "1 while the mail server refuses or cannot be reached for sending, else 0 (the "
            "outbox keeps the mails).",
            value=int(edge.smtp.down_since is not None),
        )
        yield GaugeMetricFamily(
            PREFIX + "mail_outbox", "Mails waiting to be sent.", value=edge.outbox_waiting
        )
        yield CounterMetricFamily(
            PREFIX + "mail_received", "Mails stored from the mailboxes.", value=counts.received
        )
        yield CounterMetricFamily(
            PREFIX + "mail_refetched",
            "Mails fetched again that were stored already (not marked seen before a stop).",
            value=counts.duplicates,
        )
        yield CounterMetricFamily(
            PREFIX + "mail_sent",
            "Mails the mail server accepted (answers and acknowledgements).",
            value=counts.sent,
        )
        yield CounterMetricFamily(
            PREFIX + "mail_failures",
            "Failed sessions with a mailbox or the mail server.",
            value=sum(link.failures for link in edge.mailboxes.values()) + edge.smtp.failures,
        )
        yield SummaryMetricFamily(
            PREFIX + "mail_ingest_seconds",
            "From a mail's arrival on the mail server (its INTERNALDATE, to the second) to "
            "stored and routed.",
            count_value=counts.ingested,
            sum_value=counts.ingest_seconds,
        )
