"""Random input sequences against the example flows: the session keeps the driver protocol.

A model of the driver tracks what it was told (a prompt playing, the timer running, a lookup
or queue state owed). Whatever inputs arrive, in any order, the session either returns
actions that fit that model or refuses the input with ``InvalidInput`` and stays as it was.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from contactcenter.config import load_center
from contactcenter.ivr import (
    CancelTimer,
    CollectDigits,
    CustomerInfo,
    Enqueue,
    Flows,
    HangUp,
    InvalidInput,
    Lookup,
    Play,
    QueryQueueState,
    QueueStatus,
    RequestCallback,
    Session,
    StartTimer,
    State,
    StopPlayback,
    Transfer,
    load_flows,
)
from contactcenter.ivr.flow import KEYS
from tests.ivr.conftest import EXAMPLE, berlin

CUSTOMERS = [
    None,
    CustomerInfo("C1001", "Helena Brandt", "vip", "a01"),
    CustomerInfo("C1005", "Ingrid Sorensen", "gold", "a02"),
    CustomerInfo("C1008", "Jan Novak", "standard"),
]

inputs = st.one_of(
    st.tuples(st.just("digit"), st.sampled_from(KEYS)),
    st.tuples(st.just("prompt_finished")),
    st.tuples(st.just("timeout")),
    st.tuples(st.just("lookup"), st.sampled_from(CUSTOMERS)),
    st.tuples(
        st.just("queue"),
        st.integers(0, 5),
        st.one_of(st.none(), st.floats(0, 1000, allow_nan=False)),
    ),
)
moments = st.sampled_from(
    [
        berlin(2026, 11, 23, 10, 0),
        berlin(2026, 11, 23, 21, 0),
        berlin(2026, 12, 25, 11, 0),
        berlin(2026, 12, 24, 10, 0),
    ]
)


@functools.cache
def example_flows() -> Flows:
    return load_flows(EXAMPLE, load_center(EXAMPLE))


@dataclass
class Driver:
    playing: bool = False
    timer: bool = False
    lookup: bool = False
    queue: str | None = None
    ended: bool = False

    def apply(self, actions: list[object]) -> None:
        assert sum(isinstance(a, Play) for a in actions) <= 1
        for i, action in enumerate(actions):
            assert not self.ended
            if isinstance(action, Play):
                assert not self.playing
                self.playing = True
            elif isinstance(action, StopPlayback):
                assert self.playing
                self.playing = False
            elif isinstance(action, StartTimer):
                assert action.seconds > 0
                self.timer = True
            elif isinstance(action, CancelTimer):
                assert self.timer
                self.timer = False
            elif isinstance(action, Lookup):
                self.lookup = True
            elif isinstance(action, QueryQueueState):
                self.queue = action.queue
            elif isinstance(action, Enqueue | Transfer | HangUp):
                assert i == len(actions) - 1, "a final action comes last"
                assert not self.timer and not self.playing
                self.ended = True
            else:
                assert isinstance(action, CollectDigits | RequestCallback)


def check(session: Session, driver: Driver) -> None:
    assert session.timer_running == driver.timer
    playing = session.state in (State.PLAYING, State.PROMPTING)
    assert playing == driver.playing
    assert (session.state is State.LOOKING_UP) == driver.lookup
    assert (session.state is State.QUERYING_QUEUE) == (driver.queue is not None)
    assert (session.state is State.ENDED) == driver.ended == (session.outcome is not None)
    assert not (driver.timer and driver.playing)


@settings(max_examples=300, deadline=None)
@given(
    flow=st.sampled_from(["main", "chat"]),
    caller=st.sampled_from(["", "+4930555010001", "+4930555099999"]),
    now=moments,
    steps=st.lists(inputs, max_size=40),
)
def test_random_inputs_keep_the_protocol(
    flow: str, caller: str, now: dt.datetime, steps: list[tuple[object, ...]]
) -> None:
    session = example_flows().session(flow, {"caller": caller, "customer_id": "C1001"})
    driver = Driver()
    driver.apply(list(session.start(now)))
    check(session, driver)
    for step in steps:
        kind = step[0]
        before = (session.state, session.node, session.variables, session.timer_running)
        try:
            if kind == "digit":
                assert isinstance(step[1], str)
                actions = session.digit(step[1])
            elif kind == "prompt_finished":
                actions = session.prompt_finished()
                driver.playing = False
            elif kind == "timeout":
                actions = session.timeout()
                driver.timer = False
            elif kind == "lookup":
                assert step[1] is None or isinstance(step[1], CustomerInfo)
                actions = session.lookup_result(step[1])
                driver.lookup = False
            else:
                wait = step[2]
                assert isinstance(step[1], int) and (wait is None or isinstance(wait, float))
                queue = driver.queue or "support"
                actions = session.queue_state_result(QueueStatus(queue, step[1], wait))
                driver.queue = None
        except InvalidInput:
            assert (session.state, session.node, session.variables, session.timer_running) == (
                before
            )
            # The input was refused: it must have been one the driver did not owe.
            owed = {
                "prompt_finished": driver.playing,
                "timeout": driver.timer,
                "lookup": driver.lookup,
                "queue": driver.queue is not None,
                "digit": not driver.ended,
            }
            assert not owed[str(kind)], f"{kind} refused although owed in {session.state}"
            continue
        driver.apply(list(actions))
        check(session, driver)
