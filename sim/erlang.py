"""Analytic queueing formulas: Erlang B, Erlang C and Erlang A (M/M/c+M), and blocking in
M/M/c/K (agents and a limited number of trunk lines).

The SimPy planner is the reference model of a center; these closed forms give an
instant first estimate, a sanity check for simulation results and a starting point
for staffing searches. Times are seconds; traffic is the offered load in Erlangs
(arrival rate x average handle time, AHT).

Terms, one meaning each:

* service level: share of *offered* contacts answered within the target time;
  a contact that abandons counts as not answered (Erlang A).
* ASA (average speed of answer): mean wait of *answered* contacts, zero waits included.
* occupancy: carried load per agent, i.e. the share of time an agent is busy.
* patience: mean time a waiting contact tolerates before abandoning (exponential).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import quad
from scipy.special import gammainc, gammaln, hyp1f1

__all__ = [
    "ErlangLevels",
    "ErlangResult",
    "asa_c",
    "erlang_a",
    "erlang_a_levels",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "mmck_blocking",
    "occupancy_c",
    "required_agents",
    "service_level_c",
]

# Parts of an Erlang A integrand below exp(-_TAIL_LOG) of its peak are dropped: far
# below double precision of any result, yet they keep the integration range finite.
_TAIL_LOG = 80.0
_QUAD_EPSREL = 1e-11


@dataclass(frozen=True, slots=True)
class ErlangResult:
    """Steady-state measures of one staffing level; ``prob_abandon`` is None for Erlang C."""

    agents: int
    traffic_erlangs: float
    prob_wait: float
    service_level: float
    asa_seconds: float
    occupancy: float
    prob_abandon: float | None


@dataclass(frozen=True, slots=True)
class ErlangLevels:
    """What targets judge a staffing by: ``ErlangResult`` without ASA (``erlang_a_levels``)."""

    prob_wait: float
    service_level: float
    occupancy: float
    prob_abandon: float | None


# --------------------------------------------------------------------------- validation


def _check_servers(servers: int, minimum: int) -> None:
    if isinstance(servers, bool) or not isinstance(servers, int):
        raise ValueError(f"servers must be an int, got {servers!r}")
    if servers < minimum:
        raise ValueError(f"servers must be >= {minimum}, got {servers}")


def _check_nonnegative(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _traffic(calls: float, interval_seconds: float, aht: float) -> float:
    _check_nonnegative("calls", calls)
    _check_positive("interval_seconds", interval_seconds)
    _check_positive("aht", aht)
    return calls * aht / interval_seconds


# --------------------------------------------------------------------------- Erlang B


def erlang_b(servers: int, traffic: float) -> float:
    """Blocking probability of an M/M/c/c loss system.

    Uses B(0) = 1, B(k) = A*B(k-1) / (k + A*B(k-1)): every step stays in [0, 1], so it
    neither overflows (unlike A**c / c!) nor loses precision for thousands of servers.
    """
    _check_servers(servers, 0)
    _check_nonnegative("traffic", traffic)
    blocking = 1.0
    for k in range(1, servers + 1):
        carried = traffic * blocking
        blocking = carried / (k + carried)
    return blocking


def mmck_blocking(servers: int, capacity: int, traffic: float) -> float:
    """Blocking probability of M/M/c/K: ``servers`` agents, ``capacity`` lines (calls waiting
    plus served, at least ``servers``), nobody abandons; the share of calls that find every
    line taken (Poisson arrivals see the time average).

    The states up to c are Erlang B's truncated Poisson (p_c / their sum = B = B(c, A)) and
    each state above multiplies by r = A / c, so p_K = B r^m / (1 + B (r + ... + r^m)) with
    m = K - c; for r > 1 both are divided by r^m, so no power overflows.
    """
    _check_servers(servers, 1)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < servers:
        raise ValueError(f"capacity must be an int >= servers ({servers}), got {capacity!r}")
    blocking = erlang_b(servers, traffic)
    m = capacity - servers
    if m == 0 or blocking == 0.0:
        return blocking
    r = traffic / servers
    if r == 1.0:
        return blocking / (1.0 + blocking * m)
    if r < 1.0:
        powers = r * math.expm1(m * math.log(r)) / (r - 1.0)  # r + ... + r^m
        return blocking * r**m / (1.0 + blocking * powers)
    inverse = 1.0 / r
    powers = math.expm1(m * math.log(inverse)) / (inverse - 1.0)  # 1 + ... + r^-(m-1)
    return blocking / (inverse**m + blocking * powers)


def _log_inv_erlang_b(servers: int, traffic: float) -> float:
    """log(1 / B(servers, traffic)), the same recursion in log form.

    Erlang A needs 1/B, which overflows when servers >> traffic; ``traffic`` must be > 0.
    """
    log_a = math.log(traffic)
    log_b = 0.0
    for k in range(1, servers + 1):
        log_b = log_a + log_b - math.log(k + math.exp(log_a + log_b))
    return -log_b


# --------------------------------------------------------------------------- Erlang C


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that a contact waits in M/M/c (no abandonment).

    Derived from Erlang B as C = c*B / (c - A*(1 - B)), which inherits B's stability.
    Returns 1.0 when traffic >= servers: the queue grows without bound and everyone waits.
    """
    _check_servers(servers, 1)
    _check_nonnegative("traffic", traffic)
    if traffic >= servers:
        return 1.0
    blocking = erlang_b(servers, traffic)
    return servers * blocking / (servers - traffic * (1.0 - blocking))


