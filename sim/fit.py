"""An empirical scenario fitted to a recorded day, so what-if runs start from what really happened.

``write_fitted`` writes a directory that ``contactcenter-sim run`` and ``staff`` read:

* ``scenario.yaml``: the replay scenario's settings (center, agent groups, wrap-up, ring delay,
  targets, search...) with what the day showed in place of assumptions;
* ``forecast.csv``: the recorded arrivals per interval and queue (retrials included: they were
  arrivals, so the fitted scenario makes none of its own), AHT the mean recorded talk time;
* ``handle-<queue>.csv``: each queue's recorded talk times (``handle_time: empirical``: their
  shape, scaled to the interval's AHT);
* ``patience-<queue>.csv``: each queue's Kaplan-Meier patience curve (``sim.patience``) with its
  exponential tail (``patience: empirical``); a queue where nobody abandoned gets ``none``;
* each queue's recorded tier shares;
* ``staffing.csv`` or ``roster.csv``: the staffing the replay ran with (net agents; a recorded
  roster to the minute).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.patience import write_curve
from sim.replay import Replay
from sim.scenario import Model, clock, read_spec


def write_fitted(replay: Replay, scenario: Path, outdir: Path) -> list[Path]:
    """Write the fitted scenario of ``replay`` (set up from ``scenario``) into ``outdir``;
    returns the files written, ``scenario.yaml`` first."""
    spec = read_spec(scenario)
    model = replay.model
    fc = model.forecast
    day = replay.day
    outdir.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = spec.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    center = (scenario.parent / spec.center).resolve()
    doc["center"] = os.path.relpath(center, outdir.resolve())
    doc["forecast"] = "forecast.csv"
    doc["interval_minutes"] = int(fc.interval_seconds // 60)
    doc["retrials"] = {"probability": 0.0}
    for key in ("staffing", "roster", "staffing_counts"):
        doc.pop(key, None)
    files = [outdir / "scenario.yaml", _forecast(model, outdir / "forecast.csv")]
    queues: dict[str, dict[str, Any]] = doc.setdefault("queues", {})
    recorded = sorted({c.queue for c in day.recording.contacts})
    for q in recorded:
        over = queues.setdefault(q, {})
        over.pop("retrials", None)
        talks = day.recording.talk_times(q)
        talks = talks[talks > 0]
        if talks.size:
            path = outdir / f"handle-{q}.csv"
            _column(path, "seconds", talks)
            over["handle_time"] = {"distribution": "empirical", "file": path.name}
            files.append(path)
        curve = day.patience[q]
        if curve.abandons:
            path = outdir / f"patience-{q}.csv"
            write_curve(curve, path)
            over["patience"] = {"distribution": "empirical", "file": path.name}
            if curve.tail_mean is not None:
                over["patience"]["tail_mean_seconds"] = curve.tail_mean
            files.append(path)
        else:
            over["patience"] = {"distribution": "none"}
        default = model.center.settings.default_tier
        tiers = [c.tier or default for c in day.recording.contacts if c.queue == q]
        names, counts = np.unique(tiers, return_counts=True)
        shares = counts / counts.sum()
        shares[-1] = 1.0 - shares[:-1].sum()  # (exactly 1 in all)
        over["tiers"] = {str(t): float(s) for t, s in zip(names, shares, strict=True)}
    if model.staffing is not None:
        files.append(_staffing(model, outdir / "staffing.csv"))
        doc["staffing"] = "staffing.csv"
    elif model.roster is not None:
        files.append(_roster(model, outdir / "roster.csv"))
        doc["roster"] = "roster.csv"
    with files[0].open("w", encoding="utf-8") as fh:
        fh.write(f"# Fitted by contactcenter-sim replay from {day.recording.source}")
        fh.write(f" ({day.recording.day.isoformat()}).\n")
        yaml.safe_dump(doc, fh, sort_keys=False)
    return files


def _column(path: Path, header: str, values: np.ndarray) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([header])
        out.writerows([repr(float(v))] for v in values)


def _forecast(model: Model, path: Path) -> Path:
    """Every interval of the window for every queue that had contacts (zeros kept, so the
    window stays whole)."""
    fc = model.forecast
    active = [j for j in range(len(fc.queues)) if fc.contacts[:, j].sum() > 0]
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["interval_start", "queue", "contacts", "aht_seconds"])
        for k in range(fc.intervals):
            for j in active:
                out.writerow(
                    [fc.label(k), fc.queues[j], int(fc.contacts[k, j]), repr(float(fc.aht[k, j]))]
                )
    return path


def _staffing(model: Model, path: Path) -> Path:
    assert model.staffing is not None
    st = model.staffing
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["interval_start", *st.groups])
        for k in range(model.forecast.intervals):
            out.writerow([model.forecast.label(k), *(int(n) for n in st.counts[k])])
    return path


def _roster(model: Model, path: Path) -> Path:
    assert model.roster is not None
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["agent", "start", "end"])
        for s in model.roster:
            start, end = clock(s.start), clock(s.end)
            if end > start:  # (shorter than a minute: nothing left)
                out.writerow([s.agent, start, end])
    return path
