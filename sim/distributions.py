"""Random draws for the planner: handle times, patience, tiers, retrial delays; vectorised per
interval.

Every draw comes from the replication's own ``numpy.random.Generator``, so a run is a pure
function of its seed. Samplers return *unit* draws (mean 1) that are scaled to a mean: a
handle time's by the interval's forecast AHT (the distribution gives the shape, the forecast
the level), a retrial delay's by its ``mean_seconds``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.scenario import Delay, HandleTime, QueueBehaviour

UnitSampler = Callable[[np.random.Generator, int], np.ndarray]


def unit_sampler(spec: HandleTime | Delay, shape: tuple[float, ...] | None = None) -> UnitSampler:
    """A sampler of ``n`` positive draws with mean 1 for a handle-time or delay ``spec``
    (``cv``: the coefficient of variation of ``lognormal`` and ``gamma``; ``shape``: the
    ``empirical`` handle times scaled to mean 1)."""
    if spec.distribution == "exponential":
        return lambda rng, n: rng.exponential(1.0, n)
    if spec.distribution == "deterministic":
        return lambda rng, n: np.ones(n)
    if spec.distribution == "lognormal":
        assert spec.cv is not None
        sigma2 = math.log1p(spec.cv * spec.cv)
        mu, sigma = -sigma2 / 2.0, math.sqrt(sigma2)
        return lambda rng, n: rng.lognormal(mu, sigma, n)
    if spec.distribution == "gamma":
        assert spec.cv is not None
        k = 1.0 / (spec.cv * spec.cv)
        return lambda rng, n: rng.gamma(k, 1.0 / k, n)
    assert shape is not None
    data = np.asarray(shape)
    return lambda rng, n: rng.choice(data, n)


class QueueDraws:
    """Per-queue draws for a batch of arrivals (one interval, or one retrial)."""

    def __init__(self, behaviour: QueueBehaviour) -> None:
        self.unit = unit_sampler(behaviour.handle, behaviour.handle_shape)
        self.patience = behaviour.patience_mean
        self.patience_curve = behaviour.patience_curve
        self.tiers = behaviour.tiers
        self.tier_cum = np.cumsum(behaviour.tier_shares)
        self.tier_cum[-1] = 1.0
        self.retrial_p = behaviour.retrial_probability
        self._delay_unit = unit_sampler(behaviour.retrial_delay)
        self._delay_mean = behaviour.retrial_delay.mean_seconds
        self.max_attempts = behaviour.max_attempts or math.inf
        self.callback_p = behaviour.callback_acceptance

    def handle(self, rng: np.random.Generator, n: int, aht: float) -> np.ndarray:
        return self.unit(rng, n) * aht

    def retrial_delay(self, rng: np.random.Generator) -> float:
        return float(self._delay_unit(rng, 1)[0]) * self._delay_mean

    def patience_draws(self, rng: np.random.Generator, n: int) -> np.ndarray | None:
        if self.patience_curve is not None:
            return self.patience_curve.sample(rng, n)
        if self.patience is None:
            return None
        return rng.exponential(self.patience, n)

    def tier_draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Indices into ``tiers``."""
        if len(self.tiers) == 1:
            return np.zeros(n, dtype=np.int64)
        return np.searchsorted(self.tier_cum, rng.random(n), side="right")


def arrival_counts(rng: np.random.Generator, expected: np.ndarray, process: str) -> np.ndarray:
    """Contacts per queue in one interval: Poisson, or the forecast with random rounding."""
    if process == "poisson":
        return np.asarray(rng.poisson(expected), dtype=np.int64)
    base = np.floor(expected)
    extra = rng.random(expected.shape) < expected - base
    return np.asarray(base + extra, dtype=np.int64)