def service_level_c(servers: int, traffic: float, aht: float, target_seconds: float) -> float:
    """P(wait <= target) in M/M/c: 1 - C * exp(-(c - A) * t / AHT); 0.0 when unstable."""
    _check_positive("aht", aht)
    _check_nonnegative("target_seconds", target_seconds)
    prob_wait = erlang_c(servers, traffic)
    if traffic >= servers:
        return 0.0
    return 1.0 - prob_wait * math.exp(-(servers - traffic) * target_seconds / aht)


def asa_c(servers: int, traffic: float, aht: float) -> float:
    """Mean wait in M/M/c, C * AHT / (c - A); infinite when traffic >= servers."""
    _check_positive("aht", aht)
    prob_wait = erlang_c(servers, traffic)
    if traffic >= servers:
        return math.inf
    return prob_wait * aht / (servers - traffic)


def occupancy_c(servers: int, traffic: float) -> float:
    """A / c, capped at 1.0: an overloaded agent cannot be busier than all the time."""
    _check_servers(servers, 1)
    _check_nonnegative("traffic", traffic)
    return min(1.0, traffic / servers)


def _erlang_c_result(servers: int, traffic: float, aht: float, target: float) -> ErlangResult:
    return ErlangResult(
        agents=servers,
        traffic_erlangs=traffic,
        prob_wait=erlang_c(servers, traffic),
        service_level=service_level_c(servers, traffic, aht, target),
        asa_seconds=asa_c(servers, traffic, aht),
        occupancy=occupancy_c(servers, traffic),
        prob_abandon=None,
    )


def erlang_c_metrics(
    calls: float, interval_seconds: float, aht: float, target_seconds: float, agents: int
) -> ErlangResult:
    """Erlang C measures for ``calls`` offered per ``interval_seconds`` to ``agents``."""
    traffic = _traffic(calls, interval_seconds, aht)
    return _erlang_c_result(agents, traffic, aht, target_seconds)


# --------------------------------------------------------------------------- Erlang A


def _integrate(
    func: Callable[[float], float], low: float, high: float, points: list[float]
) -> float:
    """Adaptive quadrature with a purely relative tolerance (the integrands are tiny)."""
    if high <= low:
        return 0.0
    inner = sorted(p for p in points if low < p < high)
    value, _ = quad(
        func,
        low,
        high,
        points=inner or None,
        epsabs=0.0,
        epsrel=_QUAD_EPSREL,
        limit=500,
    )
    return float(value)


