"""A known morning of two agents of the example center (a05 Elif Fischer, a06 Farid Gomez) in
the Sales voice queue, played through the real routing core and recorded by the store as the
engine records it (each input's events at its wall time), with survey answers and a customer's
later contact: the day the assessment tests compute by hand.

``s`` is seconds after 09:25 on 5 March 2024 in the center's zone (Europe/Berlin); the 30-minute
interval edge at 09:30 is ``s = 300``.

* a05 logs in at 0. c1 (customer C9001) rings it at 30, answered 35, hung up 140 (talk 105),
  wrap-up done 155 (15). c2 (C9002) rings at 195, answered 200, handed to a06 at 485 (talk 285),
  wrap-up done 500 (15). c3 (C9003) rings at 540, declined at 550 (a no-answer); a05 goes on a
  break at once and logs out at 1500.
* a06 logs in at 450. c2 rings it at 485, answered 490, hung up 690 (talk 200), wrap-up done
  700 (10); c3, waiting since a05 declined it, rings at once: answered 710, hung up 945 (talk
  235), wrap-up done 955 (10). c4 (anonymous) rings it at 1000, and its caller hangs up at 1010
  while it rings (the customer left: no no-answer). a06 logs out at 1090.
* Surveys: c1 scores 4 (at 200), c2 2 (at 800, about a06: the last agent who answered it),
  c3 5 (at 1000). C9001 contacts Sales again two days later: c1 is not resolved first time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from contactcenter.agents import Presence
from contactcenter.config import load_center
from contactcenter.events import Event
from contactcenter.routing import Router
from contactcenter.store import Store

CONFIG = Path(__file__).resolve().parents[2] / "config"
DAY = dt.date(2024, 3, 5)
ZONE = ZoneInfo("Europe/Berlin")
BASE = dt.datetime.combine(DAY, dt.time(9, 25), ZONE).timestamp()
"""Wall time of ``s = 0``."""
MIDNIGHT = dt.datetime.combine(DAY, dt.time(), ZONE).timestamp()
INTERVAL = 1800.0


async def record_day(store: Store) -> None:
    """Play and record the morning (see the module's docstring)."""
    router = Router(load_center(CONFIG))

    async def at(s: float, call: Callable[[float], list[Event]]) -> None:
        await store.record_events(call(s), BASE + s)

    async def arrives(s: float, cid: str, customer: str | None) -> None:
        await store.create_contact(
            cid, channel="voice", queue="sales", arrived_wall=BASE + s, tier="standard",
            customer_id=customer, verified=customer is not None,
        )  # fmt: skip
        await at(s, lambda n: router.contact_arrived(n, cid, "sales", tier="standard"))

    await at(0, lambda n: router.agent_logged_in(n, "a05"))
    await arrives(30, "c1", "C9001")
    await at(35, lambda n: router.offer_accepted(n, "c1"))
    await at(140, lambda n: router.contact_completed(n, "c1"))
    await at(155, lambda n: router.wrap_up_done(n, "c1", "resolved"))
    await arrives(195, "c2", "C9002")
    await at(200, lambda n: router.offer_accepted(n, "c2"))
    await at(450, lambda n: router.agent_logged_in(n, "a06"))
    await at(485, lambda n: router.hand_off(n, "c2", to_agent="a06"))
    await at(490, lambda n: router.offer_accepted(n, "c2"))
    await at(500, lambda n: router.wrap_up_done(n, "c2", "transferred", agent_id="a05"))
    await arrives(540, "c3", "C9003")
    await at(550, lambda n: router.offer_declined(n, "c3"))
    await at(550, lambda n: router.set_agent_presence(n, "a05", Presence.AWAY, "break"))
    await at(690, lambda n: router.contact_completed(n, "c2"))
    await at(700, lambda n: router.wrap_up_done(n, "c2", "resolved"))  # c3 rings a06
    await at(710, lambda n: router.offer_accepted(n, "c3"))
    await at(945, lambda n: router.contact_completed(n, "c3"))
    await at(955, lambda n: router.wrap_up_done(n, "c3", "resolved"))
    await arrives(1000, "c4", None)
    await at(1010, lambda n: router.contact_abandoned(n, "c4"))
    await at(1090, lambda n: router.agent_logged_out(n, "a06"))
    await at(1500, lambda n: router.agent_logged_out(n, "a05"))
    for cid, score, s in (("c1", 4, 200), ("c2", 2, 800), ("c3", 5, 1000)):
        await store.add_survey(cid, score, None, BASE + s)
    await store.create_contact(
        "c9", channel="voice", queue="sales", arrived_wall=BASE + 2 * 86_400, tier="standard",
        customer_id="C9001", verified=True,
    )  # fmt: skip
    await store.mark_ended("c9", BASE + 2 * 86_400 + 60, "customer_left")
