"""The Grafana dashboards and their provisioning files, as code (grafana-foundation-sdk).

``config/grafana/`` is this module's output (a test keeps them equal)::

    python -m contactcenter.metrics.dashboards config/grafana/

It writes, for a site to drop into Grafana as they are:

* ``provisioning/datasources/contactcenter.yaml``: the Prometheus data source, uid
  ``contactcenter-prometheus`` (the dashboards refer to it by that uid);
* ``provisioning/dashboards/contactcenter.yaml``: a provider that loads the dashboards from
  ``/var/lib/grafana/dashboards/contactcenter``;
* ``dashboards/contactcenter-wallboard.json``: the real-time wallboard (per queue: waiting,
  oldest wait against the answer threshold, service level today against the goal, ASA,
  abandon rate, CSAT, agents by state, call backs pending), refreshed every 10 s;
* ``dashboards/contactcenter-intraday.json``: intraday and history (per interval: service
  level, offered/answered/abandoned, ASA, AHT, occupancy, transfers, CSAT; totals over the
  range, with survey answers and the share satisfied).

Both have ``channel`` and ``queue`` variables. "Today" is Grafana's time range from midnight
(``now/d``; ``$__range``), a calendar day, where the recording rules only know rolling
windows. Every KPI query is ``rules.Kpi``'s definition, the one the recording rules use.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from grafana_foundation_sdk.builders import bargauge, prometheus, stat, timeseries
from grafana_foundation_sdk.builders.common import (
    ReduceDataOptions,
    VizLegendOptions,
    VizTooltipOptions,
)
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    IntervalVariable,
    QueryVariable,
    Row,
    ThresholdsConfig,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    BigValueColorMode,
    BigValueGraphMode,
    BigValueTextMode,
    LegendDisplayMode,
    LegendPlacement,
    SortOrder,
    TooltipDisplayMode,
)
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from contactcenter.metrics.rules import ABANDON_SPIKE_RATIO, CALLBACK_OVERDUE_SECONDS, Kpi

DATASOURCE_UID = "contactcenter-prometheus"
DATASOURCE = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
PROMETHEUS_URL = "http://127.0.0.1:9090"
SCRAPE_INTERVAL = "15s"
"""``scrape_interval`` of ``config/prometheus/prometheus.yml``: Grafana's ``$__rate_interval``
is at least four of it."""
DASHBOARDS_PATH = "/var/lib/grafana/dashboards/contactcenter"
FOLDER = "Contact center"
TAGS = ["contactcenter"]

MATCH = 'queue=~"$queue",channel=~"$channel"'
"""The dashboards' variables as label matchers."""
MATCH_QUEUE = 'queue=~"$queue"'
"""For families without a channel label (call backs: voice only)."""
LEGEND = "{{queue}}"
CSAT_COLORS = ((None, "red"), (3.0, "orange"), (4.0, "green"))
"""A mean score below 3 is red, from 4 (satisfied) green."""
CSAT = "Mean customer survey score (1-5) of the contacts an agent handled last in the queue."


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = LEGEND


@dataclass(frozen=True)
class Panel:
    """One panel: ``kind`` ``stat`` (instant queries, a value per series), ``bars`` (instant,
    a bar gauge) or ``trend`` (range queries, a time series)."""

    kind: Literal["stat", "bars", "trend"]
    title: str
    description: str
    unit: str
    queries: tuple[Query, ...]
    thresholds: tuple[tuple[float | None, str], ...] = ()
    """(from value, color), the first from None; none: one color (Grafana's default would
    turn values above 80 red)."""
    width: int = 6
    max_value: float | None = None
    interval: str | None = None
    """The panel's minimum step (``$__interval`` is never shorter)."""


def stat_panel(title: str, description: str, unit: str, *queries: Query, **kw: Any) -> Panel:
    return Panel("stat", title, description, unit, queries, **kw)


def bar_panel(title: str, description: str, unit: str, *queries: Query, **kw: Any) -> Panel:
    return Panel("bars", title, description, unit, queries, width=12, **kw)


def trend_panel(title: str, description: str, unit: str, *queries: Query, **kw: Any) -> Panel:
    return Panel("trend", title, description, unit, queries, width=12, **kw)


