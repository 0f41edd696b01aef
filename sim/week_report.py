"""What ``run`` and ``staff`` report for a week (``sim.week``): each day as a day's report,
and beside the days the week.

A run writes each day's files (``write_run``) into a directory named for the day (``Mon``,
``2026-12-07``), and in the output directory:

* ``summary.json``: every day's summary (``run_json``) and the week's totals per queue, tier
  and agent group (pooled over the days);
* ``days.csv``: per day (and ``week``) and queue (and ``all queues``), every KPI's mean and
  confidence bounds.

A staffing plan writes each day's plan (``write_plan``) into the day's directory, and
``staffing.csv`` (the plan's rows with a ``day`` column), ``agent_hours.csv`` (required and
scheduled agent-hours per day and group, and the week) and ``staffing.json``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.report import (
    active_queues,
    plan_json,
    plan_text,
    run_json,
    run_warnings,
    width_warnings,
    write_plan,
    write_run,
)
from sim.staffing import StaffingPlan
from sim.statistics import KPIS, Estimate, Summary
from sim.week import AgentHours, Week, WeekRun

WEEK = "week"
"""The label of the week's totals beside the days'."""
ALL = "all queues"


def _num(x: float) -> float | None:
    v = float(x)
    return None if math.isnan(v) or math.isinf(v) else round(v, 6)


def _estimate(e: Estimate, *index: int) -> dict[str, float | None]:
    return {"mean": _num(e.mean[index]), "low": _num(e.low[index]), "high": _num(e.high[index])}


def _totals(summary: Summary, goals: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Totals of a day or the week: the whole center, per queue with traffic (its goal from
    ``goals``), per tier, per agent group."""
    return {
        "contacts_simulated": summary.contacts,
        "total": {k: _estimate(summary.total[k]) for k in KPIS},
        "queues": {
            summary.queues[j]: {
                **goals[summary.queues[j]],
                "total": {k: _estimate(summary.by_queue[k], j) for k in KPIS},
            }
            for j in range(len(summary.queues))
            if summary.by_queue["offered"].mean[j] > 0
        },
        "tiers": {
            tier: {k: _estimate(summary.by_tier[k], i) for k in KPIS}
            for i, tier in enumerate(summary.tiers)
            if summary.by_tier["offered"].mean[i] > 0
        },
        "groups": {
            g: {"occupancy": _estimate(summary.occupancy_by_group, i)}
            for i, g in enumerate(summary.groups)
        },
    }


def week_warnings(run: WeekRun) -> list[str]:
    """Each day's run warnings under its day, then service levels too wide over the week."""
    lines = [
        f"{day.label}: {line}"
        for day, summary in zip(run.week.days, run.days, strict=True)
        for line in run_warnings(day.model, summary)
    ]
    return lines + [f"{WEEK}: {line}" for line in width_warnings(run.total)]


def week_json(run: WeekRun) -> dict[str, Any]:
    days = [
        {"day": d.label, **run_json(d.model, s)}
        for d, s in zip(run.week.days, run.days, strict=True)
    ]
    goals = {
        q: {"threshold_seconds": v["threshold_seconds"], "goal": v["goal"]}
        for doc in days
        for q, v in doc["queues"].items()
    }
    first = run.week.days[0].model
    return {
        "scenario": first.source,
        "seed": first.seed,
        "replications": run.total.replications,
        "confidence": run.total.confidence,
        "days": days,
        WEEK: {"days": list(run.week.labels), **_totals(run.total, goals)},
        "warnings": week_warnings(run),
    }


def write_week_run(run: WeekRun, outdir: Path, *, charts: bool = True) -> list[Path]:
    """Each day's run files in a directory of its own; ``summary.json`` and ``days.csv``."""
    written: list[Path] = []
    for day, summary in zip(run.week.days, run.days, strict=True):
        written += write_run(day.model, summary, outdir / day.label, charts=charts)
    path = outdir / "days.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["day", "queue"] + [f"{k}{s}" for k in KPIS for s in ("", "_low", "_high")])
        labelled = [*zip(run.week.labels, run.days, strict=True), (WEEK, run.total)]
        for label, summary in labelled:
            first = run.week.days[0].model
            for j in active_queues(first, summary):
                w.writerow([label, summary.queues[j], *_cells(summary.by_queue, j)])
            w.writerow([label, ALL, *_cells(summary.total)])
    written.append(path)
    path = outdir / "summary.json"
    doc = week_json(run)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    written.append(path)
    return written


def _cells(kpi: dict[str, Estimate], *index: int) -> list[str]:
    out: list[str] = []
    for k in KPIS:
        e = kpi[k]
        out.extend(_cell(v) for v in (e.mean[index], e.low[index], e.high[index]))
    return out


def _cell(v: float) -> str:
    return "" if math.isnan(float(v)) else f"{float(v):.6g}"


