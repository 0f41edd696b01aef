"""The sealing itself (``contactcenter.store.sealing``): AES-GCM under the keyring, values bound
to their column, look-up hashes of normalised values, and the keys file's format."""

from __future__ import annotations

import base64
import json

import pytest

from contactcenter.store.errors import MissingDataKey, UnreadableValue
from contactcenter.store.sealing import Keyring, is_sealed, kid_of, normalise


@pytest.fixture
def ring() -> Keyring:
    return Keyring.new()


@pytest.mark.parametrize("value", ["Ada Lovelace", "", "Zoë 🙂 \u0000 ünïcode", "x" * 5000])
def test_a_sealed_value_opens_to_what_was_sealed(ring: Keyring, value: str) -> None:
    sealed = ring.seal(value, "customers.name")
    assert is_sealed(sealed) and kid_of(sealed) == ring.active
    assert sealed.startswith(f"enc1:{ring.active}:")
    assert value.encode() not in sealed.encode() or value == ""
    assert ring.open(sealed, "customers.name") == value


def test_the_same_value_seals_differently_each_time(ring: Keyring) -> None:
    a, b = (ring.seal("+493055500001", "customers.phone") for _ in range(2))
    assert a != b


def test_a_value_does_not_open_in_another_column(ring: Keyring) -> None:
    sealed = ring.seal("+493055500001", "customers.phone")
    with pytest.raises(UnreadableValue, match=r"customers\.email"):
        ring.open(sealed, "customers.email")
    with pytest.raises(UnreadableValue, match=r"callbacks\.phone"):
        ring.open(sealed, "callbacks.phone")


def _flip(sealed: str, at: int) -> str:
    prefix, _, body = sealed.rpartition(":")
    raw = bytearray(base64.b64decode(body))
    raw[at] ^= 0x01
    return f"{prefix}:{base64.b64encode(bytes(raw)).decode()}"


@pytest.mark.parametrize("at", [0, 11, 12, -1])  # nonce, ciphertext, tag
def test_a_changed_bit_anywhere_is_refused(ring: Keyring, at: int) -> None:
    sealed = ring.seal("refund promised", "contacts.disposition_notes")
    with pytest.raises(UnreadableValue):
        ring.open(_flip(sealed, at), "contacts.disposition_notes")


@pytest.mark.parametrize("body", ["", "AAAA", "not base64!", "QUJD" * 3])
def test_a_cut_or_garbled_value_is_refused(ring: Keyring, body: str) -> None:
    with pytest.raises(UnreadableValue):
        ring.open(f"enc1:{ring.active}:{body}", "messages.text")


def test_a_value_of_an_unknown_key_names_the_key(ring: Keyring) -> None:
    other = Keyring.new()
    sealed = other.seal("hello", "messages.text")
    with pytest.raises(MissingDataKey) as err:
        ring.open(sealed, "messages.text")
    assert err.value.kid == other.active


def test_a_rotated_keyring_opens_old_values_and_seals_under_the_new_key(ring: Keyring) -> None:
    old = ring.seal("hello", "messages.text")
    rotated = ring.with_new_data_key()
    assert rotated.active != ring.active and set(rotated.data_keys) > set(ring.data_keys)
    new = rotated.seal("hello", "messages.text")
    assert kid_of(new) == rotated.active
    assert rotated.open(old, "messages.text") == rotated.open(new, "messages.text") == "hello"
    trimmed = rotated.keeping(data=set(), index=set())
    assert set(trimmed.data_keys) == {rotated.active}
    with pytest.raises(MissingDataKey):
        trimmed.open(old, "messages.text")


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("email", "Ada@Example.COM ", "ada@example.com"),
        ("email", "STRASSE@example.de", "straße@example.de"),  # casefold, not lower
        ("phone", "+49 (30) 5550-0001", "+493055500001"),
        ("phone", "030 5550 0001", "03055500001"),
        ("account", " AC-1 ", "AC-1"),
    ],
)
def test_look_up_hashes_match_normalised_values(ring: Keyring, kind: str, a: str, b: str) -> None:
    assert normalise(kind, a) == normalise(kind, b)  # type: ignore[arg-type]
    assert ring.lookup_hash(kind, a) == ring.lookup_hash(kind, b)  # type: ignore[arg-type]


