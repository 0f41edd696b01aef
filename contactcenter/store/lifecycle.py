"""How each domain event changes the stored contact records, their segments and the agent
state log.

One event -> a few SQL statements with their parameters, applied in the event's transaction.
Timestamps are the wall-clock time the runtime recorded the event at (``wall``); an event's
own ``at`` is the driver's monotonic clock and is never stored. Durations (wait, talk,
wrap-up) come from the events. Events of a contact the store does not know update no row.

A contact's record (``contacts``) says what happened to the customer's request as a whole
(first queue and answer, last agent, final outcome, total talk and hold); each agent's part is
a row of ``contact_segments`` (its queue, offers, answer, talk, hold, wrap-up, disposition, and
how it ended: completed, transferred, retry, abandoned, removed, interrupted). An offer that
ended unanswered is a row of ``rejected_offers`` (whose, why).
"""

from __future__ import annotations

from contactcenter.events import (
    AgentStateChanged,
    ContactAbandoned,
    ContactAnswered,
    ContactCompleted,
    ContactHandedOff,
    ContactOffered,
    ContactQueued,
    ContactRemoved,
    ContactResumed,
    ContactTransferred,
    Event,
    OfferRejected,
    TargetBreached,
    WrapUpEnded,
)

Statement = tuple[str, tuple[object, ...]]

_CURRENT = "(SELECT segment FROM contacts WHERE contact_id = ?)"
"""The contact's current segment number (a sub-query on its id)."""


def _segment(sql: str, params: tuple[object, ...], contact_id: str) -> Statement:
    """An UPDATE of the contact's current segment: ``sql`` ends in ``WHERE contact_id = ?``."""
    return (f"{sql} AND segment = {_CURRENT}", (*params, contact_id, contact_id))


