"""First-contact resolution from stored contacts at chosen times: a repeat inside the window,
one outside it, another queue, anonymous and merely claimed identities, call backs, the agent
of the first contact, first contacts nobody answered, and windows still open."""

from __future__ import annotations

from contactcenter.events import ContactAnswered, ContactCompleted, ContactQueued, Event
from contactcenter.kpi import Fcr
from contactcenter.store import Store
from contactcenter.store.fcr import fcr_between

DAY = 86_400.0
WEEK = 7 * DAY
T0 = 1_700_000_000.0


async def contact(
    store: Store,
    cid: str,
    at: float,
    customer: str | None,
    agent: str | None,
    *,
    queue: str = "support_chat",
    verified: bool = True,
) -> None:
    """A contact of ``customer`` arriving at ``at`` in ``queue``, handled by ``agent`` (None:
    it ended unanswered)."""
    await store.create_contact(
        cid, channel="chat", queue=queue, arrived_wall=at, customer_id=customer,
        tier="standard", verified=verified and customer is not None,
    )  # fmt: skip
    events: list[Event] = [ContactQueued(0, cid, queue, "chat", 0, "standard", 0, 1)]
    if agent is not None:
        events += [
            ContactAnswered(0, cid, queue, "chat", agent, 5.0, 1),
            ContactCompleted(0, cid, queue, "chat", agent, 60.0),
        ]
    await store.record_events(events, at + 60)
    if agent is None:
        await store.mark_ended(cid, at + 60, "customer_left")


async def test_repeats_inside_the_window_outside_it_and_elsewhere(store: Store) -> None:
    # C1: handled by a05, back 3 days later (a repeat: not resolved), handled by a06
    await contact(store, "c1-1", T0, "C1", "a05")
    await contact(store, "c1-2", T0 + 3 * DAY, "C1", "a06")
    # C2: handled by a05, back after 8 days: resolved; the later one is a first contact too
    await contact(store, "c2-1", T0 + 100, "C2", "a05")
    await contact(store, "c2-2", T0 + 100 + 8 * DAY, "C2", "a06")
    # C3: handled by a06, then a contact about another queue: resolved
    await contact(store, "c3-1", T0 + 200, "C3", "a06")
    await contact(store, "c3-2", T0 + 200 + DAY, "C3", "a05", queue="billing_chat")
    # C4: nobody answered and the customer never came back: a first contact, not resolved
    await contact(store, "c4-1", T0 + 300, "C4", None)
    # anonymous and claimed contacts count neither way (twice each, as if repeated)
    for n in (1, 2):
        await contact(store, f"anon-{n}", T0 + n * DAY, None, "a05")
        await contact(store, f"claim-{n}", T0 + n * DAY, "C5", "a05", verified=False)

    report = await fcr_between(store, T0, T0 + DAY, window=WEEK, now_wall=T0 + 30 * DAY)
    assert report.queues == {"support_chat": Fcr(4, 2)}  # c1-1 no, c2-1 yes, c3-1 yes, c4-1 no
    assert report.agents == {"a05": Fcr(2, 1), "a06": Fcr(1, 1)}
    assert report.provisional == {}
    assert report.queues["support_chat"].rate() == 0.5

    # the next period: c1-2 is a repeat (not counted), c3-2 a first contact of billing_chat
    later = await fcr_between(store, T0 + DAY, T0 + 9 * DAY, window=WEEK, now_wall=T0 + 30 * DAY)
    assert later.queues == {"support_chat": Fcr(1, 1), "billing_chat": Fcr(1, 1)}  # c2-2, c3-2
    assert later.agents == {"a06": Fcr(1, 1), "a05": Fcr(1, 1)}

    # a shorter window: c1-2 (3 days after) is no repeat of c1-1 any more
    short = await fcr_between(store, T0, T0 + DAY, window=2 * DAY, now_wall=T0 + 30 * DAY)
    assert short.queues == {"support_chat": Fcr(4, 3)}


async def test_a_window_still_open_is_provisional(store: Store) -> None:
    await contact(store, "p-1", T0, "C1", "a05")
    report = await fcr_between(store, T0, T0 + DAY, window=WEEK, now_wall=T0 + 2 * DAY)
    assert report.queues == {"support_chat": Fcr(1, 1)}
    assert report.provisional == {"support_chat": 1}
    # the customer comes back within the window: it was not resolved after all
    await contact(store, "p-2", T0 + 3 * DAY, "C1", "a06")
    report = await fcr_between(store, T0, T0 + DAY, window=WEEK, now_wall=T0 + 4 * DAY)
    assert report.queues == {"support_chat": Fcr(1, 0)}


async def test_a_repeat_just_before_the_period_makes_its_contacts_repeats(store: Store) -> None:
    # contacts chain: each within the window of the one before, the first before the period
    for n, at in enumerate((T0 - 10 * DAY, T0 - 4 * DAY, T0 + DAY)):
        await contact(store, f"k-{n}", at, "C1", "a05")
    report = await fcr_between(store, T0, T0 + 2 * DAY, window=WEEK, now_wall=T0 + 30 * DAY)
    assert report.queues == {}
