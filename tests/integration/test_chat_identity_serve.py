"""Signed chat identities with a real ``contactcenter serve``: it makes its keys file (0600) on
first run and names it, never a secret; a token from ``contactcenter chat-identity sign`` is
verified (the agent sees the CRM card), a forged one is refused, keys rotate without a restart,
and a keys file others may read stops the start in one line."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from contactcenter.api.chat_identity import KEYS_FILE
from contactcenter.identity import IdentityKeys, format_keys, parse_keys
from tests.integration.server import ROOT, call, fresh_server, login

USERS = [("root", "admin", None), ("a05", "agent", "a05")]  # a05 takes sales chats


def sign(keys: Path, customer: str, *more: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "chat-identity", "sign", "--customer", customer,
         "--keys", str(keys), "--ttl", "300", *more],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    fields: dict[str, Any] = json.loads(done.stdout)
    return {k: fields[k] for k in ("customer_id", "expires", "kid", "signature")}


def rewrite(path: Path, keys: IdentityKeys) -> None:
    """Replace the keys file as an operator's deploy would (0600, a new file)."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(format_keys(keys))
    os.replace(tmp, path)


async def start(http: aiohttp.ClientSession, base: str, identity: dict[str, Any]) -> Any:
    body = {"name": "Jan", "topic": "sales", "identity": identity}
    async with http.post(f"{base}/api/chat", json=body) as resp:
        return resp.status, await resp.json()


async def test_serve_makes_its_keys_and_a_cli_token_is_verified(tmp_path: Path) -> None:
    with fresh_server(tmp_path, USERS) as srv:
        base = srv.start()
        keys_file = srv.db.parent / KEYS_FILE
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        keys = parse_keys(keys_file.read_text())
        out = srv.log()
        assert str(keys_file) in out and keys.secrets[0][1] not in out

        async with aiohttp.ClientSession() as http:
            status, chat = await start(http, base, sign(keys_file, "C1008"))
            assert status == 201, chat
            agent = await login(http, base, "a05")
            await call(http, "POST", f"{base}/api/agent/login", agent)
            card: dict[str, Any] = {}
            for _ in range(200):  # until the chat rings at a05
                async with http.get(
                    f"{base}/api/agent/contacts/{chat['contact_id']}", headers=agent
                ) as resp:
                    if resp.status == 200:
                        card = (await resp.json())["customer"]
                        break
                await asyncio.sleep(0.05)
            assert card["verified"] is True and card["customer_id"] == "C1008"
            assert card["name"] == "Jan Novak"  # the CRM's, not what the widget said

            forged = {**sign(keys_file, "C1008"), "customer_id": "C1001"}
            status, refused = await start(http, base, forged)
            assert status == 401 and refused["error"]["code"] == "identity_invalid"

            # rotation while it runs: a second key, then the first one removed
            old = sign(keys_file, "C1008")
            second = IdentityKeys((*keys.secrets, ("k2", "c" * 64)))
            rewrite(keys_file, second)
            by_second = sign(keys_file, "C1008")
            assert by_second["kid"] == "k2"
            assert (await start(http, base, by_second))[0] == 201
            assert (await start(http, base, old))[0] == 201
            rewrite(keys_file, IdentityKeys((("k2", "c" * 64),)))
            status, refused = await start(http, base, old)
            assert status == 401 and refused["error"]["details"] == [{"reason": "unknown_key"}]
            assert (await start(http, base, by_second))[0] == 201

            async with http.get(f"{base}/metrics") as resp:
                metrics = await resp.text()
        assert 'contactcenter_chat_identities_total{outcome="verified"} 4.0' in metrics
        assert 'contactcenter_chat_identities_total{outcome="unknown_key"} 1.0' in metrics
        assert "C1008" not in metrics
        log = srv.log()
        assert "unknown_key" in log and "bad_signature" in log
        assert old["signature"] not in log and "C1008" not in log and "C1001" not in log
        assert srv.stop() == 0


async def test_keys_in_a_file_of_the_operators_choosing(tmp_path: Path) -> None:
    with fresh_server(tmp_path, USERS) as srv:
        keys_file = tmp_path / "secrets" / "chat-keys"
        keys_file.parent.mkdir(mode=0o700)
        srv.extra = ["--chat-identity-keys", str(keys_file)]
        srv.start()
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        assert not (srv.db.parent / KEYS_FILE).exists()
        assert f"keys {keys_file}" in srv.log()
        assert srv.stop() == 0


def test_a_keys_file_others_may_read_stops_serve_in_one_line(tmp_path: Path) -> None:
    keys_file = tmp_path / "chat-keys"
    keys_file.write_text(format_keys(IdentityKeys((("k1", "d" * 64),))))
    keys_file.chmod(0o644)
    db = tmp_path / "var" / "cc.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "serve", "--config", str(ROOT / "config"),
         "--db", str(db), "--host", "127.0.0.1", "--port", "0",
         "--chat-identity-keys", str(keys_file)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    lines = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 1 and lines == [
        f"contactcenter serve: cannot start: chat identity keys {keys_file}: others may read "
        "it (mode 0644); chmod 600 it"
    ]
    assert not db.exists()  # nothing written
    assert "d" * 64 not in done.stdout + done.stderr
