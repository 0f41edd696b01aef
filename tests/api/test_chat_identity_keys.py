"""The chat identity keys file (its own file, owner-only, read again when it changes) and
``contactcenter chat-identity sign``, which signs as a site's backend would."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from contactcenter.api.chat_identity import Keyring, KeysFileError, read_keys
from contactcenter.cli import main
from contactcenter.identity import (
    IdentityKeys,
    IdentityRefused,
    SignedIdentity,
    format_keys,
    signature,
    verify,
)

K1 = ("k1", "a" * 64)
K2 = ("k2", "b" * 64)


def write(path: Path, *keys: tuple[str, str], mode: int = 0o600) -> None:
    """Replace the file, as an editor or a deploy tool would (a new inode)."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(format_keys(IdentityKeys(keys)))
    tmp.chmod(mode)
    os.replace(tmp, path)


def test_a_missing_file_can_be_created_where_its_directory_is_writable(tmp_path: Path) -> None:
    assert read_keys(tmp_path / "keys") is None
    with pytest.raises(KeysFileError, match=r"keys .*/nowhere/keys: no directory"):
        read_keys(tmp_path / "nowhere" / "keys")
    assert read_keys(tmp_path / "nowhere" / "keys", directory_made=True) is None


def test_a_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    write(path, K1, mode=0o644)
    with pytest.raises(KeysFileError) as caught:
        read_keys(path)
    assert str(caught.value) == (
        f"chat identity keys {path}: others may read it (mode 0644); chmod 600 it"
    )
    path.chmod(0o600)
    assert read_keys(path) == IdentityKeys((K1,))


def test_a_malformed_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text("# keys\nk1 tooshort\n")
    path.chmod(0o600)
    with pytest.raises(KeysFileError) as caught:
        read_keys(path)
    assert str(caught.value) == (
        f"chat identity keys {path}: line 2: the secret needs 32 characters or more"
    )


def test_the_keyring_reads_a_changed_file_and_keeps_its_keys_over_a_broken_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys"
    write(path, K1)
    ring = Keyring(IdentityKeys((K1,)), path)
    write(path, K1, K2)  # a new key added: both verify
    assert ring.keys().kids == ("k1", "k2")
    write(path, K2)  # the old one removed
    assert ring.keys().kids == ("k2",)
    with caplog.at_level(logging.ERROR):
        path.write_text("k3 short\n")  # a broken edit: the keys read before stay
        assert ring.keys().kids == ("k2",)
    assert "line 1" in caplog.text and "b" * 64 not in caplog.text
    write(path, K1)
    assert ring.keys().kids == ("k1",)


def sign_cli(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, object] | None, str]:
    code = main(["chat-identity", "sign", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def test_sign_prints_the_fields_a_site_passes_to_the_widget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys"
    write(path, K1, K2)
    code, fields, err = sign_cli(
        capsys, "--customer", "C1001", "--ttl", "600", "--keys", str(path), "--name", "Helena B"
    )
    assert code == 0 and err == "" and fields is not None
    assert fields["customer_id"] == "C1001" and fields["kid"] == "k2"
    expires = fields["expires"]
    assert isinstance(expires, int) and 590 <= expires - time.time() <= 600
    assert fields["signature"] == signature(K2[1], "web", "C1001", expires)
    token = SignedIdentity("C1001", expires, "k2", str(fields["signature"]))
    assert verify(token, IdentityKeys((K2,)), "web", time.time()).verified
    with pytest.raises(IdentityRefused):
        verify(token, IdentityKeys((K2,)), "shop", time.time())
    fragment = parse_qs(str(fields["fragment"]))
    assert fragment == {
        "customer_id": ["C1001"], "expires": [str(expires)], "kid": ["k2"],
        "signature": [fields["signature"]], "name": ["Helena B"],
    }  # fmt: skip

    code, fields, _ = sign_cli(
        capsys, "--customer", "C1002", "--keys", str(path), "--kid", "k1", "--widget", "shop"
    )
    assert code == 0 and fields is not None and fields["kid"] == "k1"
    assert fields["signature"] == signature(K1[1], "shop", "C1002", int(str(fields["expires"])))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--ttl", "0"], "--ttl must be 1-86400 seconds"),
        (["--ttl", "86401"], "--ttl must be 1-86400 seconds"),
        (["--kid", "k7"], "no key 'k7' (keys: k1)"),
        (["--customer", "C1|9"], "customer id 'C1|9'"),
    ],
)
def test_sign_refuses_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    path = tmp_path / "keys"
    write(path, K1)
    code, fields, err = sign_cli(capsys, "--customer", "C1001", "--keys", str(path), *args)
    assert code == 1 and fields is None
    assert err.startswith("contactcenter chat-identity sign: ") and said in err
    assert len(err.splitlines()) == 1


def test_sign_without_a_keys_file_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = sign_cli(capsys, "--customer", "C1001", "--keys", str(tmp_path / "none"))
    assert code == 1
    assert err == (
        f"contactcenter chat-identity sign: no keys file {tmp_path / 'none'} "
        "(serve creates it; or give --keys FILE)\n"
    )
