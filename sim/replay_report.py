"""What ``contactcenter-sim replay`` reports: the recorded KPIs beside the replayed ones per
queue, and each queue's patience as estimated from the censored waits (``replay.json`` and a
terminal table; the replay's own intervals, occupancy and charts are ``write_run``'s)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from contactcenter.kpi import QueueTally
from sim.patience import PatienceCurve
from sim.recording import OUTCOMES
from sim.replay import Replay
from sim.statistics import Summary

COMPARED = ("offered", "answered", "abandoned", "sl_offered", "asa")
"""The KPIs a replay under the recorded staffing must reproduce."""

SURVIVAL_AT = (30.0, 60.0, 120.0)


def _recorded(t: QueueTally) -> dict[str, float | None]:
    return {
        "offered": t.offered,
        "answered": t.answered,
        "abandoned": t.abandoned,
        "sl_offered": t.sl_offered(),
        "asa": t.asa(),
    }


def _num(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) or math.isinf(v) else round(float(v), 6)


def patience_json(curve: PatienceCurve, waits: np.ndarray, abandoned: np.ndarray) -> dict[str, Any]:
    """A queue's patience: the Kaplan-Meier median and mean (with its tail), survival at a few
    waits, and the naive mean of the abandoners' waits for contrast (biased low)."""
    return {
        "contacts": int(waits.size),
        "abandoned": int(abandoned.sum()),
        "median_seconds": _num(curve.median()),
        "mean_seconds": _num(curve.mean()),
        "survival": {f"{t:g}": _num(float(curve.survival(t)[0])) for t in SURVIVAL_AT},
        "tail_mean_seconds": _num(curve.tail_mean),
        "abandoners_mean_wait_seconds": _num(float(waits[abandoned].mean()))
        if abandoned.any()
        else None,
    }


def replay_json(
    replay: Replay, recorded: dict[str, QueueTally], summary: Summary
) -> dict[str, Any]:
    rec = replay.day.recording
    queues: dict[str, Any] = {}
    for j, q in enumerate(summary.queues):
        if q not in recorded and not summary.by_queue["offered"].mean[j] > 0:
            continue
        replayed = {
            k: {
                "mean": _num(float(summary.by_queue[k].mean[j])),
                "low": _num(float(summary.by_queue[k].low[j])),
                "high": _num(float(summary.by_queue[k].high[j])),
            }
            for k in COMPARED
        }
        mine = recorded.get(q)
        queues[q] = {
            "recorded": {k: _num(v) for k, v in _recorded(mine).items()} if mine else None,
            "replayed": replayed,
        }
    patience = {}
    for q, curve in replay.day.patience.items():
        waits = np.array([c.wait for c in rec.contacts if c.queue == q])
        abandoned = np.array([c.abandoned for c in rec.contacts if c.queue == q])
        patience[q] = patience_json(curve, waits, abandoned)
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for c in rec.contacts:
        outcomes[c.outcome] += 1
    return {
        "day": rec.day.isoformat(),
        "source": rec.source,
        "scenario": replay.model.source,
        "staffing": replay.staffing,
        "contacts": len(rec.contacts),
        "outcomes": outcomes,
        "outside_window": replay.outside,
        "replications": summary.replications,
        "seed": replay.model.seed,
        "queues": queues,
        "patience": patience,
    }


def replay_text(doc: dict[str, Any]) -> str:
    """The terminal table of ``replay_json``'s document."""
    outcomes = ", ".join(f"{k} {v}" for k, v in doc["outcomes"].items() if v)
    lines = [
        f"replayed {doc['day']} from {doc['source']}: {doc['contacts']:,} contacts ({outcomes}); "
        f"{doc['replications']} replications",
        f"staffing: {doc['staffing']}",
    ]
    if doc["outside_window"]:
        lines.append(f"left out: {doc['outside_window']} contacts outside the scenario's window")
    head = "".join(f"{k:>21}" for k in ("offered", "answered", "abandoned", "SL", "ASA s"))
    lines.append(f"{'queue':<16}{head}")
    lines.append(f"{'':<16}" + f"{'recorded  replayed':>21}" * len(COMPARED))
    for q, row in doc["queues"].items():
        cells = []
        for k in COMPARED:
            rec = row["recorded"][k] if row["recorded"] else None
            rep = row["replayed"][k]["mean"]
            cells.append(f"{_cell(k, rec):>10}{_cell(k, rep):>11}")
        lines.append(f"{q:<16}{''.join(cells)}")
    lines.append("patience (Kaplan-Meier over answered, removed and abandoned waits):")
    for q, p in doc["patience"].items():
        if not p["abandoned"]:
            lines.append(f"  {q:<14} nobody of {p['contacts']} abandoned")
            continue
        surv = ", ".join(f"S({t})={_cell('sl_offered', v)}" for t, v in p["survival"].items())
        naive = p["abandoners_mean_wait_seconds"]
        lines.append(
            f"  {q:<14} median {_cell('asa', p['median_seconds'])} s, mean "
            f"{_cell('asa', p['mean_seconds'])} s, {surv}; {p['abandoned']} of {p['contacts']} "
            f"abandoned (their mean wait {_cell('asa', naive)} s)"
        )
    return "\n".join(lines)


def _cell(kpi: str, v: float | None) -> str:
    if v is None:
        return "n/a"
    if kpi == "sl_offered":
        return f"{100 * v:.1f}%"
    if kpi == "asa":
        return f"{v:.1f}"
    return f"{v:,.0f}"
