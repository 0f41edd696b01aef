"""Chat transcripts: order, ids, batches, and the batch insert speed of a busy chat center."""

from __future__ import annotations

import time

import pytest

from contactcenter.store import Message, Store

T0 = 1_700_000_000.0


async def test_transcript_keeps_order(store: Store) -> None:
    first = await store.add_message("c1", "customer", "hello", T0)
    await store.add_message("c2", "customer", "other chat", T0 + 0.5)
    second = await store.add_message("c1", "agent", "hi, how can I help?", T0 + 1, agent_id="a1")
    await store.add_messages(
        [
            ("c1", "customer", "my router", T0 + 2, None),
            ("c1", "system", "agent a1 left", T0 + 1.5, None),  # order of adding wins
        ]
    )
    lines = await store.transcript("c1")
    assert [(m.sender, m.text) for m in lines] == [
        ("customer", "hello"),
        ("agent", "hi, how can I help?"),
        ("customer", "my router"),
        ("system", "agent a1 left"),
    ]
    assert lines[0] == Message(first, "c1", "customer", "hello", T0, None)
    assert lines[1] == Message(second, "c1", "agent", "hi, how can I help?", T0 + 1, "a1")
    assert [m.id for m in lines] == sorted(m.id for m in lines)
    assert await store.transcript("nobody") == []


async def test_bad_sender_rejects_whole_batch(store: Store) -> None:
    with pytest.raises(ValueError, match="sender"):
        await store.add_messages(
            [("c1", "customer", "ok", T0, None), ("c1", "robot", "bad", T0, None)]
        )
    with pytest.raises(ValueError, match="sender"):
        await store.add_message("c1", "robot", "bad", T0)  # type: ignore[arg-type]
    assert await store.transcript("c1") == []
    await store.add_messages([])


async def test_batch_insert_speed(store: Store) -> None:
    """10k lines (20 s of the 500 lines/s load test) in batches like the transcript writer's."""
    n, batch = 10_000, 500
    lines = [
        (f"chat-{i % 100}", "customer" if i % 2 else "agent", f"line {i}", T0 + i / 500,
         None if i % 2 else "a1")
        for i in range(n)
    ]  # fmt: skip
    started = time.perf_counter()
    for k in range(0, n, batch):
        await store.add_messages(lines[k : k + batch])
    took = time.perf_counter() - started
    print(f"\n{n} messages in {n // batch} batches: {took:.3f} s ({n / took:,.0f} lines/s)")  # noqa: T201 (timing report, -s)
    got = await store.transcript("chat-7")
    assert [m.text for m in got] == [f"line {i}" for i in range(7, n, 100)]
    assert all(m.agent_id == "a1" for m in got if m.sender == "agent")
    started = time.perf_counter()
    await store.add_messages(lines)
    print(f"{n} messages in one batch: {time.perf_counter() - started:.3f} s")  # noqa: T201
    assert len(await store.transcript("chat-0")) == 2 * n // 100
