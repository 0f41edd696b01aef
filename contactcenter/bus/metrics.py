"""The bus in ``/metrics``, read from the edge at scrape time (nothing on the event path pays
for it). No labels: no contact, customer, agent or queue id ever becomes one.

``contactcenter_bus_events_total`` counts the events the engine handed to the bus (the last
``seq`` published or to be published), so a consumer can tell from one scrape which events
it must have seen for its counts to match the other series of that scrape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from contactcenter.metrics import PREFIX

if TYPE_CHECKING:
    from contactcenter.bus.edge import BusEdge


class BusCollector:
    def __init__(self, edge: BusEdge) -> None:
        self.edge = edge

    def collect(self) -> Iterator[Metric]:
        s = self.edge.snapshot()
        yield GaugeMetricFamily(
            PREFIX + "bus_connected",
            "1 while the engine is connected to the MQTT broker, else 0 (routing goes on).",
            value=int(s.connected),
        )
        yield CounterMetricFamily(
            PREFIX + "bus_events",
            "Domain events handed to the MQTT bus (the last seq).",
            value=s.events,
        )
        yield CounterMetricFamily(
            PREFIX + "bus_events_published",
            "Events the broker acknowledged (a resend after a lost acknowledgement counts again).",
            value=s.published,
        )
        yield CounterMetricFamily(
            PREFIX + "bus_events_dropped",
            "Events dropped because more than buffer_events waited for the broker (the oldest "
            "go first).",
            value=s.dropped,
        )
        yield GaugeMetricFamily(
            PREFIX + "bus_events_buffered",
            "Events waiting for the broker.",
            value=s.buffered,
        )
