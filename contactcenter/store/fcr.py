"""First-contact resolution of a period from the stored contacts, per queue and per agent, by
the rule of ``contactcenter.kpi.first_contacts``.

What counts: inbound contacts whose customer was *verified* (anonymous contacts and unsigned
claims are neither first contacts nor repeats: nobody knows whose they are), about the queue
the customer reached first, with the agent of the contact's last segment an agent answered.
Call backs the center makes are its own contacts, not the customer contacting again. A first
contact arrived in the period; whether it was repeated is read up to ``window`` after it, so
one whose window is still open at ``now`` is *provisional* (it may still be repeated).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from contactcenter.kpi import CustomerContact, Fcr, FirstContact, first_contacts
from contactcenter.store.store import Store

_CONTACTS = (
    "SELECT c.customer_id, c.first_queue, c.arrived_wall, s.agent_id"
    " FROM contacts c LEFT JOIN contact_segments s ON s.contact_id = c.contact_id"
    " AND s.segment = (SELECT max(segment) FROM contact_segments WHERE contact_id ="
    " c.contact_id AND answered_wall IS NOT NULL AND agent_id IS NOT NULL)"
    " WHERE c.verified = 1 AND c.kind = 'inbound' AND c.customer_id IS NOT NULL"
    " AND c.arrived_wall >= ? AND c.arrived_wall < ?"
)


@dataclass(frozen=True)
class FcrReport:
    queues: dict[str, Fcr]
    """Queue (the one the customer reached first) -> its first contacts."""
    agents: dict[str, Fcr]
    """Agent -> the first contacts it handled."""
    provisional: dict[str, int]
    """Queue -> first contacts whose window is still open (counted, maybe repeated later)."""


async def first_contacts_between(
    store: Store, since_wall: float, until_wall: float, *, window: float
) -> list[FirstContact]:
    """The first contacts that arrived at or after ``since_wall`` and before ``until_wall``,
    each with its verdict (``window`` in seconds)."""
    rows = await store._rows(_CONTACTS, (since_wall - window, until_wall + window))
    contacts = [CustomerContact(*r) for r in rows]
    return [
        first
        for first in first_contacts(contacts, window)
        if since_wall <= first.contact.arrived < until_wall
    ]


async def fcr_between(
    store: Store, since_wall: float, until_wall: float, *, window: float, now_wall: float
) -> FcrReport:
    """FCR of the first contacts that arrived at or after ``since_wall`` and before
    ``until_wall`` (``window`` in seconds)."""
    queues: dict[str, Fcr] = defaultdict(Fcr)
    agents: dict[str, Fcr] = defaultdict(Fcr)
    provisional: dict[str, int] = defaultdict(int)
    for first in await first_contacts_between(store, since_wall, until_wall, window=window):
        c = first.contact
        queues[c.queue] += Fcr.of(first)
        if c.agent is not None:
            agents[c.agent] += Fcr.of(first)
        if c.arrived + window > now_wall:
            provisional[c.queue] += 1
    return FcrReport(dict(queues), dict(agents), dict(provisional))
