"""The run's charts: legends off the data, queue names rather than ids, and what a high
occupancy beside a high service level means, written on the chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.replications import Runner, replicate, summary_of
from sim.report import occupancy_figure, service_level_figure
from sim.scenario import load_scenario
from tests.sim.files import write_scenario


def _overlaps(a: Any, b: Any) -> bool:
    return bool(a.overlaps(b))


def test_charts_keep_legends_off_the_data_and_name_queues(tmp_path: Path, runner: Runner) -> None:
    model = load_scenario(write_scenario(tmp_path))
    summary = summary_of(model, replicate(model, replications=2, runner=runner))
    for figure in (service_level_figure(model, summary), occupancy_figure(model, summary)):
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        legends = figure.legends + [ax.get_legend() for ax in figure.axes if ax.get_legend()]
        assert legends
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for ax in figure.axes:
                if ax.get_visible() and ax.axison:
                    assert not _overlaps(box, ax.get_window_extent(renderer)), ax.get_title()
    titles = [ax.get_title() for ax in service_level_figure(model, summary).axes]
    assert any(t.startswith("Billing (billing): answered within 30 s") for t in titles)
    assert not any(t.startswith("billing:") for t in titles)
    note = " ".join(t.get_text() for t in occupancy_figure(model, summary).texts)
    assert "95 % occupancy next to 99 % service level" in " ".join(note.split())
