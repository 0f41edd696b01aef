"""Reading values out of a Prometheus text exposition (``/metrics``) in tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def by_label(text: str, name: str, label: str) -> dict[str, float]:
    """The samples called ``name``, by the value of their ``label``."""
    return {
        s.labels[label]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def value(text: str, name: str) -> float:
    """The one sample called ``name`` (an AssertionError if there is none)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                return float(s.value)
    raise AssertionError(f"{name} not in /metrics")
