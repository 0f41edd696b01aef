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
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from sim.erlang import ErlangResult
from sim.scenario import Model
from sim.staffing import Overload, StaffingPlan, handle_seconds, overloads, owners
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


def _run_charts(model: Model, summary: Summary, outdir: Path) -> list[Path]:
    plt = _pyplot()
    fc = model.forecast
    x = np.arange(fc.intervals)
    ticks = x[:: max(1, fc.intervals // 12)]
    labels = [fc.label(int(k)) for k in ticks]
    active = active_queues(model, summary)
    cols = 3
    rows = max(1, math.ceil(len(active) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3 * rows), squeeze=False, sharex=True)
    sl = summary.by_interval["sl_offered"]
    for n, j in enumerate(active):
        ax = axes[n // cols][n % cols]
        q = summary.queues[j]
        threshold, goal = _goal(model, q)
        ax.fill_between(x, sl.low[:, j], sl.high[:, j], alpha=0.3, label="CI")
        ax.plot(x, sl.mean[:, j], label="SL")
        ax.axhline(goal, color="red", linestyle="--", label="goal")
        ax.set_title(f"{q}: answered within {threshold:g} s")
        ax.set_ylim(0, 1.05)
        ax.set_xticks(ticks, labels, rotation=45, fontsize=7)
    for n in range(len(active), rows * cols):
        axes[n // cols][n % cols].axis("off")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"Service level per interval ({summary.confidence:.0%} CI)")
    fig.tight_layout()
    sl_path = outdir / "service_level.png"
    fig.savefig(sl_path, dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    occ = summary.occupancy
    for i, g in enumerate(summary.groups):
        ax.plot(x, occ.mean[:, i], label=g)
        ax.fill_between(x, occ.low[:, i], occ.high[:, i], alpha=0.2)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("occupancy")
    ax.set_xticks(ticks, labels, rotation=45, fontsize=7)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Occupancy per agent group")
    fig.tight_layout()
    occ_path = outdir / "occupancy.png"
    fig.savefig(occ_path, dpi=90)
    plt.close(fig)
    return [sl_path, occ_path]


def run_text(model: Model, summary: Summary) -> str:
    """A short terminal summary: whole-day KPIs per queue with CI, occupancy per group."""
    pct = f"{summary.confidence:.0%}"
    lines = [
        f"{model.source}: {summary.replications} replications, "
        f"{summary.contacts / summary.replications:,.0f} contacts each, {pct} CI",
        f"{'queue':<16}{'offered':>9}{'SL':>17}{'SL excl':>8}{'goal':>6}{'ASA s':>8}{'abandon':>9}"
        f"{'callbacks':>10}",
    ]
    for j in active_queues(model, summary):
        q = summary.queues[j]
        _, goal = _goal(model, q)
        b = summary.by_queue
        sl = b["sl_offered"]
        lines.append(
            f"{q:<16}{b['offered'].mean[j]:>9,.0f}"
            f"{_pct(sl.mean[j]):>8} ±{_pct(sl.half_width[j], 1):>6}"
            f"{_pct(b['sl_excl_short'].mean[j]):>9}{goal:>6.0%}"
            f"{b['asa'].mean[j]:>8.1f}{_pct(b['abandon_rate'].mean[j]):>9}"
            f"{b['callbacks'].mean[j]:>10,.1f}"
        )
    t = summary.total
    lines.append(
        f"{'all queues':<16}{t['offered'].mean[()]:>9,.0f}{_pct(t['sl_offered'].mean[()]):>8} "
        f"±{_pct(t['sl_offered'].half_width[()], 1):>6}{_pct(t['sl_excl_short'].mean[()]):>9}"
        f"{'':>6}{t['asa'].mean[()]:>8.1f}{_pct(t['abandon_rate'].mean[()]):>9}"
        f"{t['callbacks'].mean[()]:>10,.1f}"
    )
    occ = ", ".join(
        f"{g} {_pct(summary.occupancy_by_group.mean[i])}" for i, g in enumerate(summary.groups)
    )
    lines.append(f"occupancy: {occ}")
    handles = [_handle_text(model, summary.queues[j]) for j in active_queues(model, summary)]
    lines.append("handle time = AHT + wrap-up: " + "; ".join(handles))
    return "\n".join(lines)


def run_warnings(model: Model, summary: Summary) -> list[str]:
    """What a planner must know before acting on a run's figures."""
    return load_warnings(model)


def _pct(v: float | np.ndarray, digits: int = 1) -> str:
    return "n/a" if math.isnan(float(v)) else f"{100 * float(v):.{digits}f}%"


# == staffing plans ===========================================================================


def plan_json(model: Model, plan: StaffingPlan) -> dict[str, Any]:
    return {
        "scenario": model.source,
        "shrinkage": plan.shrinkage,
        "groups": list(plan.groups),
        "intervals": [
            {
                "interval_start": p.label,
                "erlang": dict(zip(plan.groups, p.erlang, strict=True)),
                "required": dict(zip(plan.groups, p.required, strict=True)),
                "scheduled": dict(zip(plan.groups, p.scheduled, strict=True)),
                "meets_targets": p.assessment.meets,
                "service_level": {q: _num(v) for q, v in p.assessment.service_level.items()},
                "abandon_rate": {q: _num(v) for q, v in p.assessment.abandon_rate.items()},
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


def plan_text(plan: StaffingPlan) -> str:
    head = f"{'interval':<9}" + "".join(f"{g[:12]:>13}" for g in plan.groups) + f"{'total':>8}"
    lines = [f"required (scheduled at {plan.shrinkage:.0%} shrinkage) agents per group", head]
    for p in plan.intervals:
        cells = "".join(f"{f'{r} ({s})':>13}" for r, s in zip(p.required, p.scheduled, strict=True))
        flag = "" if p.assessment.meets else "  targets not met"
        lines.append(f"{p.label:<9}{cells}{sum(p.scheduled):>8}{flag}")
    return "\n".join(lines)


# == Erlang ===================================================================================


def erlang_json(result: ErlangResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traffic_erlangs": _num(result.traffic_erlangs),
        "agents": result.agents,
        "service_level": _num(result.service_level),
        "prob_wait": _num(result.prob_wait),
        "asa_seconds": _num(result.asa_seconds),
        "occupancy": _num(result.occupancy),
    }
    if result.prob_abandon is not None:
        out["prob_abandon"] = _num(result.prob_abandon)
    return out


def erlang_text(result: ErlangResult) -> str:
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
    return "\n".join(lines)


# == progress =================================================================================


class ProgressLine:
    """A one-line progress indicator on stderr (only when it is a terminal, or when forced)."""

    def __init__(
        self, what: str, stream: TextIO | None = None, *, enabled: bool | None = None
    ) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        elapsed = time.monotonic() - self.start
        eta = elapsed / done * (total - done) if done else 0.0
        self.stream.write(
            f"\r{self.what} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
            f"{elapsed:.0f}s elapsed, ~{eta:.0f}s left "
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def write_lines(lines: Sequence[str], stream: TextIO | None = None) -> None:
    out = stream if stream is not None else sys.stdout
    for line in lines:
        print(line, file=out)
