"""Private notes on a contact: what agents write about it for each other, never shown to the
customer; kept with the contact and shown on the screen-pop of the customer's later contacts.

A note's text is personal (sealed at rest, ``resealing.SEALED``); retention takes it with the
other notes (``notes_days``, from the contact's end) and erasure with the customer's contacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contactcenter.store.store import Store, _new_id


@dataclass(frozen=True)
class ContactNote:
    id: int
    contact_id: str
    agent_id: str
    text: str
    wall_time: float


async def add_contact_note(
    store: Store, contact_id: str, agent_id: str, text: str, wall_time: float
) -> ContactNote:
    """Keep ``agent_id``'s note on the contact; committed when this returns."""
    async with store._write() as db:
        cur = await db.execute(
            "INSERT INTO contact_notes (contact_id, agent_id, text, wall_time) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            (contact_id, agent_id, store._seal("contact_notes", "text", text), wall_time),
        )
        note_id = await _new_id(cur)
    return ContactNote(note_id, contact_id, agent_id, text, wall_time)


async def contact_notes(store: Store, contact_ids: Sequence[str]) -> list[ContactNote]:
    """The notes on these contacts, oldest first (a note whose text retention or erasure took
    is gone)."""
    if not contact_ids:
        return []
    marks = ", ".join("?" * len(contact_ids))
    rows = await store._rows(
        "SELECT id, contact_id, agent_id, text, wall_time FROM contact_notes"
        f" WHERE contact_id IN ({marks}) ORDER BY id",
        list(contact_ids),
    )
    return [
        ContactNote(r[0], r[1], r[2], str(store._open("contact_notes", "text", r[3])), r[4])
        for r in rows
    ]
