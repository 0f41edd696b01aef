"""``contactcenter user set`` (a new login, or a password reset) is in the audit log: who ran
it, when, which user, role and agent; never the password. On a SQLite file and on a database
of a real PostgreSQL server (``--db URL --data-keys FILE``)."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contactcenter.store import Store
from tests.postgres import database_for

EXAMPLE = Path(__file__).resolve().parents[1] / "config"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_setting_a_user_is_audited(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    keys = tmp_path / "data-keys"
    db = database_for(request, backend) or str(tmp_path / "cc.sqlite3")
    for role in ("agent", "supervisor"):  # created, then its role and password changed
        run = subprocess.run(
            [sys.executable, "-m", "contactcenter", "user", "set", "a05", "--role", role,
             "--password-stdin", "--db", db, "--data-keys", str(keys), "--config", str(EXAMPLE)],
            input=f"a secret password {role}\n", capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
    async with await Store.open(db, data_keys=keys) as store:
        log = await store.audit_log(action="user_set")
        assert await store.verify_user("a05", "a secret password agent") is None
        user = await store.verify_user("a05", "a secret password supervisor")
    assert user is not None and (user.role, user.agent_id) == ("supervisor", None)
    assert [(e.actor, e.target, e.detail) for e in log] == [
        (f"cli:{getpass.getuser()}", "a05", {"role": "supervisor", "agent": None}),
        (f"cli:{getpass.getuser()}", "a05", {"role": "agent", "agent": "a05"}),
    ]
    assert abs(log[0].wall_time - time.time()) < 60
    assert "secret" not in json.dumps([e.detail for e in log])
