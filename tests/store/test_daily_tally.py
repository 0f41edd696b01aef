"""The store keeps one tally per local day (counts only), the newest write winning."""

from __future__ import annotations

from contactcenter.store import Store

T0 = 1_700_000_000.0


async def test_a_day_s_tally_is_saved_and_read_back_and_other_days_stay_apart(
    store: Store,
) -> None:
    assert await store.tally("2024-03-05") is None
    await store.save_tally("2024-03-05", '{"queues": {}}', T0)
    await store.save_tally("2024-03-05", '{"queues": {"sales": {"entered": 2}}}', T0 + 2)
    await store.save_tally("2024-03-06", '{"queues": {"sales": {"entered": 1}}}', T0 + 86_400)
    assert await store.tally("2024-03-05") == '{"queues": {"sales": {"entered": 2}}}'
    assert await store.tally("2024-03-06") == '{"queues": {"sales": {"entered": 1}}}'
    assert await store.tally("2024-03-07") is None
