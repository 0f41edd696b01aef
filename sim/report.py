"""Reports of planner runs: CSV and JSON files, PNG charts, a terminal summary, progress.

Files written by ``write_run`` into the output directory:

* ``intervals.csv``: per interval and queue, every KPI's mean and confidence bounds;
* ``occupancy.csv``: per interval and agent group;
* ``summary.json``: the same plus per-queue and whole-center totals;
* ``service_level.png`` (SL vs goal per interval with CI bands), ``occupancy.png``.

``write_plan`` writes ``staffing.csv`` (Erlang seed, required and scheduled agents per
interval and group), ``staffing.json`` and ``staffing.png`` (required vs scheduled).
"""

from __future__ import annotations

import csv
import json
import math
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.erlang import ErlangResult
from sim.scenario import Model
from sim.staffing import (
    Assessment,
    Overload,
    StaffingPlan,
    handle_seconds,
    overloads,
    owners,
)
from sim.statistics import KPIS, Estimate, Summary


def _num(x: float) -> float | None:
    """JSON has no NaN: undefined values become null."""
    v = float(x)
    return None if math.isnan(v) or math.isinf(v) else round(v, 6)


def _est(e: Estimate, *index: int) -> dict[str, float | None]:
    return {
        "mean": _num(e.mean[index]),
        "low": _num(e.low[index]),
        "high": _num(e.high[index]),
    }


def _goal(model: Model, queue: str) -> tuple[float, float]:
    q = model.center.queues[queue]
    t = model.targets
    threshold = t.threshold_seconds or q.answer_target.threshold_seconds or 0.0
    goal = t.service_level_percent or q.answer_target.goal_percent or 0.0
    return threshold, goal / 100.0


def active_queues(model: Model, summary: Summary) -> list[int]:
    """Queue indices with any traffic (queues nobody called are left out of reports)."""
    offered = summary.by_queue["offered"].mean
    return [j for j in range(len(summary.queues)) if offered[j] > 0]


# == warnings =================================================================================


def load_warnings(model: Model) -> list[str]:
    """One line per agent group whose offered load (AHT + wrap-up) reaches the agents it has
    logged in, in some interval: its queues then grow all interval long, whatever else the
    scenario says (the usual cause: a wrap-up nobody meant, on top of the forecast AHT)."""
    by_group: dict[str, list[Overload]] = {}
    for o in overloads(model):
        by_group.setdefault(o.group, []).append(o)
    lines = []
    for group, found in by_group.items():
        o = max(found, key=lambda x: x.erlangs - x.agents)
        more = f" (and {len(found) - 1} more intervals)" if len(found) > 1 else ""
        handle = "; ".join(_handle_text(model, q) for q in _group_queues(model, group))
        lines.append(
            f"warning: {group}: offered load {o.erlangs:.1f} Erlangs exceeds the {o.agents} "
            f"agents staffed at {o.label}{more}: its queues grow all interval long; "
            f"handle time = AHT + wrap-up: {handle}"
        )
    return lines


def _group_queues(model: Model, group: str) -> list[str]:
    """Queues with traffic that ``group`` answers for."""
    fc = model.forecast
    g = [x.name for x in model.groups].index(group)
    own = owners(model)
    return [q for j, q in enumerate(fc.queues) if own.get(q) == g and fc.contacts[:, j].sum() > 0]


def _handle_text(model: Model, queue: str) -> str:
    aht, wrap = handle_seconds(model, queue)
    return f"{queue}: AHT {aht:.0f} s + wrap-up {wrap:.0f} s = {aht + wrap:.0f} s"


# == run reports ==============================================================================


