"""How each domain event changes the stored contact records (and the agent state log).

One event -> at most one SQL statement with its parameters. Timestamps are the wall-clock
time the runtime recorded the event at (``wall``); an event's own ``at`` is the driver's
monotonic clock and is never stored. Durations (wait, talk, wrap-up) come from the events.
Events of a contact the store does not know update no row: they are ignored.
"""

from __future__ import annotations

from contactcenter.events import (
    AgentStateChanged,
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactOffered,
    ContactQueued,
    ContactRemoved,
    ContactTransferred,
    Event,
    OfferRejected,
    TargetBreached,
    WrapUpEnded,
)

Statement = tuple[str, tuple[object, ...]]


def statement(e: Event, wall: float) -> Statement | None:
    """The SQL that records ``e`` at wall time ``wall``; None for events the store ignores
    (escalation steps, callback offers, priority changes)."""
    match e:
        case ContactQueued():
            return (
                "UPDATE contacts SET queue = ?, tier = ?, queued_wall = coalesce(queued_wall, ?)"
                " WHERE contact_id = ?",
                (e.queue, e.tier, wall, e.contact_id),
            )
        case ContactOffered():
            return (
                "UPDATE contacts SET offered_wall = ?, agent_id = ?, offers = offers + 1"
                " WHERE contact_id = ?",
                (wall, e.agent_id, e.contact_id),
            )
        case OfferRejected():
            return (
                "UPDATE contacts SET rejections = rejections + 1, agent_id = NULL"
                " WHERE contact_id = ?",
                (e.contact_id,),
            )
        case ContactAnswered():
            return (
                "UPDATE contacts SET answered_wall = ?, agent_id = ?, wait_seconds = ?,"
                " outcome = 'answered' WHERE contact_id = ?",
                (wall, e.agent_id, e.wait_seconds, e.contact_id),
            )
        case ContactTransferred():
            return (
                "UPDATE contacts SET transferred_from = ?, transferred_to = ?,"
                " transfers = transfers + 1 WHERE contact_id = ?",
                (e.from_queue, e.to_queue, e.contact_id),
            )
        case ContactAbandoned():
            return (
                "UPDATE contacts SET abandoned_wall = ?, wait_seconds = ?, agent_id = NULL,"
                " outcome = 'abandoned' WHERE contact_id = ?",
                (wall, e.wait_seconds, e.contact_id),
            )
        case ContactRemoved():
            return (
                "UPDATE contacts SET removed_wall = ?, removed_reason = ?, outcome = ?,"
                " wait_seconds = ? WHERE contact_id = ?",
                (wall, e.reason, e.outcome, e.wait_seconds, e.contact_id),
            )
        case ContactCompleted():
            return (
                "UPDATE contacts SET completed_wall = ?, talk_seconds = ?, agent_id = ?,"
                " outcome = 'completed' WHERE contact_id = ?",
                (wall, e.handle_seconds, e.agent_id, e.contact_id),
            )
        case WrapUpEnded():
            return (
                "UPDATE contacts SET wrap_up_seconds = ?, disposition = ?, ended_wall = ?"
                " WHERE contact_id = ?",
                (e.wrap_up_seconds, e.disposition, wall, e.contact_id),
            )
        case TargetBreached():
            return ("UPDATE contacts SET breached = 1 WHERE contact_id = ?", (e.contact_id,))
        case AgentStateChanged():
            return (
                "INSERT INTO agent_state_log (agent_id, previous, state, reason, wall_time)"
                " VALUES (?, ?, ?, ?, ?)",
                (e.agent_id, str(e.previous), str(e.state), e.reason, wall),
            )
        case _:
            return None
