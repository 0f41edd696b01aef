"""The voice fixtures' own promises: a phone (SIPp) gets every media port it binds."""

from __future__ import annotations

import contextlib
import socket

from tests.voice.harness import free_media_port


def test_a_media_port_comes_with_the_three_ports_sipp_binds_after_it() -> None:
    """SIPp's ``-mp N`` binds N to N+3 (audio, video and their RTCP). With every fifth port
    of the range taken, the only bases whose next three are free are those just after a
    taken one: every base found is one (a single free port would be any of the others)."""
    held: list[socket.socket] = []
    try:
        for port in range(61000, 65536, 5):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(s)
            with contextlib.suppress(OSError):  # (taken by someone else: taken all the same)
                s.bind(("127.0.0.1", port))
        bases = {free_media_port() for _ in range(30)}
    finally:
        for s in held:
            s.close()
    assert {b % 5 for b in bases} == {1}, sorted(bases)
