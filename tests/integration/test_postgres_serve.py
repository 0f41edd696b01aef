"""``serve --db postgresql://...``: the engine on a PostgreSQL server instead of a SQLite file.

What runs on it (chats kept across a kill -9, a standby taking over) is tested with the rest
of the standby tests (``test_standby.py``, both databases); here: a server that cannot be
reached at start is one clear line, with nothing written and no password said.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bus.conftest import free_port
from tests.integration.server import ROOT


def test_an_unreachable_server_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    state = tmp_path / "var"
    url = f"postgresql://cc:s3cret-pw@127.0.0.1:{free_port()}/center"  # nothing listens there
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "serve", "--config", str(ROOT / "config"),
         "--port", str(free_port()), "--db", url, "--state-dir", str(state)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("contactcenter serve: cannot start: cannot reach the database")
    assert "postgresql://cc:***@127.0.0.1" in lines[0]
    assert "s3cret-pw" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert not state.exists()  # nothing written
