"""Small centers and models built in code: for validation tests, benchmarks and what-ifs that
need no files (a single skill queue against Erlang C, pooled queues, a tier mix)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from contactcenter.config import (
    AgentConfig,
    Center,
    CenterSettings,
    Channel,
    QueueConfig,
    Skill,
    Tier,
    build_center,
)
from sim.scenario import (
    Forecast,
    HandleTime,
    Model,
    Patience,
    ScenarioSpec,
    Staffing,
    resolve,
)


def simple_center(
    agents: int,
    queues: Sequence[str] = ("q",),
    *,
    channel: Channel = "voice",
    threshold_seconds: float = 20.0,
    wrap_up_seconds: float = 0.0,
    tiers: Mapping[str, int] | None = None,
    selection: str = "longest_idle",
) -> Center:
    """``agents`` identical agents, all tier-1 members of every queue; one skill; no escalation.

    ``tiers`` maps tier id -> priority (default: one ``standard`` tier).
    """
    tier_list = tuple(Tier(id=t, priority=p) for t, p in (tiers or {"standard": 0}).items())
    settings = CenterSettings(
        name="planning test center",
        skills=(Skill(id="s"),),
        tiers=tier_list,
        default_tier="standard" if tiers is None or "standard" in tiers else tier_list[0].id,
    )
    qs = [
        QueueConfig.model_validate(
            {
                "id": q,
                "channel": channel,
                "skills": {"s": 1},
                "answer_target": {"threshold_seconds": threshold_seconds},
                "wrap_up_seconds": wrap_up_seconds,
                "selection": selection,
            }
        )
        for q in queues
    ]
    members = dict.fromkeys(queues, 1)
    people = [AgentConfig(id=f"a{i:04d}", skills={"s": 3}, queues=members) for i in range(agents)]
    return build_center(settings, qs, people)


def stationary_model(
    center: Center,
    contacts_per_hour: Mapping[str, float],
    aht_seconds: float | Mapping[str, float],
    *,
    hours: float,
    interval_minutes: int = 30,
    agents: int | None = None,
    patience_seconds: float | None = None,
    handle: HandleTime | None = None,
    tiers: Mapping[str, float] | None = None,
    spec: Mapping[str, object] | None = None,
) -> Model:
    """Constant arrival rates for ``hours`` with ``agents`` of the center logged in all along
    (default: every agent); one group ``all``. The first interval starts at midnight, or after
    the warm-up when ``spec`` has ``warmup_minutes``."""
    step = interval_minutes * 60.0
    k = max(1, round(hours * 3600.0 / step))
    queues = tuple(center.queues)
    rate = np.array([contacts_per_hour.get(q, 0.0) * step / 3600.0 for q in queues])
    if isinstance(aht_seconds, Mapping):
        aht_row = np.array([float(aht_seconds.get(q, 300.0)) for q in queues])
    else:
        aht_row = np.full(len(queues), float(aht_seconds))
    settings: dict[str, object] = {
        "handle_time": handle or HandleTime(),
        "patience": (
            Patience(distribution="exponential", mean_seconds=patience_seconds)
            if patience_seconds is not None
            else Patience()
        ),
        "tiers": dict(tiers) if tiers is not None else None,
        "drain_minutes": 24 * 60.0,
    }
    settings.update(spec or {})
    scenario = ScenarioSpec.model_validate(settings)
    forecast = Forecast(
        # (simulated time starts at midnight: the warm-up runs before the first interval)
        start=scenario.warmup_minutes * 60.0,
        interval_seconds=step,
        queues=queues,
        contacts=np.tile(rate, (k, 1)),
        aht=np.tile(aht_row, (k, 1)),
    )
    n = len(center.agents) if agents is None else agents
    staffing = Staffing(("all",), np.full((k, 1), n, dtype=np.int64))
    return resolve(scenario, center, forecast, staffing=staffing, source="<stationary>")
