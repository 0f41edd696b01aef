"""Regressions found by the chat load benchmark (``bench/chat.py``).

* The hub offered every notice to every open socket's filter, and a customer's socket woke for
  every routing event of its queue even while talking: with 2,000 chats each chat line cost
  2,300 filter calls. Sockets now watch keys (their contact, agent, and queue while waiting).
* Every agent request asked the store for its session, queueing behind transcript writes and
  their fsync; sessions are now read on a connection of their own, which never waits for a
  write (and so a session ended elsewhere is refused at once).
"""

from __future__ import annotations

from dataclasses import dataclass

from contactcenter.api import auth
from contactcenter.runtime.hub import Hub, keys_of
from tests.api.conftest import Api, frame


@dataclass(frozen=True)
class Note:
    contact_id: str | None = None
    agent_id: str | None = None
    queue: str | None = None


def drain(sub: object) -> list[object]:
    queue = sub._queue  # type: ignore[attr-defined]
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def test_keys_of_a_notice() -> None:
    assert keys_of(Note("c1", "a1", "q1")) == [("contact", "c1"), ("agent", "a1"), ("queue", "q1")]
    assert keys_of(Note(agent_id="a1")) == [("agent", "a1")]
    assert keys_of(object()) == []


def test_keyed_subscriptions_see_only_what_they_watch() -> None:
    hub = Hub()
    everything = hub.subscribe(lambda n: True)
    c1 = hub.subscribe(lambda n: True, keys=[("contact", "c1")])
    a1 = hub.subscribe(lambda n: True, keys=[("agent", "a1"), ("contact", "c9")])
    picky = hub.subscribe(lambda n: getattr(n, "queue", None) == "q2", keys=[("queue", "q1")])

    notes = [Note("c1", "a1", "q1"), Note("c2", None, "q1"), Note("c9"), Note(agent_id="a2")]
    for n in notes:
        hub.publish(n)
    assert drain(everything) == notes
    assert drain(c1) == [notes[0]]
    assert drain(a1) == [notes[0], notes[2]]  # once, though both its keys match the first
    assert drain(picky) == []  # the filter still decides

    c1.watch(("queue", "q1"))
    c1.unwatch(("contact", "c1"))
    hub.publish(notes[0])
    hub.publish(Note("c3", None, "q1"))
    assert drain(c1) == [notes[0], Note("c3", None, "q1")]
    assert hub.watchers(("contact", "c1")) == 0 and hub.watchers(("queue", "q1")) == 2

    for sub in (c1, a1, picky, everything):
        sub.close()
    assert len(hub) == 0 and hub.watchers(("queue", "q1")) == 0


def test_a_filter_may_change_its_keys_while_the_hub_publishes() -> None:
    hub = Hub()
    seen: list[object] = []

    def wanted(n: object) -> bool:
        seen.append(n)
        sub.unwatch(("queue", "q1"))
        sub.watch(("queue", "q2"))
        return True

    sub = hub.subscribe(wanted, keys=[("queue", "q1")])
    other = hub.subscribe(lambda n: True, keys=[("queue", "q1")])
    hub.publish(Note("c1", None, "q1"))
    assert len(seen) == 1 and len(drain(other)) == 1
    hub.publish(Note("c2", None, "q1"))
    hub.publish(Note("c3", None, "q2"))
    assert [getattr(n, "contact_id", None) for n in seen] == ["c1", "c3"]


async def test_waiting_customers_follow_their_place_and_stop_once_answered(api: Api) -> None:
    hub = api.engine.hub
    chats = [await api.start_chat(name=f"C{i}", topic="sales") for i in range(3)]
    sockets = []
    for place, (cid, token) in enumerate(chats, start=1):
        ws = await api.ws(f"/api/chat/{cid}/ws?token={token}")
        status = await frame(ws, "status")
        assert status["state"] == "waiting" and status["position"] == place
        sockets.append(ws)
    assert hub.watchers(("queue", "sales_chat")) == 3

    # the first customer leaves: the others move up
    await sockets[0].send_json({"type": "end"})
    await frame(sockets[0], "ended")
    assert (await frame(sockets[1], "status", position=1))["state"] == "waiting"
    assert (await frame(sockets[2], "status", position=2))["state"] == "waiting"
    assert hub.watchers(("queue", "sales_chat")) == 2

    # an agent takes the second: it stops watching the queue; the third is next
    await api.login("a05")
    desk = await api.ws("/api/agent/ws", "a05")
    await frame(desk, "snapshot")
    await api.ok("POST", "/api/agent/login", "a05")
    offer = await frame(desk, "offer")
    assert offer["contact_id"] == chats[1][0]
    await frame(sockets[2], "status", position=1)
    await api.ok("POST", f"/api/agent/contacts/{chats[1][0]}/accept", "a05")
    await frame(sockets[1], "agent_joined")
    # with room for more chats the agent is offered the third at once: nobody waits now
    await frame(desk, "offer", contact_id=chats[2][0])
    assert hub.watchers(("queue", "sales_chat")) == 0
    assert hub.watchers(("contact", chats[1][0])) == 2  # the customer's and the desktop's

    # the conversation still flows both ways, and the desktop hears the chat close
    await sockets[1].send_json({"type": "message", "text": "hello"})
    assert (await frame(desk, "message"))["text"] == "hello"
    await api.ok("POST", f"/api/agent/contacts/{chats[1][0]}/messages", "a05", {"text": "hi"})
    assert (await frame(sockets[1], "message", sender="agent"))["text"] == "hi"
    await sockets[1].send_json({"type": "end"})
    await frame(desk, "chat_closed", contact_id=chats[1][0])
    for ws in (*sockets, desk):
        await ws.close()


async def test_a_session_ended_elsewhere_is_refused_at_once(api: Api) -> None:
    token = await api.login("sup")
    status, _ = await api.call("GET", "/api/me", "sup")
    assert status == 200

    # ended by another process (a password set): the next request is refused
    await api.store.delete_session(auth.token_hash(token))
    status, _ = await api.call("GET", "/api/me", "sup")
    assert status == 401

    # logging out is immediate
    api.tokens.pop("sup")
    await api.login("sup")
    status, _ = await api.call("POST", "/api/logout", "sup")
    assert status == 200
    status, _ = await api.call("GET", "/api/me", "sup")
    assert status == 401
