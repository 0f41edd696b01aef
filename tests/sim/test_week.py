"""A planning week (issue 13): forecast and staffing by day, each day run as a day alone, the
week's totals pooled over its contacts; ``staff`` sizes every day as it would that day alone."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.replications import Runner
from sim.statistics import ANSWERED_WITHIN, ENTERED, TRANSFERRED_OUT
from sim.week import load_week, run_week
from tests.sim.files import ROOT, base_spec, write_scenario

# Monday busy (the groups run near capacity), Tuesday quiet and shorter: days that differ.
MON = {
    "09:00": {"sales": 60, "billing": 80},
    "09:30": {"sales": 70, "billing": 90},
}
TUE = {"09:00": {"sales": 12, "billing": 20}}
MON_STAFF = {"09:00": (6, 8, 1), "09:30": (7, 9, 1)}
TUE_STAFF = {"09:00": (3, 4, 1)}


def forecast_rows(day: dict[str, dict[str, int]]) -> list[str]:
    return [f"{t},{q},{n},240" for t, cells in day.items() for q, n in cells.items()]


def staffing_rows(day: dict[str, tuple[int, int, int]]) -> list[str]:
    return [f"{t},{','.join(str(n) for n in counts)}" for t, counts in day.items()]


def week_files() -> tuple[str, str]:
    """Forecast and staffing of Mon and Tue, with a ``day`` column."""
    forecast = ["day,interval_start,queue,contacts,aht_seconds"]
    forecast += [f"Mon,{r}" for r in forecast_rows(MON)] + [f"Tue,{r}" for r in forecast_rows(TUE)]
    staffing = ["day,interval_start,sales,billing,chat"]
    staffing += [f"Mon,{r}" for r in staffing_rows(MON_STAFF)]
    staffing += [f"Tue,{r}" for r in staffing_rows(TUE_STAFF)]
    return "\n".join(forecast) + "\n", "\n".join(staffing) + "\n"


def one_day_files(
    day: dict[str, dict[str, int]], staff: dict[str, tuple[int, int, int]]
) -> tuple[str, str]:
    forecast = ["interval_start,queue,contacts,aht_seconds", *forecast_rows(day)]
    staffing = ["interval_start,sales,billing,chat", *staffing_rows(staff)]
    return "\n".join(forecast) + "\n", "\n".join(staffing) + "\n"


def run_cli(scenario: Path, out: Path, *more: str) -> int:
    return main(["run", str(scenario), "--out", str(out), "--no-charts", "--quiet", *more])


def test_each_day_is_that_day_run_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every day's report of a week run is the report of that day run alone with the seed."""
    forecast, staffing = week_files()
    week = write_scenario(tmp_path / "week", forecast=forecast, staffing=staffing)
    assert run_cli(week, tmp_path / "out", "--workers", "2") == 0
    text = capsys.readouterr().out
    for label, day, staff in (("Mon", MON, MON_STAFF), ("Tue", TUE, TUE_STAFF)):
        forecast, staffing = one_day_files(day, staff)
        alone = write_scenario(tmp_path / label, forecast=forecast, staffing=staffing)
        assert run_cli(alone, tmp_path / f"{label}-out", "--workers", "2") == 0
        for name in ("intervals.csv", "occupancy.csv", "summary.json"):
            mine = (tmp_path / "out" / label / name).read_text()
            assert mine == (tmp_path / f"{label}-out" / name).read_text(), (label, name)
    capsys.readouterr()
    # the terminal shows every day beside the week, per queue
    head = next(line for line in text.splitlines() if line.startswith("queue") and "goal" in line)
    assert head.split()[-3:] == ["Mon", "Tue", "week"]
    assert any(line.startswith("billing") for line in text.splitlines())
    rows = list(csv.DictReader((tmp_path / "out" / "days.csv").open()))
    assert {(r["day"], r["queue"]) for r in rows} >= {
        ("Mon", "sales"),
        ("Tue", "billing"),
        ("week", "all queues"),
    }
    mon = json.loads((tmp_path / "Mon-out" / "summary.json").read_text())
    mon_row = next(r for r in rows if (r["day"], r["queue"]) == ("Mon", "sales"))
    assert float(mon_row["sl_offered"]) == pytest.approx(
        mon["queues"]["sales"]["total"]["sl_offered"]["mean"], abs=1e-5
    )


