"""``contactcenter user set`` (a new login, or a password reset) is in the audit log: who ran
it, when, which user, role and agent; never the password."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
import time
from pathlib import Path

from contactcenter.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "config"


async def test_setting_a_user_is_audited(tmp_path: Path) -> None:
    db = tmp_path / "cc.sqlite3"
    for role in ("agent", "supervisor"):  # created, then its role and password changed
        run = subprocess.run(
            [sys.executable, "-m", "contactcenter", "user", "set", "a05", "--role", role,
             "--password-stdin", "--db", str(db), "--config", str(EXAMPLE)],
            input="a secret password\n", capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
    async with await Store.open(db) as store:
        log = await store.audit_log(action="user_set")
    assert [(e.actor, e.target, e.detail) for e in log] == [
        (f"cli:{getpass.getuser()}", "a05", {"role": "supervisor", "agent": None}),
        (f"cli:{getpass.getuser()}", "a05", {"role": "agent", "agent": "a05"}),
    ]
    assert abs(log[0].wall_time - time.time()) < 60
    assert "secret" not in json.dumps([e.detail for e in log])
