"""Scenario files for tests: the example center's config with a small forecast and staffing."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CENTER = ROOT / "config"

FORECAST = """interval_start,queue,contacts,aht_seconds
09:00,sales,60,240
09:00,billing,80,240
09:00,support_chat,30,400
09:30,sales,70,240
09:30,billing,90,240
09:30,support_chat,35,400
"""

STAFFING = """interval_start,sales,billing,chat
09:00,6,7,2
09:30,6,7,2
"""


def base_spec() -> dict[str, object]:
    return {
        "center": str(CENTER),
        "forecast": "forecast.csv",
        "staffing": "staffing.csv",
        "seed": 3,
        "replications": 3,
        "patience": {"distribution": "exponential", "mean_seconds": 120},
        "tiers": {"vip": 0.05, "gold": 0.15, "standard": 0.8},
        "agent_groups": {
            "sales": {"template": "a05", "count": 10},
            "billing": {"template": "a22", "count": 10},
            "chat": {"agents": ["a29", "a30"]},
        },
        "drain_minutes": 60,
    }


def write_scenario(
    directory: Path,
    spec: dict[str, object] | None = None,
    *,
    forecast: str = FORECAST,
    staffing: str | None = STAFFING,
    extra: dict[str, str] | None = None,
) -> Path:
    """Write scenario.yaml (``spec`` or the base), forecast.csv, staffing.csv and ``extra``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "scenario.yaml"
    path.write_text(
        yaml.safe_dump(spec if spec is not None else base_spec(), sort_keys=False), encoding="utf-8"
    )
    (directory / "forecast.csv").write_text(forecast, encoding="utf-8")
    if staffing is not None:
        (directory / "staffing.csv").write_text(staffing, encoding="utf-8")
    for name, text in (extra or {}).items():
        (directory / name).write_text(text, encoding="utf-8")
    return path