def _exp_tail(z: float) -> float:
    """h(z) = exp(-z) - 1 + z without cancellation near 0 (series below |z| = 1/4)."""
    if abs(z) >= 0.25:
        return math.expm1(-z) + z
    term = z * z / 2.0
    total = term
    for k in range(3, 18):
        term *= -z / k
        total += term
    return total


def _edge(psi: Callable[[float], float], limit: float, step: float, sign: float) -> float:
    """Distance from the peak (at most ``limit``) where the concave psi drops below -80."""
    while step < limit:
        if psi(sign * step) < -_TAIL_LOG:
            return step
        step *= 2.0
    return limit


def _log_w(alpha: float, x: float) -> float:
    """log W(alpha, x), W = e^x x^-alpha gamma(alpha, x) (gamma: the lower incomplete gamma
    function) = 1F1(1; alpha + 1; x) / alpha: Kummer's series where it converges quickly
    (x < alpha; there the regularized gamma can underflow while W stays moderate), the
    regularized gamma in logs past it (where the series would overflow)."""
    if x < alpha:
        return math.log(float(hyp1f1(1.0, alpha + 1.0, x)) / alpha)
    return x - alpha * math.log(x) + float(gammaln(alpha)) + math.log(float(gammainc(alpha, x)))


def erlang_a(
    servers: int, traffic: float, aht: float, patience: float, target_seconds: float
) -> ErlangResult:
    """Erlang A (M/M/c+M): Erlang C plus exponential patience with mean ``patience``.

    Source: Mandelbaum & Zeltyn, "The M/M/n+G queue: summary of performance measures"
    (2005), specialised to exponential patience (Garnett, Mandelbaum & Reiman 2002).
    With rates lam, mu = 1/AHT, theta = 1/patience and c agents, the offered wait V
    (the wait of an infinitely patient contact) has an atom P(V = 0) = E / D and density
    f(x) = lam * exp(phi(x)) / D for x > 0, where
    phi(x) = (lam/theta) * (1 - exp(-theta x)) - c*mu*x, E = 1 / B(c-1, A) and
    D = E + lam * integral(exp(phi)). A contact is answered iff its patience exceeds V, so

    * P(wait) = P(V > 0), P(abandon) = E[1 - exp(-theta V)],
    * service level = P(V = 0) + E[exp(-theta V); 0 < V <= t],
    * ASA = E[V exp(-theta V)] / P(answered).

    With y = b exp(-theta x) (a = c mu / theta, b = lam / theta) the first three are
    incomplete gamma functions: lam * int_0^inf exp(phi) = b W(a, b) and
    lam * int_0^t exp(-theta x) exp(phi) = b W(a+1, b) - y_t exp(phi(t)) W(a+1, y_t),
    y_t = b exp(-theta t) (``_log_w``), which scipy evaluates in microseconds. ASA's
    integral has no such form (``_answered_wait``). Terms are combined in logs, so thousands
    of agents and heavy overload stay finite. Cross-checked in the tests against the
    birth-death chain of M/M/c+M.
    """
    _check_erlang_a(servers, traffic, aht, patience, target_seconds)
    levels, log_d = _erlang_a_levels(servers, traffic, aht, patience, target_seconds)
    answered_wait = 0.0  # E[V exp(-theta V)]
    if levels.prob_wait > 0.0:
        mu = 1.0 / aht
        answered_wait = _answered_wait(traffic * mu, servers * mu, 1.0 / patience, log_d)
    answered = 1.0 - (levels.prob_abandon or 0.0)
    return ErlangResult(
        agents=servers,
        traffic_erlangs=traffic,
        prob_wait=levels.prob_wait,
        service_level=levels.service_level,
        asa_seconds=answered_wait / answered if answered > 0.0 else math.inf,
        occupancy=levels.occupancy,
        prob_abandon=levels.prob_abandon,
    )


def erlang_a_levels(
    servers: int, traffic: float, aht: float, patience: float, target_seconds: float
) -> ErlangLevels:
    """``erlang_a`` without ASA, whose quadrature is most of its cost: for searches that
    judge many staffings by their targets."""
    _check_erlang_a(servers, traffic, aht, patience, target_seconds)
    return _erlang_a_levels(servers, traffic, aht, patience, target_seconds)[0]