def test_week_totals_pool_the_days_contacts(tmp_path: Path, runner: Runner) -> None:
    """The week's service level is, per replication, all days' answered-within over all days'
    offered (then the mean over replications), not the mean of the days' percentages."""
    forecast, staffing = week_files()
    scenario = write_scenario(tmp_path / "week", forecast=forecast, staffing=staffing)
    assert run_cli(scenario, tmp_path / "out", "--workers", "2") == 0
    doc = json.loads((tmp_path / "out" / "summary.json").read_text())

    week = load_week(scenario)
    assert week is not None
    run = run_week(week, runner)
    j = run.total.queues.index("sales")
    per_day = [np.stack([t.counts[:, j] for t in day]) for day in run.tallies]  # [R, K, F]
    sums = sum(c.sum(axis=1) for c in per_day)  # [R, F]: the week's sums per replication
    pooled = sums[:, ANSWERED_WITHIN] / (sums[:, ENTERED] - sums[:, TRANSFERRED_OUT])
    reported = doc["week"]["queues"]["sales"]["total"]["sl_offered"]["mean"]
    assert reported == pytest.approx(float(pooled.mean()), abs=1e-6)
    days = [d["queues"]["sales"]["total"]["sl_offered"]["mean"] for d in doc["days"]]
    assert abs(reported - sum(days) / len(days)) > 0.05  # the average of days would differ
    offered = [d["queues"]["sales"]["total"]["offered"]["mean"] for d in doc["days"]]
    assert doc["week"]["queues"]["sales"]["total"]["offered"]["mean"] == pytest.approx(sum(offered))
    assert doc["week"]["days"] == ["Mon", "Tue"]


def test_dated_rows_in_either_form(tmp_path: Path) -> None:
    """ISO date-times in ``interval_start`` and ISO dates in a ``day`` column name the same
    days; the days come in calendar order whatever the rows' order."""
    forecast = "interval_start,queue,contacts,aht_seconds\n" + "".join(
        f"{d}T{r}\n"
        for d, rows in (("2026-12-08", forecast_rows(TUE)), ("2026-12-07", forecast_rows(MON)))
        for r in rows
    )
    staffing = "day,interval_start,sales,billing,chat\n" + "".join(
        f"{d},{r}\n"
        for d, rows in (
            ("2026-12-07", staffing_rows(MON_STAFF)),
            ("2026-12-08", staffing_rows(TUE_STAFF)),
        )
        for r in rows
    )
    week = load_week(write_scenario(tmp_path / "s", forecast=forecast, staffing=staffing))
    assert week is not None and week.labels == ("2026-12-07", "2026-12-08")
    monday = week.days[0].model
    assert monday.forecast.intervals == 2 and monday.forecast.label(1) == "09:30"
    assert monday.staffing is not None
    assert monday.staffing.counts.tolist() == [list(c) for c in MON_STAFF.values()]


def test_one_day_files_stay_one_day(tmp_path: Path) -> None:
    assert load_week(write_scenario(tmp_path / "s")) is None


STAFF = ["staff", "--no-charts", "--quiet", "--workers", "2"]


def test_staff_sizes_every_day_as_that_day_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = base_spec()
    spec["targets"] = {"decision": "mean"}
    spec["search"] = {
        "replications": 4,
        "max_replications": 4,
        "warmup_minutes": 10,
        "measure_intervals": 1,
    }
    forecast, staffing = week_files()
    week = write_scenario(tmp_path / "week", spec, forecast=forecast, staffing=staffing)
    assert main([*STAFF, str(week), "--out", str(tmp_path / "plan")]) == 0
    text = capsys.readouterr().out
    rows = list(csv.DictReader((tmp_path / "plan" / "staffing.csv").open()))
    for label, day, staff in (("Mon", MON, MON_STAFF), ("Tue", TUE, TUE_STAFF)):
        forecast, staffing = one_day_files(day, staff)
        alone = write_scenario(tmp_path / label, spec, forecast=forecast, staffing=staffing)
        assert main([*STAFF, str(alone), "--out", str(tmp_path / f"{label}-plan")]) == 0
        expected = list(csv.DictReader((tmp_path / f"{label}-plan" / "staffing.csv").open()))
        mine = [{k: v for k, v in r.items() if k != "day"} for r in rows if r["day"] == label]
        assert mine == expected, label
    capsys.readouterr()
    # agent-hours: each day's required agents times half an hour, and the week their sum
    hours = {
        (r["day"], r["group"]): r
        for r in csv.DictReader((tmp_path / "plan" / "agent_hours.csv").open())
    }
    for label in ("Mon", "Tue"):
        required = sum(
            int(r["required"]) for r in rows if (r["day"], r["group"]) == (label, "sales")
        )
        assert float(hours[(label, "sales")]["required_hours"]) == pytest.approx(required / 2)
    week_sales = sum(int(r["required"]) for r in rows if r["group"] == "sales") / 2
    assert float(hours[("week", "sales")]["required_hours"]) == pytest.approx(week_sales)
    assert "== Mon ==" in text and "== Tue ==" in text and "agent-hours per day" in text


