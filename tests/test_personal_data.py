"""``contactcenter retention`` and ``contactcenter erase-customer`` as an operator runs them:
counts printed, the data changed (or not, in a dry run), the run in the audit log, and every
problem one line with exit code 1."""

from __future__ import annotations

import getpass
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from contactcenter.store import CustomerRecord, Store
from tests.store.scenes import DAY, callback, contact, every_value

EXAMPLE = Path(__file__).resolve().parents[1] / "config"
RETENTION = {"transcripts_days": 365, "notes_days": 365, "callbacks_days": 90}


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contactcenter", *args], capture_output=True, text=True,
        input=stdin, timeout=120, check=False,
    )  # fmt: skip


def config_with_retention(tmp_path: Path) -> Path:
    """The example center keeping transcripts and notes a year, call backs 90 days."""
    cfg = tmp_path / "config"
    shutil.copytree(EXAMPLE, cfg, ignore=shutil.ignore_patterns("planning"))
    center = yaml.safe_load((cfg / "center.yaml").read_text())
    (cfg / "center.yaml").write_text(yaml.safe_dump({**center, "retention": RETENTION}))
    return cfg


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return config_with_retention(tmp_path)


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    """A year-old finished chat of Helena's, with a call back, and one from today."""
    path = tmp_path / "cc.sqlite3"
    now = time.time()
    async with await Store.open(path) as store:
        await helenas_year(store, now)
    return path


async def helenas_year(store: Store, now: float) -> None:
    """Helena's card, her chat of 400 days ago (lines, notes) and a call back to her number
    then, and someone's chat of yesterday."""
    await store.upsert_customer(CustomerRecord(id="C1001", name="Helena Brandt",
                                               phone="+4930555010001"))  # fmt: skip
    await contact(store, "old", arrived=now - 400 * DAY, customer_id="C1001",
                  name="Helena Brandt", lines=["an old line"], notes="old notes")  # fmt: skip
    await callback(store, "old-cb", created=now - 400 * DAY, phone="+4930555010001")
    await contact(store, "new", arrived=now - DAY, lines=["a new line"], notes="new notes")


async def lines(db: Path, cid: str) -> list[str]:
    async with await Store.open(db) as store:
        return [m.text for m in await store.transcript(cid)]


async def test_retention_dry_run_then_for_real(config: Path, db: Path) -> None:
    before = every_value(db)
    dry = run_cli("retention", "--config", str(config), "--db", str(db), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing changed" in dry.stdout
    assert "  chat lines deleted: 1" in dry.stdout.splitlines()
    assert every_value(db) == before
    done = run_cli("retention", "--config", str(config), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "transcripts_days 365, notes_days 365, callbacks_days 90" in done.stdout
    out = done.stdout.splitlines()
    assert "  chat lines deleted: 1" in out and "  wrap-up notes nulled: 1" in out
    assert "  call backs' numbers and names nulled: 1" in out
    assert await lines(db, "old") == [] and await lines(db, "new") == ["a new line"]
    async with await Store.open(db) as store:
        (entry,) = await store.audit_log(action="retention")
    assert entry.actor == f"cli:{getpass.getuser()}" and entry.detail["counts"]
    again = run_cli("retention", "--config", str(config), "--db", str(db))
    assert "  chat lines deleted: 0" in again.stdout.splitlines()


async def test_retention_refuses_bad_input(config: Path, db: Path, tmp_path: Path) -> None:
    center = yaml.safe_load((config / "center.yaml").read_text())
    center["retention"]["transcripts_days"] = -3
    (config / "center.yaml").write_text(yaml.safe_dump(center))
    bad = run_cli("retention", "--config", str(config), "--db", str(db))
    assert bad.returncode == 1 and bad.stdout == ""
    assert "center.yaml" in bad.stderr and "retention.transcripts_days" in bad.stderr
    missing = run_cli("retention", "--config", str(EXAMPLE), "--db", str(tmp_path / "no.db"))
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"contactcenter retention: no database at {tmp_path}/no.db"
    assert not (tmp_path / "no.db").exists()  # not created
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    broken = run_cli("retention", "--config", str(EXAMPLE), "--db", str(junk))
    assert broken.returncode == 1 and len(broken.stderr.strip().splitlines()) == 1
    assert str(junk) in broken.stderr
    assert await lines(db, "old") == ["an old line"]


async def test_erase_customer(db: Path, config: Path) -> None:
    unasked = run_cli("erase-customer", "C1001", "--db", str(db))
    assert unasked.returncode == 1
    assert "give --yes" in unasked.stderr and await lines(db, "old") == ["an old line"]
    done = run_cli("erase-customer", "C1001", "--db", str(db), "--yes", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("erased C1001 in ")
    assert "  chat lines deleted: 1" in done.stdout.splitlines()
    assert "customers.yaml still names C1001" in done.stderr  # the seed would bring it back
    assert await lines(db, "old") == []
    assert not [v for v in every_value(db) if "C1001" in v[2] or "Helena" in v[2]]
    again = run_cli("erase-customer", "C1001", "--db", str(db), "--yes")
    assert again.returncode == 0 and again.stdout.startswith("nothing of C1001 is held")


async def test_erasing_a_customer_with_an_open_contact_is_refused(db: Path) -> None:
    async with await Store.open(db) as store:
        await contact(store, "now", arrived=0.0, customer_id="C1001", closed=False)
    busy = run_cli("erase-customer", "C1001", "--db", str(db), "--yes")
    assert busy.returncode == 1
    assert busy.stderr.startswith("contactcenter erase-customer: C1001: the customer has 1 ")
    assert len(busy.stderr.strip().splitlines()) == 1
    assert await lines(db, "old") == ["an old line"]