def _check_erlang_a(
    servers: int, traffic: float, aht: float, patience: float, target_seconds: float
) -> None:
    _check_servers(servers, 1)
    _check_nonnegative("traffic", traffic)
    _check_positive("aht", aht)
    _check_positive("patience", patience)
    _check_nonnegative("target_seconds", target_seconds)


def _erlang_a_levels(
    servers: int, traffic: float, aht: float, patience: float, target_seconds: float
) -> tuple[ErlangLevels, float]:
    """``erlang_a``'s levels and log D, from incomplete gamma functions."""
    if traffic == 0.0:
        return ErlangLevels(0.0, 1.0, 0.0, 0.0), 0.0
    mu = 1.0 / aht
    theta = 1.0 / patience
    c_mu = servers * mu
    a, b = c_mu / theta, traffic * mu / theta

    log_b = math.log(b)
    log_waiting = log_b + _log_w(a, b)  # log(lam J)
    log_e = _log_inv_erlang_b(servers - 1, traffic)
    log_d = float(np.logaddexp(log_e, log_waiting))
    prob_no_wait = math.exp(log_e - log_d)
    prob_wait = math.exp(log_waiting - log_d)
    prob_answered_waiting = math.exp(log_b + _log_w(a + 1.0, b) - log_d)
    answered_late = 0.0  # P(answered after waiting past the target)
    y_t = b * math.exp(-theta * target_seconds)
    if y_t > 0.0:  # (else the target is so far out that nobody waits past it)
        phi_t = -b * math.expm1(-theta * target_seconds) - c_mu * target_seconds
        answered_late = math.exp(math.log(y_t) + phi_t + _log_w(a + 1.0, y_t) - log_d)
    prob_answered = prob_no_wait + prob_answered_waiting
    service_level = prob_no_wait + max(0.0, prob_answered_waiting - answered_late)
    levels = ErlangLevels(
        prob_wait=min(1.0, prob_wait),
        service_level=min(1.0, service_level),
        occupancy=min(1.0, traffic * prob_answered / servers),
        prob_abandon=min(1.0, max(0.0, prob_wait - prob_answered_waiting)),
    )
    return levels, log_d


def _answered_wait(lam: float, c_mu: float, theta: float, log_d: float) -> float:
    """E[V exp(-theta V)] of ``erlang_a`` (D = exp(``log_d``)), by quadrature.

    phi peaks where lam * exp(-theta x) = c mu (x = 0 when stable). Around the peak, in
    u = x - peak, phi(peak + u) - phi(peak) = (r - c mu) u - (r / theta) h(theta u) with
    r = lam exp(-theta peak) and h(z) = exp(-z) - 1 + z >= 0: both terms are <= 0, so
    nothing cancels even when phi itself is ~1e7 (heavy overload, patient callers)."""
    peak = math.log(lam / c_mu) / theta if lam > c_mu else 0.0
    rate = min(lam, c_mu)
    top = lam / theta * -math.expm1(-theta * peak) - c_mu * peak

    def psi(u: float) -> float:
        return (rate - c_mu) * u - rate / theta * _exp_tail(theta * u)

    width = 1.0 / math.sqrt(rate * theta)
    if lam < c_mu:
        width = min(width, 1.0 / (c_mu - lam))
    width = min(width, 1.0 / theta)
    low = -_edge(psi, peak, width, -1.0)
    high = _edge(psi, math.inf, width, 1.0)
    points = [sign * width * 4.0**j for j in range(8) for sign in (-1.0, 1.0)]
    points.append(0.0)
    damping = math.exp(-theta * peak)  # exp(-theta x) = damping * exp(-theta u)

    def answered_wait(u: float) -> float:
        return (peak + u) * damping * math.exp(psi(u) - theta * u)

    total = _integrate(answered_wait, low, high, points)  # relative to exp(top)
    return math.exp(math.log(lam) + top - log_d) * total