# == bad weeks ================================================================================


def _errors(
    tmp_path: Path,
    forecast: str,
    staffing: str | None,
    capsys: pytest.CaptureFixture[str],
    spec: dict[str, object] | None = None,
) -> list[str]:
    scenario = write_scenario(tmp_path / "s", spec, forecast=forecast, staffing=staffing)
    assert run_cli(scenario, tmp_path / "out") == 1
    return capsys.readouterr().err.splitlines()


WEEK_FORECAST, WEEK_STAFFING = week_files()


@pytest.mark.parametrize(
    ("forecast", "staffing", "expected"),
    [
        pytest.param(
            WEEK_FORECAST,
            WEEK_STAFFING.replace("Tue,", "Wed,"),
            [
                "error: staffing.csv:4: day: Wed is not a day of forecast.csv",
                "error: staffing.csv: day: no rows for Tue, a day of forecast.csv",
            ],
            id="a day in one file only",
        ),
        pytest.param(
            WEEK_FORECAST.replace("Tue,09:00,sales", "2026-12-08,09:00,sales"),
            WEEK_STAFFING,
            [
                "error: forecast.csv:6: day: mixed forms: dates (2026-12-07) here, weekdays "
                "(Mon..Sun) from line 2"
            ],
            id="weekdays beside dates",
        ),
        pytest.param(
            WEEK_FORECAST.replace("Tue,09:00,billing", ",09:00,billing"),
            WEEK_STAFFING,
            [
                "error: forecast.csv:7: day: mixed forms: no day (HH:MM times) here, weekdays "
                "(Mon..Sun) from line 2"
            ],
            id="a row without a day",
        ),
        pytest.param(
            WEEK_FORECAST,
            one_day_files(MON, MON_STAFF)[1],
            [
                "error: staffing.csv:2: day: no day (HH:MM times) here, weekdays (Mon..Sun) in "
                "forecast.csv"
            ],
            id="a week forecast, a one-day staffing",
        ),
        pytest.param(
            one_day_files(MON, MON_STAFF)[0],
            WEEK_STAFFING,
            ["error: staffing.csv:2: day: has days but forecast.csv is one day"],
            id="a one-day forecast, a week staffing",
        ),
        pytest.param(
            WEEK_FORECAST,
            WEEK_STAFFING + "Mon,09:00,1,1,1\n",
            ["error: staffing.csv:5: interval_start: Mon 09:00 given twice (first on line 2)"],
            id="a staffing row twice",
        ),
        pytest.param(
            WEEK_FORECAST + "Tue,09:00,sales,5,240\n",
            WEEK_STAFFING,
            ["error: forecast.csv:8: interval_start: 09:00 sales given twice"],
            id="a forecast row twice",
        ),
        pytest.param(
            WEEK_FORECAST.replace("Tue,", "Funday,", 1),
            WEEK_STAFFING,
            [
                "error: forecast.csv:6: day: expected a weekday (Mon..Sun) or an ISO date "
                "(2026-12-07), got 'Funday'"
            ],
            id="no such day",
        ),
    ],
)
def test_bad_week_is_one_clear_line_per_problem(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    forecast: str,
    staffing: str,
    expected: list[str],
) -> None:
    assert _errors(tmp_path, forecast, staffing, capsys) == expected


def test_a_roster_is_one_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = base_spec()
    spec["staffing"] = None
    spec["roster"] = "roster.csv"
    errors = _errors(tmp_path, WEEK_FORECAST, None, capsys, spec)
    assert errors == [
        "error: scenario.yaml: roster: a roster is one day's shifts; a week (forecast.csv has "
        "days) takes a staffing table with a day column"
    ]