def run_json(model: Model, summary: Summary) -> dict[str, Any]:
    fc = model.forecast
    labels = [fc.label(k) for k in range(fc.intervals)]
    queues: dict[str, Any] = {}
    for j in active_queues(model, summary):
        q = summary.queues[j]
        threshold, goal = _goal(model, q)
        aht, wrap = handle_seconds(model, q)
        queues[q] = {
            "threshold_seconds": threshold,
            "goal": goal,
            "handle_seconds": {"aht": _num(aht), "wrap_up": _num(wrap), "total": _num(aht + wrap)},
            "total": {k: _est(summary.by_queue[k], j) for k in KPIS},
            "intervals": [
                {
                    "interval_start": labels[k],
                    **{m: _est(summary.by_interval[m], k, j) for m in KPIS},
                }
                for k in range(fc.intervals)
            ],
        }
    groups = {
        g: {
            "occupancy": _est(summary.occupancy_by_group, i),
            "intervals": [
                {"interval_start": labels[k], "occupancy": _est(summary.occupancy, k, i)}
                for k in range(fc.intervals)
            ],
        }
        for i, g in enumerate(summary.groups)
    }
    return {
        "scenario": model.source,
        "seed": model.seed,
        "replications": summary.replications,
        "confidence": summary.confidence,
        "interval_minutes": fc.interval_seconds / 60.0,
        "contacts_simulated": summary.contacts,
        "total": {k: _est(summary.total[k]) for k in KPIS},
        "queues": queues,
        "tiers": {
            tier: {k: _est(summary.by_tier[k], i) for k in KPIS}
            for i, tier in enumerate(summary.tiers)
            if summary.by_tier["offered"].mean[i] > 0
        },
        "groups": groups,
        "warnings": run_warnings(model, summary),
    }


def write_run(model: Model, summary: Summary, outdir: Path, *, charts: bool = True) -> list[Path]:
    """Write the run's CSV, JSON and PNG files; returns their paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    fc = model.forecast
    written = []
    path = outdir / "intervals.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["interval_start", "queue"] + [f"{k}{s}" for k in KPIS for s in ("", "_low", "_high")]
        )
        for k in range(fc.intervals):
            for j in active_queues(model, summary):
                row: list[Any] = [fc.label(k), summary.queues[j]]
                for m in KPIS:
                    e = summary.by_interval[m]
                    row.extend(_cell(v) for v in (e.mean[k, j], e.low[k, j], e.high[k, j]))
                w.writerow(row)
    written.append(path)
    path = outdir / "occupancy.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["interval_start", "group", "occupancy", "occupancy_low", "occupancy_high"])
        occ = summary.occupancy
        for k in range(fc.intervals):
            for i, g in enumerate(summary.groups):
                w.writerow(
                    [
                        fc.label(k),
                        g,
                        *(_cell(v) for v in (occ.mean[k, i], occ.low[k, i], occ.high[k, i])),
                    ]
                )
    written.append(path)
    path = outdir / "summary.json"
    path.write_text(json.dumps(run_json(model, summary), indent=2) + "\n", encoding="utf-8")
    written.append(path)
    if charts:
        written.extend(_run_charts(model, summary, outdir))
    return written


def _cell(v: float) -> str:
    return "" if math.isnan(float(v)) else f"{float(v):.6g}"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


OCCUPANCY_NOTE = (
    "Occupancy: the share of logged-in, available time agents hold a contact (ringing, "
    "talking, wrap-up). 95 % occupancy next to 99 % service level is no contradiction: a "
    "large group frees an agent every few seconds, a chat agent holding one of three chats "
    "counts as busy yet takes more, and e-mail's target is a day. It does mean no slack: "
    "breaks, coaching and a busier hour have to come out of it."
)


def _queue_title(model: Model, queue: str) -> str:
    """A queue's name for people, with its id (charts are read beside the CSV)."""
    name = model.center.queues[queue].name
    return f"{name} ({queue})" if name and name != queue else queue


