"""Patience estimated from censored waits: Kaplan-Meier, with an exponential tail.

Patience is how long a waiting customer would stay before hanging up. A recorded day shows it
only for those who abandoned (their wait *is* their patience: an event); everyone else, answered
or removed by the center, only tells that their patience exceeded their wait (right-censored).
Averaging the abandoners' waits therefore underestimates patience (the patient ones were
answered before they could show it); the Kaplan-Meier estimator uses both kinds
(``scipy.stats.ecdf`` on ``scipy.stats.CensoredData``).

A ``PatienceCurve`` is the estimated survival ``S(t) = P(patience > t)``: a right-continuous
step function through ``points`` (time, survival after it) up to the ``horizon``, the longest
wait enough customers reached (``MIN_AT_RISK``); beyond it little or nothing was seen, and the
curve decays exponentially with ``tail_mean`` (the censored-data estimate of a constant
hazard: all waits summed / abandons), or stays flat when ``tail_mean`` is None (those
customers never abandon).

The file form (``write_curve`` / ``load_curve``) is a CSV ``seconds,survival``: the points in
order, the last one at the horizon.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from contactcenter.config import ConfigError, ConfigIssue


@dataclass(frozen=True)
class PatienceCurve:
    """``S(t)`` through ``points`` (increasing times, non-increasing survival in [0, 1]),
    ``S(t) = 1`` before the first; beyond ``horizon`` (the last point's time) an exponential
    tail of mean ``tail_mean``, or flat when None."""

    points: tuple[tuple[float, float], ...]
    tail_mean: float | None

    @property
    def horizon(self) -> float:
        return self.points[-1][0] if self.points else 0.0

    @property
    def floor(self) -> float:
        """Survival at the horizon: the share still waiting at the longest wait seen."""
        return self.points[-1][1] if self.points else 1.0

    @property
    def abandons(self) -> bool:
        """Whether anybody ever abandons (a day nobody abandoned gives a flat curve)."""
        return self.floor < 1.0 or self.tail_mean is not None

    def survival(self, t: float | np.ndarray) -> np.ndarray:
        """``S(t)`` at each time of ``t``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        times = np.array([p[0] for p in self.points])
        after = np.array([1.0, *(p[1] for p in self.points)])
        out = after[np.searchsorted(times, t, side="right")]
        beyond = t > self.horizon
        if self.tail_mean is not None and beyond.any():
            out[beyond] = self.floor * np.exp(-(t[beyond] - self.horizon) / self.tail_mean)
        return out

    def mean(self) -> float:
        """The area under ``S``: infinite when some customers never abandon."""
        area, t0, s0 = 0.0, 0.0, 1.0
        for t, s in self.points:
            area += s0 * (t - t0)
            t0, s0 = t, s
        if self.floor > 0:
            if self.tail_mean is None:
                return math.inf
            area += self.floor * self.tail_mean
        return area

    def median(self) -> float | None:
        """The first time ``S`` is at most 1/2 (None when it never is)."""
        return self.quantile(0.5)

    def quantile(self, u: float) -> float | None:
        """``inf {t: S(t) <= u}`` (None when ``S`` never falls that low)."""
        for t, s in self.points:
            if s <= u:
                return t
        if self.tail_mean is None or u <= 0:
            return None
        return self.horizon + self.tail_mean * math.log(self.floor / u)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` patience draws (inverse transform; ``inf``: never abandons)."""
        return self._invert(rng.random(n))

    def sample_beyond(self, rng: np.random.Generator, waits: np.ndarray) -> np.ndarray:
        """Draws conditional on patience exceeding each wait: what a customer who was
        answered (or removed) after ``wait`` would have had. Where ``S(wait)`` is 0 (a wait
        no customer of the curve outlasts) the draw is ``inf``."""
        waits = np.asarray(waits, dtype=float)
        beyond = self.survival(waits)
        drawn = self._invert(rng.random(len(waits)) * beyond)
        return np.where(beyond > 0, np.maximum(drawn, np.nextafter(waits, np.inf)), np.inf)

    def _invert(self, u: np.ndarray) -> np.ndarray:
        out = np.full(len(u), np.inf)
        if self.points:
            times = np.array([p[0] for p in self.points])
            falls = -np.array([p[1] for p in self.points])  # increasing
            i = np.searchsorted(falls, -u, side="left")  # first point with S <= u
            inside = i < len(times)
            out[inside] = times[i[inside]]
            if self.tail_mean is not None:
                tail = ~inside & (u > 0)
                out[tail] = self.horizon + self.tail_mean * np.log(self.floor / u[tail])
        return out


MIN_AT_RISK = 20
"""The curve follows Kaplan-Meier while at least this many customers are still waiting; beyond,
a handful of long waits would make every step (one abandon among three halves the curve), so
the exponential tail takes over there."""


def kaplan_meier(
    waits: Sequence[float] | np.ndarray,
    abandoned: Sequence[bool] | np.ndarray,
    *,
    min_at_risk: int = MIN_AT_RISK,
) -> PatienceCurve | None:
    """The patience curve of customers who waited ``waits``: ``abandoned`` marks those whose
    wait ended by hanging up (observed patience), the others are censored at their wait.

    Kaplan-Meier up to the horizon, the longest wait that ``min_at_risk`` customers reached;
    beyond it an exponential tail whose mean is the censored-data estimate over the whole
    sample (all waits summed / abandons). None without any contact."""
    w = np.asarray(waits, dtype=float)
    ab = np.asarray(abandoned, dtype=bool)
    if w.size == 0:
        return None
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ValueError("waits must be finite and >= 0")
    events = int(ab.sum())
    ordered = np.sort(w)
    horizon = float(ordered[-min_at_risk]) if w.size >= min_at_risk else 0.0
    if events == 0:
        return PatienceCurve(((float(ordered[-1]), 1.0),), None)
    sf = stats.ecdf(stats.CensoredData(uncensored=w[ab], right=w[~ab])).sf
    points: list[tuple[float, float]] = []
    before = 1.0
    for t, s in zip(sf.quantiles.tolist(), sf.probabilities.tolist(), strict=True):
        if t > horizon:
            break
        if s < before:
            points.append((t, s))
            before = s
    if not points or points[-1][0] < horizon:
        points.append((horizon, before))
    tail = float(w.sum()) / events if before > 0 else None
    return PatienceCurve(tuple(points), tail)


def write_curve(curve: PatienceCurve, path: Path) -> None:
    """The ``seconds,survival`` CSV (full precision: it reads back to the same curve)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["seconds", "survival"])
        out.writerows([repr(float(t)), repr(float(s))] for t, s in curve.points)


def load_curve(path: Path, tail_mean: float | None) -> PatienceCurve:
    """Read a ``seconds,survival`` CSV; ``ConfigError`` names the file and line of a problem
    (times must increase, survival stay in [0, 1] and never rise)."""
    issues: list[ConfigIssue] = []
    points: list[tuple[float, float]] = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(path.name, "", "file is missing")]) from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ConfigError([ConfigIssue(path.name, "", f"cannot read: {err}")]) from None
    if not rows or [c.strip() for c in rows[0]] != ["seconds", "survival"]:
        issues.append(ConfigIssue(path.name, "", "expected the header seconds,survival", 1))
        raise ConfigError(issues)
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        try:
            t, s = (float(c) for c in row)
        except ValueError:
            issues.append(ConfigIssue(path.name, "", f"expected two numbers, got {row!r}", line))
            continue
        last_t, last_s = points[-1] if points else (-math.inf, 1.0)
        if not (math.isfinite(t) and t >= 0 and t > last_t):
            issues.append(ConfigIssue(path.name, "seconds", f"must increase, got {t!r}", line))
        elif not 0 <= s <= last_s:
            issues.append(
                ConfigIssue(path.name, "survival", f"must be in [0, {last_s!r}], got {s!r}", line)
            )
        else:
            points.append((t, s))
    if not points and not issues:
        issues.append(ConfigIssue(path.name, "", "no points"))
    if issues:
        raise ConfigError(issues)
    return PatienceCurve(tuple(points), tail_mean)