def build_panel(p: Panel) -> Any:
    """The SDK builder of ``p``."""
    panel: Any
    last = ReduceDataOptions().calcs(["lastNotNull"]).values(False)
    if p.kind == "stat":
        panel = stat.Panel().height(5).text_mode(BigValueTextMode.VALUE_AND_NAME)
        panel = panel.graph_mode(BigValueGraphMode.NONE).reduce_options(last)
        panel = panel.color_mode(
            BigValueColorMode.BACKGROUND if p.thresholds else BigValueColorMode.NONE
        )
    elif p.kind == "bars":
        panel = bargauge.Panel().height(8).min(0).display_mode(BarGaugeDisplayMode.BASIC)
        panel = panel.reduce_options(last)
    else:
        panel = timeseries.Panel().height(8).min(0).line_width(1).fill_opacity(10)
        panel = panel.legend(
            VizLegendOptions()
            .display_mode(LegendDisplayMode.LIST)
            .placement(LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        panel = panel.tooltip(
            VizTooltipOptions().mode(TooltipDisplayMode.MULTI).sort(SortOrder.DESCENDING)
        )
    panel = panel.title(p.title).description(p.description).datasource(DATASOURCE)
    panel = panel.unit(p.unit).span(p.width)
    if p.max_value is not None:
        panel = panel.max(p.max_value)
    if p.interval is not None:
        panel = panel.interval(p.interval)
    steps = [Threshold(value=v, color=c) for v, c in p.thresholds or ((None, "blue"),)]
    panel = panel.thresholds(ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps))
    for i, q in enumerate(p.queries):
        target = prometheus.Dataquery().ref_id(chr(ord("A") + i)).expr(q.expr)
        target = target.legend_format(q.legend).datasource(DATASOURCE)
        panel = panel.with_target(target.range() if p.kind == "trend" else target.instant())
    return panel


def _by_queue(fn: str, metric: str) -> str:
    return f"{fn} by (queue, channel) ({metric}{{{MATCH}}})"


def _minus_goal(expr: str) -> str:
    goal = _by_queue("max", "contactcenter_queue_service_level_goal_ratio")
    return f"(\n{expr}\n)\n- on (queue, channel) {goal}"


def _per_minute(metric: str) -> str:
    return f"sum by (queue, channel) (rate({metric}{{{MATCH}}}[$__rate_interval])) * 60"


def wallboard_rows() -> list[tuple[str, list[Panel]]]:
    """The wallboard: now (instant), and today so far (``$__range`` from midnight)."""
    today = Kpi("$__range", MATCH)
    oldest = _by_queue("max", "contactcenter_oldest_waiting_age_seconds")
    threshold = _by_queue("max", "contactcenter_queue_answer_threshold_seconds")
    overdue = float(CALLBACK_OVERDUE_SECONDS)
    now = [
        stat_panel(
            "Waiting",
            "Contacts waiting in the queue, not being offered to an agent.",
            "none",
            Query(_by_queue("sum", "contactcenter_contacts_waiting")),
        ),
        stat_panel(
            "Oldest wait",
            "How long the longest-waiting contact has waited (from its original arrival).",
            "s",
            Query(oldest),
        ),
        bar_panel(
            "Oldest wait / answer threshold",
            "Above 100 %: a contact waits longer than the queue's answer threshold.",
            "percentunit",
            Query(f"{oldest}\n/ on (queue, channel) {threshold}"),
            thresholds=((None, "green"), (0.8, "orange"), (1.0, "red")),
            max_value=2.0,
        ),
        stat_panel(
            "Agents by state",
            "All agents of the center by state (offline left out).",
            "none",
            Query('sum by (state) (contactcenter_agents{state!="offline"})', "{{state}}"),
            width=12,
        ),
        bar_panel(
            "Agents per queue by state",
            "Agents who can serve the queue, by state (an agent counts in each of its queues).",
            "none",
            Query(
                "sum by (queue, channel, state) "
                f'(contactcenter_queue_agents{{{MATCH},state!="offline"}})',
                "{{queue}} {{state}}",
            ),
        ),
        stat_panel(
            "Call backs pending",
            "Call backs not made yet: scheduled (not due), queued (due), in progress.",
            "none",
            Query(
                f"sum by (queue, state) (contactcenter_callbacks_pending{{{MATCH_QUEUE}}})",
                "{{queue}} {{state}}",
            ),
        ),
        stat_panel(
            "Call back due longest",
            "How long the call back due longest has waited for an agent; red: overdue.",
            "s",
            Query(f"max by (queue) (contactcenter_callbacks_oldest_due_seconds{{{MATCH_QUEUE}}})"),
            thresholds=((None, "green"), (overdue / 2, "orange"), (overdue, "red")),
        ),
    ]
    since_midnight = [
        stat_panel(
            "Service level today",
            "Answered within the answer threshold / offered, since midnight.",
            "percentunit",
            Query(today.service_level()),
        ),
        stat_panel(
            "Service level today - goal",
            "Service level today minus the queue's goal: red below the goal.",
            "percentunit",
            Query(_minus_goal(today.service_level())),
            thresholds=((None, "red"), (0.0, "green")),
        ),
        stat_panel(
            "ASA today",
            "Average speed of answer: mean wait of the contacts answered since midnight.",
            "s",
            Query(today.asa()),
        ),
        stat_panel(
            "Abandon rate today",
            "Abandoned / offered since midnight; red above the abandon alert's limit.",
            "percentunit",
            Query(today.abandon_rate()),
            thresholds=((None, "green"), (ABANDON_SPIKE_RATIO, "red")),
        ),
        stat_panel(
            "CSAT today",
            f"{CSAT} Since midnight.",
            "none",
            Query(today.csat()),
            thresholds=CSAT_COLORS,
            width=12,
        ),
        stat_panel(
            "Offered, answered, abandoned today",
            "Contacts since midnight (a transfer counts in the queue that answered it first).",
            "none",
            Query(today.offered(), "{{queue}} offered"),
            Query(today.answered(), "{{queue}} answered"),
            Query(today.abandoned(), "{{queue}} abandoned"),
            width=12,
        ),
        trend_panel(
            "Contacts per minute",
            "Contacts queued, answered and abandoned per minute.",
            "none",
            Query(_per_minute("contactcenter_contacts_queued_total"), "{{queue}} queued"),
            Query(_per_minute("contactcenter_contacts_answered_total"), "{{queue}} answered"),
            Query(_per_minute("contactcenter_contacts_abandoned_total"), "{{queue}} abandoned"),
        ),
    ]
    return [("Now", now), ("Today", since_midnight)]


def intraday_rows() -> list[tuple[str, list[Panel]]]:
    """Intraday and history: totals over the selected range, and per interval."""
    total = Kpi("$__range", MATCH)
    step = Kpi("$__interval", MATCH)
    goal = Query(_by_queue("max", "contactcenter_queue_service_level_goal_ratio"), "{{queue}} goal")
    occupancy = "Time ringing, busy or in wrap-up / time logged in and not away."
    transfers = (
        "Contacts agents handed on, and contacts the center moved to another queue (overflow, "
        "max wait, no agents, supervisor)."
    )
    totals = [
        stat_panel(
            "Service level",
            "Answered within the answer threshold / offered.",
            "percentunit",
            Query(total.service_level()),
        ),
        stat_panel(
            "Contacts",
            "Offered, answered and abandoned.",
            "none",
            Query(total.offered(), "{{queue}} offered"),
            Query(total.answered(), "{{queue}} answered"),
            Query(total.abandoned(), "{{queue}} abandoned"),
            width=12,
        ),
        stat_panel(
            "Abandon rate", "Abandoned / offered.", "percentunit", Query(total.abandon_rate())
        ),
        stat_panel("ASA", "Average speed of answer.", "s", Query(total.asa())),
        stat_panel(
            "AHT", "Average handle time: talk plus after-contact work.", "s", Query(total.aht())
        ),
        stat_panel(
            "Occupancy (all agents)",
            occupancy,
            "percentunit",
            Query(total.occupancy(), "occupancy"),
        ),
        stat_panel(
            "Transfers",
            transfers,
            "none",
            Query(total.transfers(), "{{queue}} by agents"),
            Query(total.moved(), "{{queue}} moved"),
        ),
        stat_panel("CSAT", CSAT, "none", Query(total.csat()), thresholds=CSAT_COLORS),
        stat_panel(
            "Survey answers",
            "Customer survey answers (scores) given.",
            "none",
            Query(total.csat_answers()),
        ),
        stat_panel(
            "Satisfied (4-5)",
            "Survey answers scoring 4 or 5 / survey answers.",
            "percentunit",
            Query(total.csat_satisfied()),
        ),
    ]
    per_interval = [
        trend_panel(
            "Service level per interval",
            "Answered within the answer threshold / offered, per interval; the queue's goal.",
            "percentunit",
            Query(step.service_level()),
            goal,
            interval="$interval",
        ),
        trend_panel(
            "Offered, answered, abandoned per interval",
            "Contacts per interval.",
            "none",
            Query(step.offered(), "{{queue}} offered"),
            Query(step.answered(), "{{queue}} answered"),
            Query(step.abandoned(), "{{queue}} abandoned"),
            interval="$interval",
        ),
        trend_panel(
            "ASA and AHT per interval",
            "Average speed of answer and average handle time, per interval.",
            "s",
            Query(step.asa(), "{{queue}} ASA"),
            Query(step.aht(), "{{queue}} AHT"),
            interval="$interval",
        ),
        trend_panel(
            "Occupancy per interval (all agents)",
            occupancy,
            "percentunit",
            Query(step.occupancy(), "occupancy"),
            interval="$interval",
        ),
        trend_panel(
            "Transfers per interval",
            transfers,
            "none",
            Query(step.transfers(), "{{queue}} by agents"),
            Query(step.moved(), "{{queue}} moved"),
            interval="$interval",
        ),
        trend_panel(
            "CSAT per interval",
            f"{CSAT} Per interval, by when the answer was given.",
            "none",
            Query(step.csat()),
            interval="$interval",
        ),
    ]
    return [("Selected time range", totals), ("Per interval", per_interval)]


def _variable(name: str, label: str, query: str) -> QueryVariable:
    return (
        QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )


def dashboard(
    uid: str, title: str, description: str, refresh: str, rows: list[tuple[str, list[Panel]]]
) -> Dashboard:
    """A dashboard of ``rows`` with the channel and queue variables (and ``interval`` when a
    panel steps by it), today (from midnight) by default."""
    d = (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .editable()
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .refresh(refresh)
        .time("now/d", "now")
        .timezone("browser")
        .with_variable(
            _variable(
                "channel", "Channel", "label_values(contactcenter_contacts_queued_total, channel)"
            )
        )
        .with_variable(
            _variable(
                "queue",
                "Queue",
                'label_values(contactcenter_contacts_queued_total{channel=~"$channel"}, queue)',
            )
        )
    )
    if any(p.interval == "$interval" for _, panels in rows for p in panels):
        d = d.with_variable(
            IntervalVariable("interval")
            .label("Interval")
            .values("15m,30m,1h,1d")
            .current(VariableOption(selected=True, text="15m", value="15m"))
        )
    for title_, panels in rows:
        d = d.with_row(Row(title_))
        for p in panels:
            d = d.with_panel(build_panel(p))
    return d


def wallboard() -> Dashboard:
    return dashboard(
        "contactcenter-wallboard",
        "Contact center: wallboard",
        "Per queue, now and today so far (from midnight).",
        "10s",
        wallboard_rows(),
    )


def intraday() -> Dashboard:
    return dashboard(
        "contactcenter-intraday",
        "Contact center: intraday and history",
        "Per queue and interval over the selected time range (today by default).",
        "1m",
        intraday_rows(),
    )


def dashboard_json(d: Dashboard) -> dict[str, Any]:
    """The dashboard as Grafana's JSON model, panels numbered in order (ids stable across
    runs, as links to a panel need)."""
    model: dict[str, Any] = json.loads(json.dumps(d.build(), cls=JSONEncoder))
    for n, panel in enumerate(model.get("panels", []), start=1):
        panel["id"] = n
    return model


def datasource_yaml() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Contact center Prometheus",
                "type": "prometheus",
                "uid": DATASOURCE_UID,
                "access": "proxy",
                "url": PROMETHEUS_URL,
                "isDefault": False,
                "editable": False,
                "jsonData": {"timeInterval": SCRAPE_INTERVAL, "httpMethod": "POST"},
            }
        ],
    }


