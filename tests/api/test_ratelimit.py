"""The sliding-window limiter behind login and chat-start limits."""

from __future__ import annotations

from contactcenter.api.ratelimit import Limiter


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
