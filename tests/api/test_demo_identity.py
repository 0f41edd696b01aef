"""``serve --demo``: its known customers start chats with an identity signed by the site's key
and checked as the API checks it, so the demo shows VIP routing as a signed-in VIP gets it."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from contactcenter.api.chat_identity import ChatIdentity, Keyring
from contactcenter.api.demo import LiveDemo
from contactcenter.config import Center
from contactcenter.identity import new_keys
from contactcenter.runtime import Site
from contactcenter.store import Store


async def test_demo_customers_are_verified_and_routed_by_their_tier(
    tmp_path: Path, center: Center
) -> None:
    store = await Store.open(tmp_path / "cc.sqlite3")
    await store.seed_customers(center.customers.values(), center.dedicated_agent)
    site = Site(center, store)
    await site.start()
    identity = ChatIdentity(center.settings.chat_identity, Keyring(new_keys()))
    demo = asyncio.create_task(
        LiveDemo(site, identity=identity, agents=0, seed=3, mean_gap=0.01).run()
    )
    try:
        router = site.engine.router
        deadline = asyncio.get_running_loop().time() + 10
        while True:  # until a few known customers, a VIP among them, have come
            known = [oc for oc in await store.open_contacts("chat") if oc.customer_id]
            tiers = {center.customers[oc.customer_id or ""].tier for oc in known}
            if len(known) >= 5 and "vip" in tiers:
                break
            assert asyncio.get_running_loop().time() < deadline, known
            await asyncio.sleep(0.05)
        for oc in known:
            crm = center.customers[oc.customer_id or ""]
            assert oc.verified
            assert router.contact(oc.contact_id).tier == crm.tier
            dedicated = center.dedicated_agent.get(crm.id)
            assert router.contacts[oc.contact_id].preferred_agent == dedicated
    finally:
        demo.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await demo
        await site.stop()
        await store.close()