def test_example_week_is_a_planners_week() -> None:
    """config/planning/week: seven staffed days, Monday the busiest, the weekend quieter."""
    week = load_week(ROOT / "config" / "planning" / "week" / "scenario.yaml")
    assert week is not None and week.labels == ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    volume = [float(d.model.forecast.contacts.sum()) for d in week.days]
    assert volume[0] == max(volume) and volume[-1] == min(volume) and volume[5] < min(volume[:5])
    assert all(d.model.staffing is not None for d in week.days)


def test_staff_a_window_and_verify_the_week(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--intervals`` plans each day's intervals in the window (none on a day without any);
    ``--verify`` then runs the week under the plan."""
    scenario = write_scenario(tmp_path / "s", forecast=WEEK_FORECAST, staffing=WEEK_STAFFING)
    out = tmp_path / "plan"
    args = [*STAFF, str(scenario), "--analytic", "--intervals", "09:30-10:00", "--verify"]
    assert main([*args, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    plan = json.loads((out / "staffing.json").read_text())
    planned = {d["day"]: [i["interval_start"] for i in d["intervals"]] for d in plan["days"]}
    assert planned == {"Mon": ["09:30"], "Tue": []}
    run = json.loads((out / "summary.json").read_text())
    assert [d["day"] for d in run["days"]] == ["Mon", "Tue"]
    assert run["week"]["total"]["offered"]["mean"] > 0
    assert "service level %" in text


def test_what_if_staffing_for_the_week(tmp_path: Path) -> None:
    """``run --staffing FILE`` takes a week's staffing table in the forecast's form, and the
    run shows it: more agents on Monday answer more within the threshold."""
    scenario = write_scenario(tmp_path / "s", forecast=WEEK_FORECAST, staffing=WEEK_STAFFING)
    more = WEEK_STAFFING.replace("Mon,09:00,6,8,1", "Mon,09:00,10,10,1").replace(
        "Mon,09:30,7,9,1", "Mon,09:30,10,10,1"
    )
    (tmp_path / "more.csv").write_text(more, encoding="utf-8")
    assert run_cli(scenario, tmp_path / "base") == 0
    assert run_cli(scenario, tmp_path / "more", "--staffing", str(tmp_path / "more.csv")) == 0

    def monday_sl(out: str) -> float:
        doc = json.loads((tmp_path / out / "summary.json").read_text())
        return float(doc["days"][0]["queues"]["sales"]["total"]["sl_offered"]["mean"])

    assert monday_sl("more") > monday_sl("base") + 0.1
    tuesday = [(tmp_path / out / "Tue" / "intervals.csv").read_text() for out in ("base", "more")]
    assert tuesday[0] == tuesday[1]  # Tuesday's staffing did not change, nor its figures


def test_a_week_takes_no_roster_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path / "s", forecast=WEEK_FORECAST, staffing=WEEK_STAFFING)
    assert run_cli(scenario, tmp_path / "out", "--roster", str(tmp_path / "roster.csv")) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: --roster: a roster is one day's shifts; a week takes --staffing"
    ]


def test_whole_day_method_grows_each_day_from_its_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path / "s", forecast=WEEK_FORECAST, staffing=WEEK_STAFFING)
    (tmp_path / "start.csv").write_text(WEEK_STAFFING, encoding="utf-8")
    args = [*STAFF, str(scenario), "--method", "day", "--iterations", "1", "--replications", "2"]
    out = tmp_path / "plan"
    assert main([*args, "--start", str(tmp_path / "start.csv"), "--out", str(out)]) == 0
    assert "== Tue ==" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "staffing.csv").open()))
    start = {("Mon", t): c for t, c in MON_STAFF.items()} | {
        ("Tue", t): c for t, c in TUE_STAFF.items()
    }
    groups = ("sales", "billing", "chat")
    assert {(r["day"], r["interval_start"]) for r in rows} == set(start)
    for r in rows:  # upward only from the start (chat: 1 there, though Erlang says 0)
        given = start[(r["day"], r["interval_start"])][groups.index(r["group"])]
        assert int(r["required"]) >= given
        assert int(r["required"]) == given or r["group"] != "chat"


def test_a_one_day_scenarios_errors_read_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A one-day staffing table without its columns: every missing column, as the one-day
    loader has always said it (the week's form detection keeps out of the way)."""
    errors = _errors(tmp_path, one_day_files(MON, MON_STAFF)[0], "start,sales\n09:00,3\n", capsys)
    assert errors == [
        f"error: staffing.csv:1: {column}: missing column"
        for column in ("interval_start", "billing", "chat")
    ]