def provider_yaml() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "contactcenter",
                "type": "file",
                "folder": FOLDER,
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": DASHBOARDS_PATH, "foldersFromFilesStructure": False},
            }
        ],
    }


GENERATED = (
    "# GENERATED by `python -m contactcenter.metrics.dashboards config/grafana/`; "
    "edit that module.\n"
)


def files() -> dict[str, str]:
    """Relative path -> content of everything under ``config/grafana/``."""

    def dump(doc: dict[str, Any]) -> str:
        return GENERATED + yaml.safe_dump(doc, sort_keys=False)

    out = {
        "provisioning/datasources/contactcenter.yaml": dump(datasource_yaml()),
        "provisioning/dashboards/contactcenter.yaml": dump(provider_yaml()),
    }
    for name, d in (("wallboard", wallboard()), ("intraday", intraday())):
        text = json.dumps(dashboard_json(d), indent=2, ensure_ascii=False)
        out[f"dashboards/contactcenter-{name}.json"] = text + "\n"
    return out


def write(directory: Path) -> list[Path]:
    written = []
    for rel, content in files().items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m contactcenter.metrics.dashboards <directory>\n")
        return 2
    target = Path(args[0])
    if target.exists() and not target.is_dir():
        sys.stderr.write(f"{target}: not a directory\n")
        return 2
    for path in write(target):
        sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
