"""The sliding-window limiter behind the login, chat-start and chat-line limits, and the
client address they count under."""

from __future__ import annotations

from contactcenter.api.ratelimit import Limiter, client_address


def test_window_slides() -> None:
    now = [0.0]
    lim = Limiter(3, 60.0, clock=lambda: now[0])
    for _ in range(3):
        assert lim.retry_after("k") is None
        lim.hit("k")
    assert lim.retry_after("k") == 60.0
    assert lim.retry_after("other") is None
    now[0] = 30.0
    assert lim.retry_after("k") == 30.0
    now[0] = 60.0
    assert lim.retry_after("k") is None
    lim.hit("k")
    lim.reset("k")
    assert lim.retry_after("k") is None


def test_memory_is_bounded() -> None:
    lim = Limiter(1, 60.0, clock=lambda: 0.0, max_keys=100)
    for i in range(1000):
        lim.hit(f"ip:{i}")
    assert lim.retry_after("ip:999") is not None
    assert lim.retry_after("ip:0") is None  # forgotten first


def test_hits_may_weigh_more_than_one() -> None:
    """Bytes per window: a hit weighs its size; the wait is until enough old bytes left."""
    now = [0.0]
    lim = Limiter(1000, 60.0, clock=lambda: now[0])
    lim.hit("k", 600)
    now[0] = 10.0
    lim.hit("k", 300)
    assert lim.retry_after("k", 100) is None
    assert lim.retry_after("k", 101) == 50.0  # once the 600 of t=0 have left
    assert lim.retry_after("k", 800) == 60.0  # once both have left
    assert lim.retry_after("k", 1001) == 60.0  # never fits: the whole window
    now[0] = 60.0
    assert lim.retry_after("k", 700) is None


def test_client_addresses() -> None:
    """An IPv6 client is its /64 (all of which one subscriber, or attacker, may use)."""
    assert client_address("192.0.2.7") == "192.0.2.7"
    assert client_address("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_address("2001:db8:1:2:aaaa::1") == client_address("2001:db8:1:2:bbbb::9")
    assert client_address("2001:db8:1:2::1") != client_address("2001:db8:1:3::1")
    assert client_address(None) == "?"
