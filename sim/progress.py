"""Progress of planner runs on stderr, as replications and evaluations finish.

On a terminal: live ``rich`` bars, redrawn several times a second (a bar that only moved when a
whole interval was done sat blank for a minute, then jumped). In a file or a pipe: plain lines,
no carriage returns or colour codes, one per evaluation and every tenth of a bar, so a log of
a long run stays readable. ``enabled=False`` (``--quiet``) prints nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sim.staffing import Assessment


class Display:
    """Bars and lines on one stream (stderr by default); use as a context manager."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = True if enabled is None else enabled
        self.console = Console(file=self.stream, highlight=False)
        self.live = self.enabled and self.console.is_terminal
        self._bars: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._tenths: dict[str, int] = {}

    def __enter__(self) -> Display:
        if self.live:
            self._bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=self.console,
                refresh_per_second=8,
            )
            self._bars.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def update(self, what: str, done: int, total: int, *, lines: bool = True) -> None:
        """Bar ``what`` at ``done`` of ``total``; in a file, a line every tenth (``lines``)."""
        if not self.enabled:
            return
        if self._bars is not None:
            task = self._tasks.get(what)
            if task is None:
                task = self._tasks[what] = self._bars.add_task(what, total=total)
            self._bars.update(task, completed=done, total=total)
            return
        tenth = 10 * done // max(total, 1)
        if lines and (tenth > self._tenths.get(what, 0) or done >= total):
            self._tenths[what] = 10 if done >= total else tenth
            self.line(f"{what} {done}/{total}")
        if done >= total:
            self._tenths.pop(what, None)

    def line(self, text: str) -> None:
        """A line above the bars (or alone, in a file)."""
        if not self.enabled:
            return
        if self._bars is not None:
            self._bars.console.print(text, markup=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()


class ProgressLine:
    """A ``Progress`` callback (done, total) for one named bar, in a display of its own that
    closes when the bar is full."""

    def __init__(
        self, what: str, stream: TextIO | None = None, *, enabled: bool | None = None
    ) -> None:
        self.what = what
        self.display = Display(stream, enabled=enabled)
        self._open = False

    def __call__(self, done: int, total: int) -> None:
        if not self._open:
            self.display.__enter__()
            self._open = True
        self.display.update(self.what, done, total)
        if done >= total:
            self.display.__exit__(None, None, None)
            self._open = False


class SearchProgress:
    """The staffing search as it goes: intervals planned, the replications of the staffing
    being judged, and one line per judged staffing with its verdict."""

    def __init__(self, display: Display, groups: Sequence[str], labels: Sequence[str]) -> None:
        self.display = display
        self.groups = tuple(groups)
        self.labels = tuple(labels)

    def intervals(self, done: int, total: int) -> None:
        self.display.update("intervals", done, total)

    def replications(self, done: int, total: int) -> None:
        self.display.update("replications of this staffing", done, total, lines=False)

    def evaluation(self, k: int, counts: tuple[int, ...], a: Assessment) -> None:
        staffing = " ".join(f"{g}={n}" for g, n in zip(self.groups, counts, strict=True))
        verdict = "meets" if a.meets else f"misses ({', '.join(sorted(a.missed))})"
        levels = ", ".join(
            f"{q} {100 * sl:.1f}% ±{100 * a.half_width.get(q, 0.0):.1f}"
            for q, sl in sorted(a.service_level.items())
        )
        open_ = f"; unresolved: {', '.join(sorted(a.unresolved))}" if a.unresolved else ""
        self.display.line(
            f"{self.labels[k]} {staffing}: {verdict} after {a.replications} replications "
            f"(SL {levels}){open_}"
        )
