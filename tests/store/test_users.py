"""Users (scrypt-hashed passwords) and sessions (stored by token hash only)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from pathlib import Path

import asyncpg
import pytest

from contactcenter.store import SessionRecord, Store, UnknownUser, UserRecord
from contactcenter.store.passwords import hash_password, verify_password
from tests.store.conftest import Database

PASSWORD = "correct horse battery staple 8472"
T0 = 1_700_000_000.0


async def stored_bytes(database: Database) -> bytes:
    """Everything the database holds, as bytes: the SQLite file with its -wal and -shm, or
    every row of every table of the PostgreSQL database as text (read by a plain connection)."""
    if database.backend == "sqlite":
        path = Path(database.where)
        files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
        return b"".join(p.read_bytes() for p in files)
    conn = await asyncpg.connect(database.where)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        rows = [
            row[0]
            for (table,) in tables
            for row in await conn.fetch(f'SELECT t::text FROM "{table}" t')  # catalog names
        ]
    finally:
        await conn.close()
    return "\n".join(rows).encode()


async def test_passwords_are_hashed_and_checked(database: Database) -> None:
    async with await database.open() as store:
        await store.set_user("alice", PASSWORD, "supervisor")
        await store.set_user("bob", "hunter2-but-longer", "agent", agent_id="a01")
        assert await store.verify_user("alice", PASSWORD) == UserRecord("alice", "supervisor")
        assert await store.verify_user("bob", "hunter2-but-longer") == UserRecord(
            "bob", "agent", "a01"
        )
        assert await store.verify_user("alice", PASSWORD + "x") is None
        assert await store.verify_user("alice", "") is None
        assert await store.verify_user("mallory", PASSWORD) is None
        assert await store.users() == [
            UserRecord("alice", "supervisor"),
            UserRecord("bob", "agent", "a01"),
        ]
        # a new password replaces the old one
        await store.set_user("bob", "new secret 123", "agent", agent_id="a01")
        assert await store.verify_user("bob", "hunter2-but-longer") is None
        assert await store.verify_user("bob", "new secret 123") is not None
        with pytest.raises(ValueError, match="role"):
            await store.set_user("eve", "x", "root")  # type: ignore[arg-type]
    raw = await stored_bytes(database)
    assert b"alice" in raw  # we are looking at the right bytes
    for secret in (PASSWORD, "hunter2-but-longer", "new secret 123"):
        assert secret.encode() not in raw


def test_hash_format_and_salt() -> None:
    a, b = hash_password("pw"), hash_password("pw")
    assert a != b  # random salt
    assert a.startswith("scrypt$32768$8$3$")
    assert verify_password("pw", a) and verify_password("pw", b)
    assert not verify_password("pW", a)
    for broken in ("", "scrypt$1$2", "bcrypt$32768$8$3$AAAA$AAAA", a[:-3] + "!!!"):
        assert not verify_password("pw", broken)


async def test_sessions(store: Store) -> None:
    await store.set_user("carol", PASSWORD, "agent", agent_id="a02")
    token = secrets.token_urlsafe(32)
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    await store.create_session("carol", token_hash, T0 + 3600)
    expected = SessionRecord(token_hash, "carol", T0 + 3600, "agent", "a02")
    assert await store.session(token_hash) == expected
    assert await store.session(token_hash, T0) == expected
    assert await store.session(token_hash, T0 + 3600) is None  # expired
    assert await store.session_user(token_hash, now=T0) == UserRecord("carol", "agent", "a02")
    assert await store.session_user(token_hash, now=T0 + 7200) is None
    assert await store.session("unknown") is None
    with pytest.raises(UnknownUser):
        await store.create_session("nobody", "h2", T0)
    await store.delete_session(token_hash)
    await store.delete_session(token_hash)  # no error
    assert await store.session(token_hash) is None


async def test_many_requests_ask_for_their_sessions_at_once(store: Store) -> None:
    """Every API request reads its session on the sessions connection, not under the store's
    lock: requests arriving together ask at once, and each gets its answer (PostgreSQL's
    connection takes one statement at a time, so the store must queue them as SQLite's
    thread does)."""
    await store.set_user("carol", PASSWORD, "agent", agent_id="a02")
    hashes = [hashlib.sha256(f"t{i}".encode()).hexdigest() for i in range(20)]
    for h in hashes[:10]:
        await store.create_session("carol", h, T0 + 3600)
    found = await asyncio.gather(*(store.session(h, T0) for h in hashes))
    assert [s is not None for s in found] == [True] * 10 + [False] * 10


async def test_session_token_never_stored_and_expiry_sweep(database: Database) -> None:
    token = secrets.token_urlsafe(32)
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    async with await database.open() as store:
        await store.set_user("dave", PASSWORD, "admin")
        await store.create_session("dave", token_hash, T0)
        await store.create_session("dave", "h-later", T0 + 100)
        assert token_hash.encode() in await stored_bytes(database)  # the right bytes
        assert token.encode() not in await stored_bytes(database)
        assert await store.delete_expired_sessions(T0 + 50) == 1
        assert await store.session("h-later") is not None
        # replacing the user ends its sessions
        await store.set_user("dave", PASSWORD, "supervisor")
        assert await store.session("h-later") is None
    assert token.encode() not in await stored_bytes(database)