def test_look_up_hashes_differ_where_they_must(ring: Keyring) -> None:
    assert ring.lookup_hash("phone", "+4930") != ring.lookup_hash("phone", "4930")
    assert ring.lookup_hash("phone", "12345") != ring.lookup_hash("account", "12345")
    assert ring.lookup_hash("account", "ac-1") != ring.lookup_hash("account", "AC-1")
    assert ring.lookup_hash("phone", "+4930") != Keyring.new().lookup_hash("phone", "+4930")


def test_a_look_up_hash_is_hmac_sha256_of_kind_and_normalised_value() -> None:
    """The stored format (changing it would orphan every stored hash): HMAC-SHA256 under the
    index key of ``kind NUL normalised value``; the expected value is from ``openssl dgst``."""
    key = bytes.fromhex("11" * 32)
    ring = Keyring({"d00000000": bytes(32)}, "d00000000", {"i00000000": key}, "i00000000")
    assert ring.lookup_hash("phone", "+49 30 5550 0001").hex() == (
        "4ae8654a285c79402d3b9a5b40c417205dedadfd2a486fe808146e0c306af697"
    )


def test_during_an_index_rotation_a_look_up_tries_both_keys(ring: Keyring) -> None:
    old = ring.lookup_hash("email", "ada@example.com")
    rotated = ring.with_new_index_key()
    hashes = rotated.lookup_hashes("email", "ada@example.com")
    assert hashes[0] == rotated.lookup_hash("email", "ada@example.com") != old
    assert hashes[1:] == [old]


def test_the_keys_file_format_round_trips(ring: Keyring) -> None:
    rotated = ring.with_new_data_key()
    again = Keyring.from_json(rotated.to_json())
    assert (again.active, again.index_active) == (rotated.active, rotated.index_active)
    assert again.data_keys == rotated.data_keys and again.index_keys == rotated.index_keys
    sealed = rotated.seal("x", "surveys.comment")
    assert again.open(sealed, "surveys.comment") == "x"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: "not json at all", "not JSON"),
        (lambda d: {**d, "format": "something else"}, "format"),
        (lambda d: {k: v for k, v in d.items() if k != "index"}, "index"),
        (lambda d: {**d, "data": {**d["data"], "active": "d99999999"}}, "active data key"),
        (lambda d: {**d, "data": {**d["data"], "keys": {"d12345678": "###"}}}, "base64"),
        (lambda d: {**d, "data": {"active": "d12345678", "keys": {"d12345678": "AAAA"}}},
         "3 bytes"),
        (lambda d: {**d, "data": {"active": "x:y", "keys": {"x:y": "A" * 44}}}, "key id"),
    ],
)  # fmt: skip
def test_a_bad_keys_file_says_what_is_wrong(ring: Keyring, change: object, reason: str) -> None:
    doc = json.loads(ring.to_json())
    bad = change(doc)  # type: ignore[operator]
    raw = bad.encode() if isinstance(bad, str) else json.dumps(bad).encode()
    with pytest.raises(ValueError, match=reason):
        Keyring.from_json(raw)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("email", "  Ada@Example.com\n", "ada@example.com"),
        ("phone", " +44 (20) 7946-0958 ", "+442079460958"),
        ("phone", "0044 20 7946 0958", "00442079460958"),
        ("phone", "ext. 12", "12"),
        ("account", "\tAC 1 ", "AC 1"),
    ],
)
def test_normalise(kind: str, value: str, expected: str) -> None:
    assert normalise(kind, value) == expected  # type: ignore[arg-type]