def erlang_a_metrics(
    calls: float,
    interval_seconds: float,
    aht: float,
    target_seconds: float,
    agents: int,
    patience: float,
) -> ErlangResult:
    """Erlang A measures for ``calls`` offered per ``interval_seconds`` to ``agents``."""
    traffic = _traffic(calls, interval_seconds, aht)
    return erlang_a(agents, traffic, aht, patience, target_seconds)


# --------------------------------------------------------------------------- staffing


def required_agents(
    calls: float,
    interval_seconds: float,
    aht: float,
    target_seconds: float,
    target_percent: float,
    patience: float | None = None,
    max_occupancy: float | None = None,
    max_abandon: float | None = None,
) -> ErlangResult:
    """Fewest agents whose service level reaches ``target_percent`` (0-100).

    Erlang C when ``patience`` is None (only stable staffing, agents > traffic, counts),
    Erlang A otherwise. ``max_occupancy`` and ``max_abandon`` (fractions) are extra caps.
    Service level and abandonment improve and occupancy falls as agents are added, so an
    exponential then binary search from a proven lower bound finds the minimum in
    O(log n) evaluations, which keeps thousands of agents fast.
    """
    traffic = _traffic(calls, interval_seconds, aht)
    _check_nonnegative("target_seconds", target_seconds)
    if not 0.0 <= target_percent <= 100.0:
        raise ValueError(f"target_percent must be within 0-100, got {target_percent!r}")
    if patience is not None:
        _check_positive("patience", patience)
    if max_occupancy is not None and not 0.0 < max_occupancy <= 1.0:
        raise ValueError(f"max_occupancy must be within (0, 1], got {max_occupancy!r}")
    if max_abandon is not None and not 0.0 <= max_abandon <= 1.0:
        raise ValueError(f"max_abandon must be within [0, 1], got {max_abandon!r}")
    if max_abandon is not None and patience is None:
        raise ValueError("max_abandon needs patience: Erlang C has no abandonment")
    goal = target_percent / 100.0

    def evaluate(agents: int) -> ErlangResult | ErlangLevels:
        """(Erlang A: the levels only; the answer's ASA is computed once, at the end.)"""
        if patience is None:
            return _erlang_c_result(agents, traffic, aht, target_seconds)
        return _erlang_a_levels(agents, traffic, aht, patience, target_seconds)[0]

    def meets(result: ErlangResult | ErlangLevels) -> bool:
        if result.service_level < goal:
            return False
        if max_occupancy is not None and result.occupancy > max_occupancy:
            return False
        abandon = result.prob_abandon
        return max_abandon is None or abandon is None or abandon <= max_abandon

    # Every count below `lowest` provably fails, so the search may start there:
    # Erlang C needs c > A and c >= A / max_occupancy; in Erlang A the answered share
    # is carried load / A <= c / A, which bounds both service level and abandonment.
    lowest = 1
    if patience is None:
        lowest = max(lowest, math.floor(traffic) + 1)
        if max_occupancy is not None:
            lowest = max(lowest, math.floor(traffic / max_occupancy))
    else:
        lowest = max(lowest, math.floor(traffic * goal))
        if max_abandon is not None:
            lowest = max(lowest, math.floor(traffic * (1.0 - max_abandon)))
    # Far beyond any sensible staffing; also enough to bring occupancy under its cap.
    ceiling = 2 * math.ceil(traffic) + 1000
    if max_occupancy is not None:
        ceiling += math.ceil(traffic / max_occupancy)

    failing = lowest - 1  # the largest count known to fail (or below every candidate)
    candidate = lowest
    step = 1
    while True:
        if meets(evaluate(candidate)):
            break
        failing = candidate
        if candidate >= ceiling:
            raise ValueError(f"no staffing up to {ceiling} agents meets the targets")
        candidate = min(ceiling, candidate + step)
        step *= 2
    while candidate - failing > 1:
        middle = (failing + candidate) // 2
        if meets(evaluate(middle)):
            candidate = middle
        else:
            failing = middle
    if patience is None:
        return _erlang_c_result(candidate, traffic, aht, target_seconds)
    return erlang_a(candidate, traffic, aht, patience, target_seconds)
