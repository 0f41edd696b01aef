"""Serving the metrics, independent of any web framework.

The API layer's ``/metrics`` handler needs two lines, e.g. with aiohttp::

    body, content_type = exposition(metrics.registry, request.headers.get("Accept"))
    return web.Response(body=body, headers={"Content-Type": content_type})

Call it on the event-loop thread: the live gauges read the router at scrape time.

No ``_created`` series: prometheus_client adds one per counter and histogram child (the time
it was created, about a quarter of the output) unless told not to; no rule or dashboard reads
them, and ``increase()`` does not need them because every series starts at 0. The switch is
the library's and process-wide, thrown when this module is imported (before any scrape).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest
from prometheus_client.exposition import choose_encoder

disable_created_metrics()  # type: ignore[no-untyped-call]


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format (0.0.4) of ``registry``."""
    return generate_latest(registry)


def exposition(registry: CollectorRegistry, accept: str | None = None) -> tuple[bytes, str]:
    """Body and Content-Type for a scrape whose ``Accept`` header is ``accept``: OpenMetrics
    when the scraper asks for it, else the Prometheus text format."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Content-Type of ``render``'s output (the Prometheus text format)."""
