"""Erlang B / C / A against published tables and independent high-precision references.

The references below share no code with ``sim.erlang``: Erlang B and C use the textbook
sums A**k / k! in exact fractions or 60-digit decimals, and Erlang A uses the
birth-death chain of M/M/c+M with per-state answer probabilities and waiting-time
distributions, rather than the integral formulas of the module.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.erlang import (
    ErlangResult,
    asa_c,
    erlang_a,
    erlang_a_levels,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    occupancy_c,
    required_agents,
    service_level_c,
)

# --------------------------------------------------------------------------- references


def exact_erlang_b(servers: int, traffic: Fraction) -> Fraction:
    """B = (A^c / c!) / sum_{k<=c} A^k / k!, exactly."""
    terms = [traffic**k / math.factorial(k) for k in range(servers + 1)]
    return terms[-1] / sum(terms)


def exact_erlang_c(servers: int, traffic: Fraction) -> Fraction:
    """C = (A^c/c! * c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! * c/(c-A)), exactly."""
    terms = [traffic**k / math.factorial(k) for k in range(servers)]
    queued = traffic**servers / math.factorial(servers) * servers / (servers - traffic)
    return queued / (sum(terms) + queued)


def decimal_erlang_bc(servers: int, traffic: int) -> tuple[Decimal, Decimal]:
    """Erlang B and C from the textbook sums in 60-digit decimals (huge c is fine)."""
    with localcontext() as ctx:
        ctx.prec = 60
        load = Decimal(traffic)
        term = Decimal(1)
        below = Decimal(0)  # sum_{k<c} A^k / k!
        for k in range(1, servers + 1):
            below += term
            term = term * load / k
        blocking = term / (below + term)
        queued = term * servers / (servers - load)
        return blocking, queued / (below + queued)


class Chain:
    """M/M/c+M as a birth-death chain: birth lam, death n*mu (n <= c), c*mu + (n-c)*theta."""

    def __init__(self, servers: int, traffic: float, aht: float, patience: float) -> None:
        self.c = servers
        self.mu = 1.0 / aht
        self.lam = traffic / aht
        self.theta = 1.0 / patience
        weights = [1.0]
        n = 0
        while True:  # unnormalised pi_n, scaled down whenever they grow large
            n += 1
            death = n * self.mu if n <= servers else servers * self.mu + (n - servers) * self.theta
            weights.append(weights[-1] * self.lam / death)
            if weights[-1] > 1e200:
                weights = [w * 1e-200 for w in weights]
            if n > servers and self.lam / death < 0.5 and weights[-1] < 1e-30 * max(weights):
                break
        total = sum(weights)
        self.pi = [w / total for w in weights]
        self.queue = self.pi[servers:]  # queue[k]: an arrival finds k contacts waiting

    def prob_wait(self) -> float:
        return sum(self.queue)

    def mean_queue(self) -> float:
        return sum(k * p for k, p in enumerate(self.queue))

    def answer_prob(self, k: int) -> float:
        """With k ahead the contact passes k+1 stages; stage j (j ahead) is left at rate
        c*mu + j*theta and abandoned at rate theta, so the product telescopes."""
        c_mu = self.c * self.mu
        return c_mu / (c_mu + (k + 1) * self.theta)

    def prob_abandon(self) -> float:
        return sum(p * (1.0 - self.answer_prob(k)) for k, p in enumerate(self.queue))

    def asa(self) -> float:
        """Given answered, the wait is a sum of Exp(c*mu + i*theta), i = 1..k+1."""
        c_mu = self.c * self.mu
        total = 0.0
        mean_stages = 0.0
        for k, p in enumerate(self.queue):
            mean_stages += 1.0 / (c_mu + (k + 1) * self.theta)
            total += p * self.answer_prob(k) * mean_stages
        return total / (1.0 - self.prob_abandon())

    def service_level(self, target: float) -> float:
        """P(no wait) + sum_k P(k ahead) P(answered) P(hypoexponential wait <= t).

        The hypoexponential CDF with distinct rates r_i is
        1 - sum_i prod_{j != i} r_j / (r_j - r_i) exp(-r_i t); the alternating sum is
        evaluated in 80-digit decimals so that cancellation cannot hurt.
        """
        with localcontext() as ctx:
            ctx.prec = 80
            c_mu = Decimal(self.c) * Decimal(self.mu)
            theta = Decimal(self.theta)
            t = Decimal(target)
            result = Decimal(sum(self.pi[: self.c]))
            for k, p in enumerate(self.queue):
                if p < 1e-25:
                    continue
                rates = [c_mu + i * theta for i in range(1, k + 2)]
                tail = Decimal(0)
                for i, r_i in enumerate(rates):
                    coefficient = Decimal(1)
                    for j, r_j in enumerate(rates):
                        if j != i:
                            coefficient *= r_j / (r_j - r_i)
                    tail += coefficient * (-r_i * t).exp()
                result += Decimal(p) * Decimal(self.answer_prob(k)) * (1 - tail)
            return float(result)


# --------------------------------------------------------------------------- Erlang B


@pytest.mark.parametrize(
    ("servers", "traffic", "published"),
    [(10, 5, 0.01838), (5, 2, 0.03670), (20, 15, 0.04559)],
)
def test_erlang_b_matches_table_and_exact_formula(
    servers: int, traffic: int, published: float
) -> None:
    exact = float(exact_erlang_b(servers, Fraction(traffic)))
    assert round(exact, 5) == published  # the reference itself agrees with the table
    assert erlang_b(servers, traffic) == pytest.approx(exact, rel=1e-13)
    assert round(erlang_b(servers, traffic), 5) == published


@pytest.mark.parametrize(
    ("servers", "grade", "table_traffic"),
    [(10, 0.01, "4.46"), (20, 0.01, "12.03"), (50, 0.02, "40.25")],
)
def test_erlang_b_traffic_tables(servers: int, grade: float, table_traffic: str) -> None:
    # A traffic table lists the largest load (in steps of 0.01 E) that keeps the grade.
    load = Fraction(table_traffic)
    assert (
        exact_erlang_b(servers, load)
        <= Fraction(grade)
        < exact_erlang_b(servers, load + Fraction(1, 100))
    )
    assert erlang_b(servers, float(load)) <= grade < erlang_b(servers, float(load) + 0.01)


def test_erlang_b_against_exact_grid() -> None:
    for servers in (1, 2, 7, 30, 75):
        for traffic in (Fraction(1, 10), Fraction(3, 2), Fraction(20), Fraction(160, 3)):
            exact = float(exact_erlang_b(servers, traffic))
            assert erlang_b(servers, float(traffic)) == pytest.approx(exact, rel=1e-12)


def test_erlang_b_edge_cases() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(5, 0.0) == 0.0
    assert erlang_b(1, 1.0) == 0.5


def test_erlang_b_thousands_of_servers() -> None:
    blocking, _ = decimal_erlang_bc(5000, 4900)
    start = time.perf_counter()
    value = erlang_b(5000, 4900.0)
    assert time.perf_counter() - start < 0.5
    assert value == pytest.approx(float(blocking), rel=1e-11)
    assert 0.0 < value < 0.01


# --------------------------------------------------------------------------- Erlang C


def test_erlang_c_worked_example_ten_erlangs() -> None:
    # The common worked example: 100 calls per 30 minutes, AHT 180 s -> A = 10 E, target
    # 80 % in 20 s. Exact values (fractions): P(wait) 28.53 % / SL 79.56 % with 13 agents
    # and 17.41 % / 88.84 % / ASA 7.8 s with 14 agents, the first to reach 80/20.
    for agents in range(11, 18):
        exact = exact_erlang_c(agents, Fraction(10))
        c = float(exact)
        assert erlang_c(agents, 10.0) == pytest.approx(c, rel=1e-12)
        assert service_level_c(agents, 10.0, 180.0, 20.0) == pytest.approx(
            1.0 - c * math.exp(-(agents - 10) * 20 / 180), rel=1e-12
        )
        assert asa_c(agents, 10.0, 180.0) == pytest.approx(c * 180 / (agents - 10), rel=1e-12)
    assert round(erlang_c(13, 10.0), 4) == 0.2853
    assert round(service_level_c(13, 10.0, 180.0, 20.0), 4) == 0.7956
    assert round(erlang_c(14, 10.0), 4) == 0.1741
    assert round(service_level_c(14, 10.0, 180.0, 20.0), 4) == 0.8884
    assert round(asa_c(14, 10.0, 180.0), 1) == 7.8

    result = erlang_c_metrics(100, 1800, 180, 20, 13)
    assert result == ErlangResult(
        agents=13,
        traffic_erlangs=10.0,
        prob_wait=erlang_c(13, 10.0),
        service_level=service_level_c(13, 10.0, 180.0, 20.0),
        asa_seconds=asa_c(13, 10.0, 180.0),
        occupancy=10 / 13,
        prob_abandon=None,
    )


def test_erlang_c_westbay_example() -> None:
    # The scenario of the erlang.com Erlang C walk-through: 360 calls per half hour,
    # 240 s calls, 55 agents, 15 s target -> A = 48 E, occupancy 0.873. Expected values
    # come from the exact formula (P(wait) 0.2387, SL 84.59 %, ASA 8.2 s).
    exact = float(exact_erlang_c(55, Fraction(48)))
    result = erlang_c_metrics(360, 1800, 240, 15, 55)
    assert result.traffic_erlangs == 48.0
    assert round(result.occupancy, 3) == 0.873
    assert result.prob_wait == pytest.approx(exact, rel=1e-12)
    assert round(result.prob_wait, 4) == 0.2387
    assert result.service_level == pytest.approx(1 - exact * math.exp(-7 * 15 / 240), rel=1e-12)
    assert result.asa_seconds == pytest.approx(exact * 240 / 7, rel=1e-12)


def test_erlang_c_unstable_and_idle() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(10, 12.5) == 1.0
    assert service_level_c(10, 12.5, 180.0, 20.0) == 0.0
    assert asa_c(10, 10.0, 180.0) == math.inf
    assert occupancy_c(10, 12.5) == 1.0
    assert erlang_c(3, 0.0) == 0.0
    assert service_level_c(3, 0.0, 180.0, 0.0) == 1.0
    assert asa_c(3, 0.0, 180.0) == 0.0


def test_erlang_c_thousands_of_servers() -> None:
    _, queued = decimal_erlang_bc(5000, 4900)
    start = time.perf_counter()
    result = erlang_c_metrics(4900 * 10, 1800, 180, 20, 5000)  # 49 000 calls per 30 min
    assert time.perf_counter() - start < 0.5
    c = float(queued)
    assert result.traffic_erlangs == pytest.approx(4900.0, rel=1e-15)
    assert result.prob_wait == pytest.approx(c, rel=1e-10)
    assert result.service_level == pytest.approx(1 - c * math.exp(-100 * 20 / 180), rel=1e-10)
    assert result.asa_seconds == pytest.approx(c * 180 / 100, rel=1e-10)
    assert result.occupancy == pytest.approx(0.98, rel=1e-15)
    assert 0.0 < result.prob_wait < 1.0


# --------------------------------------------------------------------------- Erlang A


@pytest.mark.parametrize(
    ("servers", "traffic", "aht", "patience", "target"),
    [
        (3, 2.0, 180.0, 120.0, 20.0),  # light load
        (13, 10.0, 180.0, 300.0, 20.0),  # the 10 E example with patient callers
        (10, 12.0, 180.0, 60.0, 20.0),  # overloaded
        (4, 4.0, 60.0, 15.0, 30.0),  # critically loaded, impatient callers
    ],
)
def test_erlang_a_matches_birth_death_chain(
    servers: int, traffic: float, aht: float, patience: float, target: float
) -> None:
    chain = Chain(servers, traffic, aht, patience)
    result = erlang_a(servers, traffic, aht, patience, target)
    assert result.prob_wait == pytest.approx(chain.prob_wait(), rel=1e-10)
    assert result.prob_abandon == pytest.approx(chain.prob_abandon(), rel=1e-10)
    assert result.asa_seconds == pytest.approx(chain.asa(), rel=1e-10)
    assert result.service_level == pytest.approx(chain.service_level(target), rel=1e-10)
    carried = traffic * (1.0 - chain.prob_abandon())
    assert result.occupancy == pytest.approx(carried / servers, rel=1e-10)


@settings(max_examples=40, deadline=None)
@given(
    servers=st.integers(1, 40),
    load=st.floats(0.05, 1.6),
    aht=st.floats(20.0, 900.0),
    patience_in_ahts=st.floats(0.05, 10.0),
    target=st.floats(0.0, 120.0),
)
def test_erlang_a_matches_the_chain_anywhere(
    servers: int, load: float, aht: float, patience_in_ahts: float, target: float
) -> None:
    """The closed forms (incomplete gamma functions on either side of their mode) against
    the birth-death chain from light to heavy load, impatient to patient callers. The chain's
    service level (an alternating sum, even in 80 digits) is only exact for callers about as
    patient as a call is long, so it is compared there."""
    traffic, patience = servers * load, aht * patience_in_ahts
    assume((traffic - servers) * patience_in_ahts < 20)  # the mean queue in overload
    chain = Chain(servers, traffic, aht, patience)
    result = erlang_a(servers, traffic, aht, patience, target)
    assert result.prob_wait == pytest.approx(chain.prob_wait(), rel=1e-9, abs=1e-14)
    assert result.prob_abandon == pytest.approx(chain.prob_abandon(), rel=1e-9, abs=1e-14)
    if patience_in_ahts <= 1.5:
        assert result.service_level == pytest.approx(chain.service_level(target), rel=1e-9)
    assert result.asa_seconds == pytest.approx(chain.asa(), rel=1e-8, abs=1e-12)


@pytest.mark.parametrize(
    ("servers", "traffic", "patience"),
    [(3, 2.0, 120.0), (13, 10.0, 300.0), (10, 12.0, 60.0), (60, 70.0, 30.0), (50, 49.0, 900.0)],
)
def test_erlang_a_abandonment_obeys_littles_law(
    servers: int, traffic: float, patience: float
) -> None:
    # Waiting contacts abandon at rate theta each: lam * P(abandon) = theta * E[queue].
    chain = Chain(servers, traffic, 180.0, patience)
    result = erlang_a(servers, traffic, 180.0, patience, 20.0)
    assert result.prob_abandon is not None
    lam = traffic / 180.0
    assert result.prob_abandon == pytest.approx(chain.mean_queue() / patience / lam, rel=1e-10)


@pytest.mark.parametrize(("servers", "traffic"), [(11, 10.0), (13, 10.0), (14, 10.0), (55, 48.0)])
def test_erlang_a_with_endless_patience_is_erlang_c(servers: int, traffic: float) -> None:
    aht, target = 180.0, 20.0
    result = erlang_a(servers, traffic, aht, 1e9, target)
    assert result.prob_abandon is not None
    assert result.prob_abandon < 1e-6
    assert abs(result.prob_wait - erlang_c(servers, traffic)) < 1e-6
    assert abs(result.service_level - service_level_c(servers, traffic, aht, target)) < 1e-6
    assert abs(result.occupancy - traffic / servers) < 1e-6
    # ASA is in seconds and, with 11 agents, conditional waits average 180 s: patience
    # 1e9 s still shortens it by ~4e-6 relative (a real effect, not a numerical one).
    # The gap closes like 1 / patience, so at 1e11 s it is far below 1e-6.
    assert result.asa_seconds == pytest.approx(asa_c(servers, traffic, aht), rel=1e-5)
    assert erlang_a(servers, traffic, aht, 1e11, target).asa_seconds == pytest.approx(
        asa_c(servers, traffic, aht), rel=1e-7
    )
    gap_9 = asa_c(servers, traffic, aht) - result.asa_seconds
    gap_10 = (
        asa_c(servers, traffic, aht) - erlang_a(servers, traffic, aht, 1e10, target).asa_seconds
    )
    assert gap_9 > 0.0
    assert gap_10 == pytest.approx(gap_9 / 10, rel=1e-3)


def test_erlang_a_overload_stays_finite() -> None:
    for servers, traffic, patience in [(10, 15.0, 60.0), (100, 1000.0, 300.0), (1, 10.0, 1e9)]:
        result = erlang_a(servers, traffic, 180.0, patience, 20.0)
        values = [result.prob_wait, result.service_level, result.asa_seconds, result.occupancy]
        assert all(math.isfinite(v) for v in values)
        assert result.prob_abandon is not None
        assert 0.0 < result.prob_abandon < 1.0
        # an agent carries at most one Erlang, so at least 1 - c/A of the offered load abandons
        assert result.prob_abandon >= 1.0 - servers / traffic - 1e-12
        assert 0.0 <= result.service_level <= 1.0 - result.prob_abandon
        assert 0.9 < result.occupancy <= 1.0


def test_erlang_a_thousands_of_agents() -> None:
    start = time.perf_counter()
    result = erlang_a_metrics(49000, 1800, 180, 20, 5000, patience=120)
    heavy = erlang_a(4000, 4900.0, 180.0, 120.0, 20.0)
    assert time.perf_counter() - start < 1.0
    assert result.traffic_erlangs == pytest.approx(4900.0, rel=1e-15)
    assert result.prob_abandon is not None
    assert 0.0 < result.prob_abandon < 0.01
    assert 0.0 < result.prob_wait < erlang_c(5000, 4900.0)
    assert 0.99 < result.service_level < 1.0
    assert heavy.prob_abandon is not None
    assert heavy.prob_abandon == pytest.approx(1.0 - 4000 / 4900, abs=0.01)


def test_erlang_a_improves_with_every_agent() -> None:
    previous = erlang_a(1, 15.0, 180.0, 90.0, 20.0)
    for servers in range(2, 40):
        result = erlang_a(servers, 15.0, 180.0, 90.0, 20.0)
        assert result.prob_abandon is not None and previous.prob_abandon is not None
        assert result.prob_abandon < previous.prob_abandon
        assert result.service_level > previous.service_level
        assert result.prob_wait < previous.prob_wait
        previous = result


def test_erlang_a_without_traffic() -> None:
    result = erlang_a(2, 0.0, 180.0, 60.0, 20.0)
    assert (result.prob_wait, result.service_level, result.prob_abandon) == (0.0, 1.0, 0.0)
    assert (result.asa_seconds, result.occupancy) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("servers", "traffic", "patience"),
    [(13, 10.0, 300.0), (10, 12.0, 60.0), (5000, 4900.0, 120.0), (11, 10.0, 1e9), (2, 0.0, 60.0)],
)
def test_erlang_a_levels_are_erlang_a_without_asa(
    servers: int, traffic: float, patience: float
) -> None:
    """Searches judge staffings by ``erlang_a_levels``: the very numbers of ``erlang_a``,
    without the quadrature ASA needs (three quarters of its time)."""
    full = erlang_a(servers, traffic, 180.0, patience, 20.0)
    levels = erlang_a_levels(servers, traffic, 180.0, patience, 20.0)
    assert (levels.prob_wait, levels.service_level, levels.occupancy, levels.prob_abandon) == (
        full.prob_wait,
        full.service_level,
        full.occupancy,
        full.prob_abandon,
    )
    with pytest.raises(ValueError, match="patience"):
        erlang_a_levels(servers, traffic, 180.0, 0.0, 20.0)


# --------------------------------------------------------------------------- staffing


def meets(result: ErlangResult, goal: float) -> bool:
    return result.service_level >= goal


def test_required_agents_ten_erlang_example() -> None:
    result = required_agents(100, 1800, 180, 20, 80)
    assert result.agents == 14
    assert result == erlang_c_metrics(100, 1800, 180, 20, 14)
    assert erlang_c_metrics(100, 1800, 180, 20, 13).service_level < 0.8 <= result.service_level


@pytest.mark.parametrize(
    ("calls", "aht", "target", "percent"),
    [
        (100, 180, 20, 80),
        (360, 240, 15, 80),
        (37, 300, 30, 90),
        (5, 600, 60, 50),
        (2500, 200, 10, 95),
        (49000, 180, 20, 80),  # 4900 Erlangs
    ],
)
def test_required_agents_is_the_exact_minimum(
    calls: int, aht: int, target: int, percent: int
) -> None:
    goal = percent / 100
    start = time.perf_counter()
    result = required_agents(calls, 1800, aht, target, percent)
    assert time.perf_counter() - start < 1.0
    assert meets(result, goal)
    below = erlang_c_metrics(calls, 1800, aht, target, result.agents - 1)
    assert below.agents <= below.traffic_erlangs or not meets(below, goal)


def test_required_agents_occupancy_cap() -> None:
    # 14 agents meet 80/20 but run at 10/14 = 71.4 % occupancy.
    result = required_agents(100, 1800, 180, 20, 80, max_occupancy=0.7)
    assert result.agents == 15
    assert result.occupancy <= 0.7 < erlang_c_metrics(100, 1800, 180, 20, 14).occupancy
    # a cap that binds far above the service-level staffing
    capped = required_agents(100, 1800, 180, 20, 80, max_occupancy=0.4)
    assert capped.agents == 25


@pytest.mark.parametrize("patience", [60.0, 120.0, 300.0, 1800.0])
def test_required_agents_erlang_a(patience: float) -> None:
    erlang_c_staff = required_agents(100, 1800, 180, 20, 80)
    result = required_agents(100, 1800, 180, 20, 80, patience=patience)
    assert result.prob_abandon is not None
    assert result.agents <= erlang_c_staff.agents
    assert meets(result, 0.8)
    below = erlang_a_metrics(100, 1800, 180, 20, result.agents - 1, patience)
    assert not meets(below, 0.8)


def test_required_agents_erlang_a_caps() -> None:
    result = required_agents(100, 1800, 180, 20, 80, patience=300, max_abandon=0.005)
    assert result.prob_abandon is not None and result.prob_abandon <= 0.005
    below = erlang_a_metrics(100, 1800, 180, 20, result.agents - 1, 300)
    assert below.prob_abandon is not None and below.prob_abandon > 0.005
    assert meets(below, 0.8)  # the abandon cap, not the service level, set the staffing

    result = required_agents(100, 1800, 180, 20, 80, patience=120, max_occupancy=0.65)
    assert result.occupancy <= 0.65
    assert erlang_a_metrics(100, 1800, 180, 20, result.agents - 1, 120).occupancy > 0.65


def test_required_agents_erlang_a_large_and_endless_patience() -> None:
    start = time.perf_counter()
    large = required_agents(49000, 1800, 180, 20, 90, patience=120)
    patient = required_agents(100, 1800, 180, 20, 80, patience=1e9)
    assert time.perf_counter() - start < 2.0
    assert not meets(erlang_a(large.agents - 1, 4900.0, 180.0, 120.0, 20.0), 0.9)
    assert meets(large, 0.9)
    assert patient.agents == 14  # effectively Erlang C


def test_required_agents_without_calls() -> None:
    assert required_agents(0, 1800, 180, 20, 80).agents == 1
    assert required_agents(0, 1800, 180, 20, 80, patience=60).agents == 1


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"calls": -1}, "calls"),
        ({"calls": math.nan}, "calls"),
        ({"interval_seconds": 0}, "interval_seconds"),
        ({"aht": 0}, "aht"),
        ({"aht": -5}, "aht"),
        ({"target_seconds": -1}, "target_seconds"),
        ({"target_percent": 101}, "target_percent"),
        ({"target_percent": -0.5}, "target_percent"),
        ({"patience": 0}, "patience"),
        ({"patience": math.inf}, "patience"),
        ({"max_occupancy": 0}, "max_occupancy"),
        ({"max_occupancy": 1.5}, "max_occupancy"),
        ({"max_abandon": -0.1}, "max_abandon"),
    ],
)
def test_required_agents_rejects_bad_input(kwargs: dict[str, float], message: str) -> None:
    args: dict[str, float] = {
        "calls": 100,
        "interval_seconds": 1800,
        "aht": 180,
        "target_seconds": 20,
        "target_percent": 80,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        required_agents(**args)


def test_required_agents_abandon_cap_needs_patience() -> None:
    with pytest.raises(ValueError, match="max_abandon needs patience"):
        required_agents(100, 1800, 180, 20, 80, max_abandon=0.05)


def test_formulas_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="servers"):
        erlang_b(-1, 2.0)
    with pytest.raises(ValueError, match="servers"):
        erlang_c(0, 2.0)
    with pytest.raises(ValueError, match="servers"):
        erlang_c(2.5, 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="traffic"):
        erlang_b(3, -0.1)
    with pytest.raises(ValueError, match="traffic"):
        erlang_c(3, math.inf)
    with pytest.raises(ValueError, match="aht"):
        service_level_c(3, 1.0, 0.0, 20.0)
    with pytest.raises(ValueError, match="patience"):
        erlang_a(3, 1.0, 180.0, -1.0, 20.0)
    with pytest.raises(ValueError, match="calls"):
        erlang_c_metrics(-5, 1800, 180, 20, 3)
    with pytest.raises(ValueError, match="interval_seconds"):
        erlang_a_metrics(5, 0, 180, 20, 3, 60)