def statements(e: Event, wall: float) -> list[Statement]:
    """The SQL that records ``e`` at wall time ``wall``; none for events the store ignores
    (escalation steps, callback offers, priority changes, consults)."""
    match e:
        case ContactQueued():
            return [
                (
                    "UPDATE contacts SET queue = ?, tier = ?, segment = ?, agent_id = NULL,"
                    " queued_wall = coalesce(queued_wall, ?) WHERE contact_id = ?",
                    (e.queue, e.tier, e.segment, wall, e.contact_id),
                ),
                (
                    "INSERT INTO contact_segments (contact_id, segment, queue, queued_wall)"
                    " SELECT ?, ?, ?, ? WHERE EXISTS"
                    " (SELECT 1 FROM contacts WHERE contact_id = ?)"
                    " ON CONFLICT (contact_id, segment) DO UPDATE SET queue = excluded.queue",
                    (e.contact_id, e.segment, e.queue, wall, e.contact_id),
                ),
            ]
        case ContactOffered():
            return [
                (
                    "UPDATE contacts SET offered_wall = ?, agent_id = ?, offers = offers + 1"
                    " WHERE contact_id = ?",
                    (wall, e.agent_id, e.contact_id),
                ),
                _segment(
                    "UPDATE contact_segments SET offered_wall = coalesce(offered_wall, ?),"
                    " agent_id = ?, offers = offers + 1 WHERE contact_id = ?",
                    (wall, e.agent_id),
                    e.contact_id,
                ),
            ]
        case OfferRejected():
            return [
                (
                    "UPDATE contacts SET rejections = rejections + 1, agent_id = NULL"
                    " WHERE contact_id = ?",
                    (e.contact_id,),
                ),
                _segment(
                    "UPDATE contact_segments SET agent_id = NULL WHERE contact_id = ?",
                    (),
                    e.contact_id,
                ),
                (
                    "INSERT INTO rejected_offers (contact_id, queue, agent_id, reason, wall_time)"
                    " SELECT ?, ?, ?, ?, ? WHERE EXISTS"
                    " (SELECT 1 FROM contacts WHERE contact_id = ?)",
                    (e.contact_id, e.queue, e.agent_id, e.reason, wall, e.contact_id),
                ),
            ]
        case ContactAnswered():
            first = (
                "UPDATE contacts SET answered_wall = ?, agent_id = ?, wait_seconds = ?,"
                " outcome = 'answered' WHERE contact_id = ?",
                (wall, e.agent_id, e.wait_seconds, e.contact_id),
            )
            later = (
                "UPDATE contacts SET agent_id = ?, segment = ? WHERE contact_id = ?",
                (e.agent_id, e.segment, e.contact_id),
            )
            return [
                first if e.segment == 1 else later,
                (
                    "INSERT INTO contact_segments (contact_id, segment, queue, queued_wall,"
                    " answered_wall, agent_id, wait_seconds) SELECT ?, ?, ?, ?, ?, ?, ?"
                    " WHERE EXISTS (SELECT 1 FROM contacts WHERE contact_id = ?)"
                    " ON CONFLICT (contact_id, segment) DO UPDATE SET"
                    " answered_wall = excluded.answered_wall, agent_id = excluded.agent_id,"
                    " wait_seconds = excluded.wait_seconds",
                    (
                        e.contact_id,
                        e.segment,
                        e.queue,
                        wall,
                        wall,
                        e.agent_id,
                        e.wait_seconds,
                        e.contact_id,
                    ),
                ),
            ]
        case ContactResumed():
            return [
                (
                    "UPDATE contacts SET agent_id = ?, segment = ? WHERE contact_id = ?",
                    (e.agent_id, e.segment, e.contact_id),
                ),
                (
                    "UPDATE contact_segments SET answered_wall = ?, agent_id = ?, wait_seconds = 0,"
                    " offers = offers + 1 WHERE contact_id = ? AND segment = ?",
                    (wall, e.agent_id, e.contact_id, e.segment),
                ),
            ]
        case ContactHandedOff():
            end = "transferred" if e.to_queue is not None else "retry"
            return [
                (
                    "UPDATE contacts SET talk_seconds = coalesce(talk_seconds, 0) + ?,"
                    " transfers = transfers + ?, transferred_from = coalesce(?, transferred_from),"
                    " transferred_to = coalesce(?, transferred_to), agent_id = NULL"
                    " WHERE contact_id = ?",
                    (
                        e.handle_seconds,
                        int(e.to_queue is not None),
                        e.queue if e.to_queue is not None else None,
                        e.to_queue,
                        e.contact_id,
                    ),
                ),
                (
                    "UPDATE contact_segments SET ended_wall = ?, talk_seconds = ?, end_reason = ?,"
                    " to_queue = ?, to_agent = ? WHERE contact_id = ? AND segment = ?",
                    (wall, e.handle_seconds, end, e.to_queue, e.to_agent, e.contact_id, e.segment),
                ),
            ]
        case ContactTransferred():
            return [
                (
                    "UPDATE contacts SET transferred_from = ?, transferred_to = ?,"
                    " transfers = transfers + 1 WHERE contact_id = ?",
                    (e.from_queue, e.to_queue, e.contact_id),
                )
            ]
        case ContactAbandoned():
            wait = e.wait_seconds if e.segment == 1 else None
            return [
                (
                    "UPDATE contacts SET abandoned_wall = ?,"
                    " wait_seconds = coalesce(wait_seconds, ?), agent_id = NULL,"
                    " outcome = 'abandoned' WHERE contact_id = ?",
                    (wall, wait, e.contact_id),
                ),
                _segment(
                    "UPDATE contact_segments SET ended_wall = ?, end_reason = 'abandoned'"
                    " WHERE contact_id = ?",
                    (wall,),
                    e.contact_id,
                ),
            ]
        case ContactRemoved():
            wait = e.wait_seconds if e.segment == 1 else None
            return [
                (
                    "UPDATE contacts SET removed_wall = ?, removed_reason = ?, outcome = ?,"
                    " wait_seconds = coalesce(wait_seconds, ?) WHERE contact_id = ?",
                    (wall, e.reason, e.outcome, wait, e.contact_id),
                ),
                _segment(
                    "UPDATE contact_segments SET ended_wall = ?, end_reason = 'removed'"
                    " WHERE contact_id = ?",
                    (wall,),
                    e.contact_id,
                ),
            ]
        case ContactCompleted():
            return [
                (
                    "UPDATE contacts SET completed_wall = ?,"
                    " talk_seconds = coalesce(talk_seconds, 0) + ?, agent_id = ?,"
                    " outcome = 'completed' WHERE contact_id = ?",
                    (wall, e.handle_seconds, e.agent_id, e.contact_id),
                ),
                _segment(
                    "UPDATE contact_segments SET ended_wall = ?, talk_seconds = ?,"
                    " end_reason = 'completed' WHERE contact_id = ?",
                    (wall, e.handle_seconds),
                    e.contact_id,
                ),
            ]
        case WrapUpEnded():
            # The agent's last segment that has ended and is still in wrap-up: the contact's
            # own wrap-up after it completed, or that of a segment the agent handed off (then
            # the contact's agent is another one, or none: the handing agent is kept away
            # from the contact until this wrap-up ends).
            return [
                (
                    "UPDATE contacts SET wrap_up_seconds = ?, disposition = ?, ended_wall = ?"
                    " WHERE contact_id = ? AND agent_id = ? AND ended_wall IS NULL",
                    (e.wrap_up_seconds, e.disposition, wall, e.contact_id, e.agent_id),
                ),
                (
                    "UPDATE contact_segments SET wrap_up_seconds = ?, disposition = ?,"
                    " wrap_ended_wall = ? WHERE contact_id = ? AND segment = (SELECT max(segment)"
                    " FROM contact_segments WHERE contact_id = ? AND agent_id = ?"
                    " AND ended_wall IS NOT NULL AND wrap_ended_wall IS NULL)",
                    (
                        e.wrap_up_seconds,
                        e.disposition,
                        wall,
                        e.contact_id,
                        e.contact_id,
                        e.agent_id,
                    ),
                ),
            ]
        case TargetBreached():
            return [("UPDATE contacts SET breached = 1 WHERE contact_id = ?", (e.contact_id,))]
        case AgentStateChanged():
            return [
                (
                    "INSERT INTO agent_state_log (agent_id, previous, state, reason, wall_time)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (e.agent_id, str(e.previous), str(e.state), e.reason, wall),
                )
            ]
        case _:
            return []
