"""``mail.yaml``: the example has every key, and every mistake names the file, the key path and
why, before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contactcenter.config import ConfigError, load_center
from contactcenter.mail.settings import Mailbox, MailSettings, load_mail_settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"

GOOD_BOX = {
    "address": "support@northwind.test",
    "queue": "support_email",
    "imap": {"host": "127.0.0.1", "username": "support@northwind.test",
             "password_env": "CC_TEST_MAIL_PW"},
}  # fmt: skip


def test_the_example_is_off_and_shows_every_key() -> None:
    settings = load_mail_settings(CONFIG, load_center(CONFIG))
    assert settings.enabled is False
    doc = yaml.safe_load((CONFIG / "mail.yaml").read_text())["mail"]
    assert set(doc) == set(MailSettings.model_fields)
    assert set(doc["mailboxes"][0]) == set(Mailbox.model_fields)


def problems(tmp_path: Path, section: dict[str, object]) -> list[str]:
    (tmp_path / "mail.yaml").write_text(yaml.safe_dump({"mail": section}))
    with pytest.raises(ConfigError) as err:
        load_mail_settings(tmp_path, load_center(CONFIG))
    return [str(i) for i in err.value.issues]


@pytest.mark.parametrize(("section", "key", "reason"), [
    ({"enabled": True, "mailboxes": [{**GOOD_BOX, "imap": {**GOOD_BOX["imap"], "password": "x"}}],
      "smtp": {"host": "h"}}, "mail.mailboxes.0.imap", "password: never in the YAML"),
    ({"enabled": True, "mailboxes": [{**GOOD_BOX, "queue": "sales"}], "smtp": {"host": "h"}},
     "mail.mailboxes.0.queue", "queue 'sales' is a voice queue, not an email one"),
    ({"enabled": True, "mailboxes": [{**GOOD_BOX, "queue": "nope"}], "smtp": {"host": "h"}},
     "mail.mailboxes.0.queue", "no queue 'nope' in the center"),
    ({"enabled": True, "mailboxes": [{**GOOD_BOX, "rules": [{"subject": "(", "queue": "x"}]}],
      "smtp": {"host": "h"}}, "mail.mailboxes.0.rules.0.subject", "not a regular expression"),
    ({"enabled": True, "mailboxes": [GOOD_BOX]}, "mail", "needs smtp"),
    ({"enabled": True, "mailboxes": [{**GOOD_BOX, "acknowledge": {"text": "Thanks"}}],
      "smtp": {"host": "h"}}, "mail.mailboxes.0.acknowledge.text", "{reference}"),
    ({"enabled": True, "mailboxes": [{**GOOD_BOX, "rules": [
        {"subject": "x", "queue": "support_email", "acknowledge": {"text": "Thanks"}}]}],
      "smtp": {"host": "h"}}, "mail.mailboxes.0.rules.0.acknowledge.text", "{reference}"),
    ({"enabled": True, "mailboxes": [GOOD_BOX], "smtp": {"host": "h"}},
     "mail.mailboxes.0.imap.password_env", "CC_TEST_MAIL_PW is not set"),
])  # fmt: skip
def test_a_mistake_names_the_file_the_key_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, section: dict[str, object], key: str,
    reason: str,
) -> None:  # fmt: skip
    if "not set" in reason:
        monkeypatch.delenv("CC_TEST_MAIL_PW", raising=False)
    else:
        monkeypatch.setenv("CC_TEST_MAIL_PW", "s3cret")
    found = problems(tmp_path, section)
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'mail.yaml'}: {key}:"), found
    assert reason in found[0], found


def test_serve_with_a_bad_mail_yaml_says_so_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config"
    subprocess.run(["cp", "-r", str(CONFIG), str(config)], check=True)
    bad = {"enabled": True, "mailboxes": [{**GOOD_BOX, "queue": "sales"}], "smtp": {"host": "h"}}
    (config / "mail.yaml").write_text(yaml.safe_dump({"mail": bad}))
    db = tmp_path / "var" / "cc.sqlite3"
    env = {**os.environ, "CC_TEST_MAIL_PW": "s3cret"}
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "serve", "--config", str(config), "--db", str(db),
         "--port", "0"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"{config / 'mail.yaml'}: mail.mailboxes.0.queue: queue 'sales' is a voice queue, "
        "not an email one"
    ]
    assert not db.parent.exists()
