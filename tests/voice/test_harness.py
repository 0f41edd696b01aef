"""The voice fixtures' own promises: a phone (SIPp) gets every media port it binds."""

from __future__ import annotations

import contextlib
import socket

import pytest

from tests.voice.harness import free_media_port, free_udp_range, worker_share


def test_a_media_port_comes_with_the_three_ports_sipp_binds_after_it() -> None:
    """SIPp's ``-mp N`` binds N to N+3 (audio, video and their RTCP). With every fifth port
    of the range taken, the only bases whose next three are free are those just after a
    taken one: every base found is one (a single free port would be any of the others)."""
    held: list[socket.socket] = []
    low, high = worker_share(61000, 65535)  # (other test workers' ports stay theirs)
    try:
        for port in range(low + (-low) % 5, high, 5):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(s)
            with contextlib.suppress(OSError):  # (taken by someone else: taken all the same)
                s.bind(("127.0.0.1", port))
        bases = {free_media_port() for _ in range(30)}
    finally:
        for s in held:
            s.close()
    assert {b % 5 for b in bases} == {1}, sorted(bases)


def test_ports_handed_out_are_not_handed_out_again() -> None:
    """A peer binds its ports a moment after it is given them, so the next peer must not be
    given the same ones meanwhile: a caller's SIPp once failed at start with "Unable to bind
    audio RTP socket ... errno = 98" on a port picked again at random. 300 media ranges in a
    row, none bound, share no port."""
    ports = [p for base in (free_media_port() for _ in range(300)) for p in range(base, base + 4)]
    assert len(ports) == len(set(ports))


def test_parallel_test_workers_pick_from_their_own_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist workers are separate processes: each picks ports from its own share of
    a range, so two workers never hand out the same port."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    picked = {}
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        picked[worker] = {free_udp_range(10, low=33000, high=36000) for _ in range(40)}
    for i, worker in enumerate(("gw0", "gw1", "gw2")):
        assert all(
            33000 + i * 1000 <= b and b + 10 <= 33000 + (i + 1) * 1000 for b in picked[worker]
        )
