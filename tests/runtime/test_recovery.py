"""What a restart finds and what it does with it (in-process restarts on the same database;
``tests/integration/test_crash.py`` kills a real server): identity, chats that were being
answered, calls that were cut, agents' states, and desktops that go away."""

from __future__ import annotations

from pathlib import Path

from tests.runtime.conftest import SiteFactory

VIP = "C1001"  # tier vip, dedicated agent a01
VIP_EMAIL = "helena.brandt@example.com"


async def test_a_restart_routes_only_on_verified_identity(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    db = tmp_path / "cc.sqlite3"
    site = await make_site(db=db)
    claimed = await site.chat.start_chat(name="Mallory", topic="support", customer_id=VIP)
    verified = await site.chat.start_chat(
        name="Helena", topic="support", customer_id=VIP, email=VIP_EMAIL
    )
    assert site.engine.router.contact(claimed).tier == "standard"
    assert site.engine.router.contact(verified).tier == "vip"
    await site.stop()

    again = await make_site(db=db)
    router = again.engine.router
    assert router.contact(claimed).tier == "standard"
    assert router.contacts[claimed].preferred_agent is None
    assert router.contacts[claimed].customer_id is None
    assert router.contact(verified).tier == "vip"
    assert router.contacts[verified].preferred_agent == "a01"
    rec = await again.store.contact(claimed)
    assert rec is not None and rec.customer_id == VIP and not rec.verified