def _pct(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{100 * v:.{digits}f}"


def week_text(doc: dict[str, Any]) -> str:
    """Per queue, each day's and the week's offered contacts, service level (with its
    confidence half width), abandon rate and ASA; occupancy per agent group."""
    columns = [(d["day"], d) for d in doc["days"]] + [(WEEK, doc[WEEK])]
    queues = list(doc[WEEK]["queues"])
    width = 12
    head = "".join(f"{label:>{width}}" for label, _ in columns)
    lines = [
        f"{doc['scenario']}: {len(doc['days'])} days, {doc['replications']} replications, "
        f"{doc['confidence']:.0%} CI; each day run on its own, the week pooled over its contacts"
    ]

    def table(title: str, kpi: str, render: Any, goal: bool = False) -> None:
        lines.append(title)
        lines.append(f"{'queue':<16}{'goal' if goal else '':>6}{head}")
        for q in [*queues, ALL]:
            cells = []
            for _, c in columns:
                cell = c["total"] if q == ALL else c["queues"].get(q, {}).get("total")
                cells.append(render(cell[kpi]) if cell is not None else "-")
            target = f"{doc[WEEK]['queues'][q]['goal']:.0%}" if goal and q != ALL else ""
            lines.append(f"{q:<16}{target:>6}" + "".join(f"{c:>{width}}" for c in cells))

    def level(e: dict[str, Any]) -> str:
        if e["mean"] is None:
            return "n/a"
        half = (e["high"] - e["low"]) / 2 if e["high"] is not None else None
        return f"{_pct(e['mean'])} ±{_pct(half)}"

    table("offered contacts", "offered", lambda e: f"{e['mean']:,.0f}")
    table("service level % (answered within threshold / offered), ± CI", "sl_offered", level, True)
    table("abandon rate %", "abandon_rate", lambda e: _pct(e["mean"]))
    table("ASA s", "asa", lambda e: "n/a" if e["mean"] is None else f"{e['mean']:.1f}")
    lines.append("occupancy % per agent group")
    lines.append(f"{'group':<22}{head}")
    for g in doc[WEEK]["groups"]:
        cells = [_pct((c["groups"][g].get("occupancy") or {}).get("mean")) for _, c in columns]
        lines.append(f"{g:<22}" + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


# == staffing =================================================================================


def _hours(hours: AgentHours) -> dict[str, Any]:
    def per(values: np.ndarray) -> dict[str, float]:
        return {g: round(float(v), 2) for g, v in zip(hours.groups, values, strict=True)}

    rows = {
        d: {"required": per(hours.required[i]), "scheduled": per(hours.scheduled[i])}
        for i, d in enumerate(hours.days)
    }
    rows[WEEK] = {
        "required": per(hours.required.sum(axis=0)),
        "scheduled": per(hours.scheduled.sum(axis=0)),
    }
    return rows


def week_plan_json(week: Week, plans: Sequence[StaffingPlan], hours: AgentHours) -> dict[str, Any]:
    return {
        "scenario": week.days[0].model.source,
        "days": [
            {"day": d.label, **plan_json(d.model, p)} for d, p in zip(week.days, plans, strict=True)
        ],
        "agent_hours": _hours(hours),
    }


def write_week_plan(
    week: Week,
    plans: Sequence[StaffingPlan],
    hours: AgentHours,
    outdir: Path,
    *,
    charts: bool = True,
) -> list[Path]:
    """Each day's plan files in a directory of its own; ``staffing.csv`` with a day column,
    ``agent_hours.csv`` and ``staffing.json``."""
    written: list[Path] = []
    for day, plan in zip(week.days, plans, strict=True):
        written += write_plan(day.model, plan, outdir / day.label, charts=charts)
    path = outdir / "staffing.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["day", "interval_start", "group", "erlang", "required", "scheduled", "meets_targets"]
        )
        for day, plan in zip(week.days, plans, strict=True):
            for p in plan.intervals:
                for i, g in enumerate(plan.groups):
                    w.writerow(
                        [
                            day.label,
                            p.label,
                            g,
                            p.erlang[i],
                            p.required[i],
                            p.scheduled[i],
                            p.assessment.meets,
                        ]
                    )
    written.append(path)
    path = outdir / "agent_hours.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["day", "group", "required_hours", "scheduled_hours"])
        for label, row in _hours(hours).items():
            for g in hours.groups:
                w.writerow([label, g, row["required"][g], row["scheduled"][g]])
    written.append(path)
    path = outdir / "staffing.json"
    doc = week_plan_json(week, plans, hours)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    written.append(path)
    return written


def week_plan_text(week: Week, plans: Sequence[StaffingPlan], hours: AgentHours) -> str:
    """Each day's plan (``plan_text``) under its day, then agent-hours per day and group."""
    lines = []
    for day, plan in zip(week.days, plans, strict=True):
        lines.append(f"== {day.label} ==")
        lines.append(plan_text(day.model, plan))
    lines.append("agent-hours per day: required (scheduled)")
    width = 19
    names = [*(g[: width - 2] for g in hours.groups), "total"]
    lines.append(f"{'day':<12}" + "".join(f"{n:>{width}}" for n in names))
    for label, row in _hours(hours).items():
        req, sch = row["required"], row["scheduled"]
        cells = [f"{req[g]:,.1f} ({sch[g]:,.1f})" for g in hours.groups]
        cells.append(f"{sum(req.values()):,.1f} ({sum(sch.values()):,.1f})")
        lines.append(f"{label:<12}" + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)
