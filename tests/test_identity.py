"""Signed chat identities (``contactcenter/identity.py``): what is signed, and every way a token
must fail."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from contactcenter.identity import (
    MAX_LIFETIME_SECONDS,
    Identity,
    IdentityKeys,
    IdentityRefused,
    KeysError,
    SignedIdentity,
    format_keys,
    new_keys,
    parse_keys,
    sign,
    signature,
    verify,
)
from tests import peers

SECRET = "kat-secret-0123456789abcdef0123456789"
EXPIRES = 1_767_225_600  # 2026-01-01T00:00:00Z
NOW = EXPIRES - 600
KAT = "bab67de96bf18cdb9227d4b294d2f710df8c505e75a0c42dbd57ea63389faa61"
"""``printf '%s' 'v1|web|C1001|1767225600' | openssl dgst -sha256 -hmac "$SECRET"``"""
KEYS = IdentityKeys((("k1", SECRET),))


def refused(token: SignedIdentity, keys: IdentityKeys = KEYS, widget: str = "web") -> str:
    with pytest.raises(IdentityRefused) as caught:
        verify(token, keys, widget, NOW)
    return caught.value.reason


def test_known_answer_vector() -> None:
    assert signature(SECRET, "web", "C1001", EXPIRES) == KAT
    assert sign(KEYS, "web", "C1001", EXPIRES) == SignedIdentity("C1001", EXPIRES, "k1", KAT)
    token = SignedIdentity("C1001", EXPIRES, "k1", KAT)
    assert verify(token, KEYS, "web", NOW) == Identity("C1001", verified=True)


@peers.required(None if shutil.which("openssl") else "no openssl (apt-get install openssl)")
def test_openssl_computes_the_same_signature() -> None:
    """What a site's shell script would run (README) gives the engine's signature."""
    done = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", SECRET],
        input=f"v1|web|C1002|{EXPIRES}".encode(), capture_output=True, check=True,
    )  # fmt: skip
    theirs = done.stdout.decode().split("= ")[-1].strip()
    assert theirs == signature(SECRET, "web", "C1002", EXPIRES)
    assert verify(SignedIdentity("C1002", EXPIRES, "k1", theirs), KEYS, "web", NOW).verified


def test_a_tampered_customer_id_is_refused() -> None:
    assert refused(SignedIdentity("C1002", EXPIRES, "k1", KAT)) == "bad_signature"


def test_a_tampered_expiry_is_refused() -> None:
    assert refused(SignedIdentity("C1001", EXPIRES + 3600, "k1", KAT)) == "bad_signature"


def test_a_changed_signature_is_refused() -> None:
    wrong = KAT[:-1] + ("0" if KAT[-1] != "0" else "1")
    assert refused(SignedIdentity("C1001", EXPIRES, "k1", wrong)) == "bad_signature"
    assert refused(SignedIdentity("C1001", EXPIRES, "k1", KAT.upper())) == "bad_signature"


def test_a_token_for_another_widget_is_refused() -> None:
    token = sign(KEYS, "shop", "C1001", EXPIRES)
    assert refused(token) == "bad_signature"
    assert verify(token, KEYS, "shop", NOW).customer_id == "C1001"


def test_an_expired_token_is_refused() -> None:
    assert refused(sign(KEYS, "web", "C1001", NOW)) == "expired"
    assert refused(sign(KEYS, "web", "C1001", NOW - 1)) == "expired"
    assert verify(sign(KEYS, "web", "C1001", NOW + 1), KEYS, "web", NOW).verified


def test_a_token_living_longer_than_the_cap_is_refused() -> None:
    far = int(NOW) + MAX_LIFETIME_SECONDS
    assert verify(sign(KEYS, "web", "C1001", far), KEYS, "web", NOW).verified
    assert refused(sign(KEYS, "web", "C1001", far + 1)) == "lifetime_too_long"


def test_an_unknown_key_id_is_refused() -> None:
    other = IdentityKeys((("k2", SECRET),))
    assert refused(SignedIdentity("C1001", EXPIRES, "k2", KAT)) == "unknown_key"
    assert refused(sign(other, "web", "C1001", EXPIRES)) == "unknown_key"


def test_rotation_both_keys_verify_the_newest_signs_the_removed_one_fails() -> None:
    old, new = ("k1", SECRET), ("k2", "second-secret-abcdefghijklmnopqrstuvwxyz")
    both = IdentityKeys((old, new))
    by_old = sign(IdentityKeys((old,)), "web", "C1001", EXPIRES)
    by_new = sign(both, "web", "C1001", EXPIRES)
    assert by_new.kid == "k2" and by_new.signature != by_old.signature
    assert verify(by_old, both, "web", NOW).verified and verify(by_new, both, "web", NOW).verified
    after = IdentityKeys((new,))
    assert refused(by_old, after) == "unknown_key"
    assert verify(by_new, after, "web", NOW).verified


def test_a_name_that_could_fake_the_canonical_string_cannot_be_signed() -> None:
    with pytest.raises(ValueError):
        signature(SECRET, "web", "C1001|9999999999", EXPIRES)
    with pytest.raises(ValueError):
        sign(KEYS, "web|x", "C1001", EXPIRES)


def test_keys_text_round_trips_and_the_last_key_signs() -> None:
    keys = IdentityKeys((("k1", SECRET), ("2026-06", "y" * 64)))
    assert parse_keys(format_keys(keys)) == keys
    assert keys.signing_kid == "2026-06"
    fresh = new_keys()
    assert len(fresh.secrets[0][1]) == 64 and fresh != new_keys()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no key in it"),
        ("# only a comment\n\n", "no key in it"),
        (f"k1 {SECRET} extra\n", "line 1: expected '<key id> <secret>'"),
        ("k1 short\n", "line 1: the secret needs 32 characters or more"),
        (f"k|1 {SECRET}\n", "line 1: key id"),
        (f"k1 {SECRET}\n# x\nk1 {'z' * 40}\n", "line 3: key id k1 is listed twice"),
    ],
)
def test_bad_keys_text_names_the_line(text: str, problem: str) -> None:
    with pytest.raises(KeysError) as caught:
        parse_keys(text)
    assert str(caught.value).startswith(problem)


def test_the_readme_example_for_a_sites_backend_signs_what_the_engine_verifies() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    example = re.search(r"```python\n(.*?def chat_url.*?)```", readme, re.S)
    assert example is not None, "README: the site backend's example is gone"
    scope: dict[str, object] = {}
    exec(example.group(1), scope)
    url = scope["chat_url"]("https://chat.example.com", "k1", SECRET, "C1001")  # type: ignore[operator]
    assert url.startswith("https://chat.example.com/chat#")
    given = {k: v[0] for k, v in parse_qs(urlsplit(url).fragment).items()}
    token = SignedIdentity(given["customer_id"], int(given["expires"]), given["kid"],
                           given["signature"])  # fmt: skip
    assert verify(token, KEYS, "web", time.time()) == Identity("C1001", verified=True)