def service_level_figure(model: Model, summary: Summary) -> Any:
    """Service level per interval and queue, with its confidence band and the goal; one
    legend below the panels, off the data."""
    plt = _pyplot()
    fc = model.forecast
    x = np.arange(fc.intervals)
    ticks = x[:: max(1, fc.intervals // 12)]
    labels = [fc.label(int(k)) for k in ticks]
    active = active_queues(model, summary)
    cols = 3
    rows = max(1, math.ceil(len(active) / cols))
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(5 * cols, 3 * rows + 0.8),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    sl = summary.by_interval["sl_offered"]
    for n, j in enumerate(active):
        ax = axes[n // cols][n % cols]
        q = summary.queues[j]
        threshold, goal = _goal(model, q)
        ax.fill_between(x, sl.low[:, j], sl.high[:, j], alpha=0.3, label="confidence interval")
        ax.plot(x, sl.mean[:, j], label="service level")
        ax.axhline(goal, color="red", linestyle="--", label="goal")
        ax.set_title(f"{_queue_title(model, q)}: answered within {threshold:g} s", fontsize=9)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(ticks, labels, rotation=45, fontsize=7)
    for n in range(len(active), rows * cols):
        axes[n // cols][n % cols].axis("off")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=3, fontsize=8)
    fig.suptitle(f"Service level per interval ({summary.confidence:.0%} CI)")
    return fig


def occupancy_figure(model: Model, summary: Summary) -> Any:
    """Occupancy per interval and agent group; the legend right of the plot, and what a high
    occupancy beside a high service level means written under it."""
    plt = _pyplot()
    fc = model.forecast
    x = np.arange(fc.intervals)
    ticks = x[:: max(1, fc.intervals // 12)]
    labels = [fc.label(int(k)) for k in ticks]
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    occ = summary.occupancy
    for i, g in enumerate(summary.groups):
        ax.plot(x, occ.mean[:, i], label=g)
        ax.fill_between(x, occ.low[:, i], occ.high[:, i], alpha=0.2)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("occupancy")
    ax.set_xticks(ticks, labels, rotation=45, fontsize=7)
    fig.legend(loc="outside right upper", fontsize=8, title="agent group")
    ax.set_title("Occupancy per agent group")
    fig.text(0.01, 0.005, "\n".join(textwrap.wrap(OCCUPANCY_NOTE, 120)), fontsize=7, va="bottom")
    fig.get_layout_engine().set(h_pad=0.5)
    return fig


def _run_charts(model: Model, summary: Summary, outdir: Path) -> list[Path]:
    plt = _pyplot()
    out = []
    for name, fig in (
        ("service_level.png", service_level_figure(model, summary)),
        ("occupancy.png", occupancy_figure(model, summary)),
    ):
        path = outdir / name
        fig.savefig(path, dpi=90)
        plt.close(fig)
        out.append(path)
    return out


def run_text(model: Model, summary: Summary) -> str:
    """A short terminal summary: whole-day KPIs per queue and per customer tier with CI,
    calls per queue (retrials, busy signals, customers by calls made) where there were
    retrials or busy signals, occupancy per group, each queue's handle time."""
    pct = f"{summary.confidence:.0%}"
    lines = [
        f"{model.source}: {summary.replications} replications, "
        f"{summary.contacts / summary.replications:,.0f} contacts each, {pct} CI",
        _kpi_head("queue"),
    ]
    for j in active_queues(model, summary):
        q = summary.queues[j]
        _, goal = _goal(model, q)
        lines.append(_kpi_row(q, summary.by_queue, (j,), f"{goal:.0%}"))
    lines.append(_kpi_row("all queues", summary.total, (), ""))
    if summary.by_tier:
        lines.append(_kpi_head("tier"))
        offered = summary.by_tier["offered"].mean
        for i, tier in enumerate(summary.tiers):
            if offered[i] > 0:
                lines.append(_kpi_row(tier, summary.by_tier, (i,), ""))
    lines.extend(_calls_rows(model, summary))
    lines.append(_fcr_line(model, summary))
    occ = ", ".join(
        f"{g} {_pct(summary.occupancy_by_group.mean[i])}" for i, g in enumerate(summary.groups)
    )
    lines.append(f"occupancy: {occ}")
    handles = [_handle_text(model, summary.queues[j]) for j in active_queues(model, summary)]
    lines.append("handle time = AHT + wrap-up: " + "; ".join(handles))
    return "\n".join(lines)


def _calls_rows(model: Model, summary: Summary) -> list[str]:
    """Per queue with retrials or busy signals: calls placed (fresh, retrials), blocked at the
    trunk lines, and the shares of customers by the calls they made; nothing otherwise."""
    kpi = summary.by_queue
    shown = [
        j
        for j in active_queues(model, summary)
        if kpi["retrials"].mean[j] > 0 or kpi["blocked"].mean[j] > 0
    ]
    if not shown:
        return []
    lines = [
        f"{'calls per queue':<16}{'fresh':>9}{'retrials':>10}{'blocked':>9}{'blocking':>10}"
        f"{'1 call':>8}{'2 calls':>9}{'3+ calls':>10}"
    ]
    for j in shown:
        lines.append(
            f"{summary.queues[j]:<16}{kpi['fresh'].mean[j]:>9,.1f}"
            f"{kpi['retrials'].mean[j]:>10,.1f}{kpi['blocked'].mean[j]:>9,.1f}"
            f"{_pct(kpi['blocking_rate'].mean[j]):>10}{_pct(kpi['attempts_1'].mean[j]):>8}"
            f"{_pct(kpi['attempts_2'].mean[j]):>9}{_pct(kpi['attempts_3plus'].mean[j]):>10}"
        )
    return lines


def _fcr_line(model: Model, summary: Summary) -> str:
    """First-contact resolution per queue (``contactcenter.kpi.first_contacts``) with its
    confidence interval."""
    fcr = summary.by_queue["fcr"]
    window = model.center.settings.fcr.window_days
    parts = [
        f"{summary.queues[j]} {_pct(fcr.mean[j])} ±{_pct(fcr.half_width[j], 1)}"
        for j in active_queues(model, summary)
    ]
    return f"first-contact resolution (repeat within {window:g} days): " + ", ".join(parts)


def _kpi_head(what: str) -> str:
    return (
        f"{what:<16}{'offered':>9}{'SL':>17}{'SL excl':>9}{'goal':>6}{'P(wait)':>9}"
        f"{'ASA s':>8}{'abandon':>9}{'callbacks':>10}"
    )


def _kpi_row(label: str, kpi: dict[str, Estimate], at: tuple[int, ...], goal: str) -> str:
    sl = kpi["sl_offered"]
    return (
        f"{label:<16}{kpi['offered'].mean[at]:>9,.0f}"
        f"{_pct(sl.mean[at]):>8} ±{_pct(sl.half_width[at], 1):>7}"
        f"{_pct(kpi['sl_excl_short'].mean[at]):>9}{goal:>6}{_pct(kpi['prob_wait'].mean[at]):>9}"
        f"{kpi['asa'].mean[at]:>8.1f}{_pct(kpi['abandon_rate'].mean[at]):>9}"
        f"{kpi['callbacks'].mean[at]:>10,.1f}"
    )


WIDE = 0.05
"""A service-level confidence interval wider than this either side is too wide to act on."""
AIM = 0.025
"""The half width the width warning suggests replications for."""


def run_warnings(model: Model, summary: Summary) -> list[str]:
    """What a planner must know before acting on a run's figures: overloaded groups, and
    service levels whose confidence interval is too wide to act on."""
    return load_warnings(model) + width_warnings(summary)


def width_warnings(summary: Summary) -> list[str]:
    """One line per queue whose whole-run service-level interval is wider than ``WIDE``
    either side, with the replications that would bring it to ``AIM`` (the half width falls
    with the square root of the replications)."""
    n = summary.replications
    sl = summary.by_queue["sl_offered"]
    offered = summary.by_queue["offered"].mean
    lines = []
    for j, q in enumerate(summary.queues):
        half = float(sl.half_width[j])
        if not offered[j] > 0 or not half > WIDE:
            continue
        needed = math.ceil(n * (half / AIM) ** 2)
        lines.append(
            f"warning: {q}: service level ±{100 * half:.1f} points ({summary.confidence:.0%} "
            f"CI over {n} replications) is too wide to act on: about {needed} replications "
            f"for ±{100 * AIM:g} points"
        )
    return lines


def _pct(v: float | np.ndarray, digits: int = 1) -> str:
    return "n/a" if math.isnan(float(v)) else f"{100 * float(v):.{digits}f}%"


# == staffing plans ===========================================================================


def decision_text(model: Model) -> str:
    """What a simulated staffing plan's answer is worth (see ``sim.staffing``)."""
    t, search = model.targets, model.search
    confidence = f"{100 * model.confidence:g} %"
    if t.decision == "sequential":
        h = search.tolerance_percent
        return (
            f"each staffing judged by replications ({search.replications} doubling up to "
            f"{search.max_replications}) until every queue's verdict is clear at {confidence} "
            f"confidence, tolerance {h:g} point{'' if h == 1 else 's'}: the exact minimum with "
            f"probability {confidence}, fewer agents than needed (by more than the tolerance) "
            f"with at most {50 * (1 - model.confidence):g} % per interval"
        )
    if t.decision == "ci":
        return (
            f"each staffing judged by the lower bound of a {confidence} interval over "
            f"{search.replications} replications (over-staffs; no stated error rate)"
        )
    return (
        f"each staffing judged by the mean of {search.replications} replications (no stated "
        f"error rate: may under-staff about half the time when the minimum meets by a hair)"
    )


def _verdict(a: Assessment) -> str:
    verdict = "meets" if a.meets else "misses"
    levels = ", ".join(
        f"{q} {100 * v:.1f}% ±{100 * a.half_width.get(q, 0.0):.1f}"
        for q, v in sorted(a.service_level.items())
    )
    return f"{verdict} (SL {levels} after {a.replications} replications)"


def plan_json(model: Model, plan: StaffingPlan) -> dict[str, Any]:
    return {
        "scenario": model.source,
        "shrinkage": plan.shrinkage,
        "groups": list(plan.groups),
        "decision": {
            "rule": model.targets.decision,
            "confidence": model.confidence,
            "tolerance_points": model.search.tolerance_percent,
            "text": decision_text(model),
        },
        "intervals": [
            {
                "interval_start": p.label,
                "erlang": dict(zip(plan.groups, p.erlang, strict=True)),
                "required": dict(zip(plan.groups, p.required, strict=True)),
                "scheduled": dict(zip(plan.groups, p.scheduled, strict=True)),
                "meets_targets": p.assessment.meets,
                "service_level": {q: _num(v) for q, v in p.assessment.service_level.items()},
                "abandon_rate": {q: _num(v) for q, v in p.assessment.abandon_rate.items()},
                "replications": p.assessment.replications,
                "unresolved": sorted(p.assessment.unresolved),
                "one_fewer": {
                    g: {
                        "agents": n - 1,
                        "meets_targets": b.meets,
                        "service_level": {q: _num(v) for q, v in b.service_level.items()},
                        "replications": b.replications,
                    }
                    for g, n, b in zip(plan.groups, p.required, p.below, strict=False)
                    if b is not None
                },
                "evaluations": p.evaluations,
            }
            for p in plan.intervals
        ],
    }


def write_plan(
    model: Model, plan: StaffingPlan, outdir: Path, *, charts: bool = True
) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / "staffing.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["interval_start", "group", "erlang", "required", "scheduled", "meets_targets"])
        for p in plan.intervals:
            for i, g in enumerate(plan.groups):
                w.writerow(
                    [p.label, g, p.erlang[i], p.required[i], p.scheduled[i], p.assessment.meets]
                )
    out = [path]
    path = outdir / "staffing.json"
    path.write_text(json.dumps(plan_json(model, plan), indent=2) + "\n", encoding="utf-8")
    out.append(path)
    if charts and plan.intervals:
        plt = _pyplot()
        x = np.arange(len(plan.intervals))
        fig, ax = plt.subplots(figsize=(9, 4))
        required = np.array([sum(p.required) for p in plan.intervals])
        scheduled = np.array([sum(p.scheduled) for p in plan.intervals])
        erlang = np.array([sum(p.erlang) for p in plan.intervals])
        ax.step(x, scheduled, where="mid", label="scheduled (with shrinkage)")
        ax.step(x, required, where="mid", label="required (simulation)")
        ax.plot(x, erlang, "k:", label="Erlang estimate")
        step = max(1, len(x) // 12)
        ax.set_xticks(x[::step], [p.label for p in plan.intervals][::step], rotation=45)
        ax.set_ylabel("agents")
        ax.legend()
        ax.set_title("Required vs scheduled agents per interval")
        fig.tight_layout()
        path = outdir / "staffing.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        out.append(path)
    return out


def plan_text(model: Model, plan: StaffingPlan) -> str:
    """The required (scheduled) agents per interval and group, what the answer is worth, and
    per interval the evidence that one agent fewer in a group misses."""
    head = f"{'interval':<9}" + "".join(f"{g[:12]:>13}" for g in plan.groups) + f"{'total':>8}"
    lines = [f"required (scheduled at {plan.shrinkage:.0%} shrinkage) agents per group", head]
    for p in plan.intervals:
        cells = "".join(f"{f'{r} ({s})':>13}" for r, s in zip(p.required, p.scheduled, strict=True))
        flag = "" if p.assessment.meets else "  targets not met"
        lines.append(f"{p.label:<9}{cells}{sum(p.scheduled):>8}{flag}")
    if not any(p.assessment.replications for p in plan.intervals):
        return "\n".join(lines)  # (Erlang only)
    lines.append(decision_text(model))
    lines.append("one agent fewer:")
    for p in plan.intervals:
        for g, n, below in zip(plan.groups, p.required, p.below, strict=False):
            if below is not None:
                lines.append(f"{p.label} {g} {n - 1}: {_verdict(below)}")
    for p in plan.intervals:
        if p.assessment.unresolved:
            lines.append(
                f"warning: {p.label}: {', '.join(sorted(p.assessment.unresolved))} still unclear "
                f"after {p.assessment.replications} replications (decided by the estimate: "
                f"raise search.max_replications or tolerance_percent)"
            )
    return "\n".join(lines)


# == Erlang ===================================================================================


TABLE_SPAN = 3
"""The Erlang table shows this many staffings below and above the answer."""


def erlang_table(
    agents: int, at: Callable[[int], ErlangResult], *, traffic: float, patient: bool
) -> list[ErlangResult]:
    """The measures of ``agents - TABLE_SPAN`` to ``agents + TABLE_SPAN`` agents (from 1, and
    for Erlang C only where the queue is stable: more agents than Erlangs)."""
    low = 1 if patient else math.floor(traffic) + 1
    return [at(n) for n in range(max(low, agents - TABLE_SPAN), agents + TABLE_SPAN + 1)]


def _measures(r: ErlangResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "agents": r.agents,
        "service_level": _num(r.service_level),
        "prob_wait": _num(r.prob_wait),
        "asa_seconds": _num(r.asa_seconds),
        "occupancy": _num(r.occupancy),
    }
    if r.prob_abandon is not None:
        out["prob_abandon"] = _num(r.prob_abandon)
    return out


def erlang_json(
    result: ErlangResult,
    table: Sequence[ErlangResult] = (),
    fewest: int | None = None,
    target: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The answer's measures (``traffic_erlangs``, ``agents``...), the target, the fewest
    agents that meet it, and the table around the answer (``meets_target`` per row)."""
    out = {"traffic_erlangs": _num(result.traffic_erlangs), **_measures(result)}
    if target is not None:
        out["target"] = {"seconds": target[0], "percent": target[1]}
        out["fewest_agents"] = fewest
    out["table"] = [
        {**_measures(r), "meets_target": fewest is not None and r.agents >= fewest} for r in table
    ]
    return out


def erlang_text(
    result: ErlangResult,
    table: Sequence[ErlangResult] = (),
    fewest: int | None = None,
    target: tuple[float, float] | None = None,
) -> str:
    lines = [
        f"traffic        {result.traffic_erlangs:.3f} Erlangs",
        f"agents         {result.agents}",
        f"service level  {_pct(result.service_level, 2)}",
        f"P(wait)        {_pct(result.prob_wait, 2)}",
        f"ASA            {result.asa_seconds:.2f} s",
        f"occupancy      {_pct(result.occupancy, 2)}",
    ]
    if result.prob_abandon is not None:
        lines.append(f"P(abandon)     {_pct(result.prob_abandon, 2)}")
    if table:
        abandon = result.prob_abandon is not None
        lines.append("")
        lines.append(
            f"{'agents':>6}{'SL':>8}{'P(wait)':>9}{'ASA s':>8}{'occupancy':>11}"
            + (f"{'P(abandon)':>12}" if abandon else "")
        )
        for r in table:
            row = (
                f"{r.agents:>6}{_pct(r.service_level):>8}{_pct(r.prob_wait):>9}"
                f"{r.asa_seconds:>8.1f}{_pct(r.occupancy):>11}"
            )
            if r.prob_abandon is not None:
                row += f"{_pct(r.prob_abandon):>12}"
            if r.agents == fewest and target is not None:
                row += f"  <- fewest that meet {target[1]:g} % in {target[0]:g} s"
            lines.append(row)
    return "\n".join(lines)
