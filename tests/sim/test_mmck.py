"""Blocking in M/M/c/K (c agents, K lines: a call finding K calls in the center is blocked),
against exact rational arithmetic, the M/M/1/K closed form and Erlang B."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from sim.erlang import erlang_b, mmck_blocking


def exact_blocking(servers: int, capacity: int, traffic: Fraction) -> Fraction:
    """p_K of the birth-death chain: p_n ~ A^n / n! up to c, then times (A / c)^(n - c)."""
    weights = []
    for n in range(capacity + 1):
        w = traffic**n / math.factorial(min(n, servers))
        if n > servers:
            w /= Fraction(servers) ** (n - servers)
        weights.append(w)
    return weights[-1] / sum(weights)


def test_two_agents_three_lines_at_one_erlang_is_one_in_eleven() -> None:
    # p0 : p1 : p2 : p3 = 1 : 1 : 1/2 : 1/4, so p3 = (1/4) / (11/4).
    assert mmck_blocking(2, 3, 1.0) == pytest.approx(1 / 11, rel=1e-14)


@pytest.mark.parametrize(("rho", "capacity"), [(0.5, 3), (0.9, 10), (1.5, 6), (1.0, 4)])
def test_one_agent_is_the_m_m_1_k_closed_form(rho: float, capacity: int) -> None:
    if rho == 1.0:
        expected = 1 / (capacity + 1)
    else:
        expected = (1 - rho) * rho**capacity / (1 - rho ** (capacity + 1))
    assert mmck_blocking(1, capacity, rho) == pytest.approx(expected, rel=1e-12)


def test_as_many_lines_as_agents_is_erlang_b() -> None:
    for servers, traffic in ((1, 0.5), (5, 3.0), (30, 25.0), (200, 180.0)):
        assert mmck_blocking(servers, servers, traffic) == pytest.approx(
            erlang_b(servers, traffic), rel=1e-12
        )


def test_against_exact_grid() -> None:
    for servers in (1, 2, 7, 30):
        for extra in (0, 1, 5, 40):
            for traffic in (Fraction(1, 10), Fraction(3, 2), Fraction(20), Fraction(45)):
                k = servers + extra
                exact = float(exact_blocking(servers, k, traffic))
                got = mmck_blocking(servers, k, float(traffic))
                assert got == pytest.approx(exact, rel=1e-10), (servers, k, traffic)


def test_large_and_overloaded_systems_stay_finite() -> None:
    # Overloaded with many lines: the agents carry c Erlangs, the rest is blocked.
    assert mmck_blocking(50, 5000, 100.0) == pytest.approx(0.5, rel=1e-9)
    # Lightly loaded with many lines: hardly anyone is blocked, and nothing overflows.
    assert 0.0 <= mmck_blocking(2000, 100_000, 1500.0) < 1e-300
    assert mmck_blocking(2000, 2100, 1500.0) < 1e-12


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="capacity"):
        mmck_blocking(5, 4, 1.0)
    with pytest.raises(ValueError):
        mmck_blocking(0, 4, 1.0)
    with pytest.raises(ValueError):
        mmck_blocking(2, 4, -1.0)
