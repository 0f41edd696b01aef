"""Sealing personal values at rest: AES-256-GCM under a keyring kept outside the database, and
keyed hashes for the look-ups that must still find a customer by phone, e-mail or account.

A sealed value is self-describing text, ``enc1:<kid>:<base64(nonce | ciphertext | tag)>``: the
key id says which data key opens it, so values sealed before and after a key rotation live side
by side. The associated data names the table and column (``customers.phone``): a value copied
into another column, or another table, does not open there. A text without the prefix is a
value stored in clear by an older version (readable; the store seals it on upgrade).

Look-ups never decrypt: a column that is searched has a companion hash column holding
HMAC-SHA256 (index key) of the normalised value (``normalise``); a look-up computes the hash
under every index key of the keyring (one, or two while the index key is being rotated).

Pure: no files, no database, no clock. ``data_keys.py`` keeps the keyring in its file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contactcenter.store.errors import MissingDataKey, UnreadableValue

PREFIX = "enc1:"
"""What every sealed value starts with (format 1: AES-256-GCM, 96-bit random nonce)."""

KEY_BYTES = 32
NONCE_BYTES = 12
FILE_FORMAT = "contactcenter data keys 1"

LookupKind = Literal["phone", "email", "account"]

_KID = re.compile(r"[a-z][0-9a-f]{8}")


def normalise(kind: LookupKind, value: str) -> str:
    """The form a look-up compares: an e-mail casefolded and stripped, a phone number's digits
    (with its leading ``+`` kept), an account number stripped."""
    match kind:
        case "email":
            return value.strip().casefold()
        case "phone":
            stripped = value.strip()
            digits = "".join(c for c in stripped if c.isdigit())
            return "+" + digits if stripped.startswith("+") else digits
        case "account":
            return value.strip()


def _new_kid(prefix: str, taken: Mapping[str, bytes]) -> str:
    while True:
        kid = prefix + secrets.token_hex(4)
        if kid not in taken:
            return kid


class Keyring:
    """Data keys (one active: it seals new values; the others still open old ones) and index
    keys (the active one hashes new values; all of them are tried by a look-up).

    Immutable: rotation makes a new keyring (``with_new_data_key``, ``keeping``)."""

    __slots__ = ("_ciphers", "active", "data_keys", "index_active", "index_keys")

    def __init__(
        self,
        data_keys: Mapping[str, bytes],
        active: str,
        index_keys: Mapping[str, bytes],
        index_active: str,
    ) -> None:
        for kid, key in (*data_keys.items(), *index_keys.items()):
            if not _KID.fullmatch(kid):
                raise ValueError(f"key id {kid!r} is not a letter and 8 hex digits")
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {kid} is {len(key)} bytes, not {KEY_BYTES}")
        if active not in data_keys:
            raise ValueError(f"the active data key {active!r} is not among the data keys")
        if index_active not in index_keys:
            raise ValueError(f"the active index key {index_active!r} is not among the index keys")
        if set(data_keys) & set(index_keys):
            raise ValueError("a key id is both a data key and an index key")
        self.data_keys: Mapping[str, bytes] = dict(data_keys)
        self.active = active
        self.index_keys: Mapping[str, bytes] = dict(index_keys)
        self.index_active = index_active
        self._ciphers = {kid: AESGCM(key) for kid, key in self.data_keys.items()}

    @classmethod
    def new(cls) -> Keyring:
        """A keyring with one fresh data key and one fresh index key."""
        data_kid, index_kid = _new_kid("d", {}), _new_kid("i", {})
        return cls(
            {data_kid: AESGCM.generate_key(bit_length=8 * KEY_BYTES)},
            data_kid,
            {index_kid: secrets.token_bytes(KEY_BYTES)},
            index_kid,
        )

    def with_new_data_key(self) -> Keyring:
        """This keyring plus a fresh data key, which becomes the active one."""
        kid = _new_kid("d", {**self.data_keys, **self.index_keys})
        keys = {**self.data_keys, kid: AESGCM.generate_key(bit_length=8 * KEY_BYTES)}
        return Keyring(keys, kid, self.index_keys, self.index_active)

    def with_new_index_key(self) -> Keyring:
        """This keyring plus a fresh index key, which becomes the active one."""
        kid = _new_kid("i", {**self.data_keys, **self.index_keys})
        keys = {**self.index_keys, kid: secrets.token_bytes(KEY_BYTES)}
        return Keyring(self.data_keys, self.active, keys, kid)

    def keeping(self, data: set[str], index: set[str]) -> Keyring:
        """Only the keys named (the active ones are always kept)."""
        return Keyring(
            {k: v for k, v in self.data_keys.items() if k in data or k == self.active},
            self.active,
            {k: v for k, v in self.index_keys.items() if k in index or k == self.index_active},
            self.index_active,
        )

    def merged(self, older: Keyring) -> Keyring:
        """This keyring (its active keys rule) plus keys only ``older`` still has: a running
        store keeps the keys it knew when a rotation drops them from the file."""
        return Keyring(
            {**older.data_keys, **self.data_keys},
            self.active,
            {**older.index_keys, **self.index_keys},
            self.index_active,
        )

    # -- sealing ----------------------------------------------------------------------------

    def seal(self, value: str, where: str) -> str:
        """``value`` sealed under the active data key for column ``where`` (``table.column``)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active].encrypt(nonce, value.encode(), where.encode())
        return f"{PREFIX}{self.active}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, value: str, where: str) -> str:
        """The clear text of a sealed ``value`` read from column ``where``.

        ``MissingDataKey`` if its key is not in this keyring; ``UnreadableValue`` if it was
        changed, cut, or sealed for another column."""
        kid, _, body = value.removeprefix(PREFIX).partition(":")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise MissingDataKey(kid)
        try:
            raw = base64.b64decode(body, validate=True)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], where.encode()).decode()
        except (binascii.Error, InvalidTag, ValueError) as e:
            raise UnreadableValue(
                f"a sealed value in {where} does not open with key {kid}: it was changed, cut "
                "or moved from another column"
            ) from e

    # -- look-up hashes ---------------------------------------------------------------------

    def lookup_hash(self, kind: LookupKind, value: str) -> bytes:
        """The hash stored beside a new value (active index key)."""
        return _hash(self.index_keys[self.index_active], kind, value)

    def lookup_hashes(self, kind: LookupKind, value: str) -> list[bytes]:
        """The hashes a look-up searches for: one per index key, the active one first."""
        kids = [self.index_active, *(k for k in self.index_keys if k != self.index_active)]
        return [_hash(self.index_keys[k], kind, value) for k in kids]

    # -- the keys file's content ------------------------------------------------------------

    def to_json(self) -> bytes:
        """The keyring as the keys file holds it (secrets: keep it 0600)."""

        def b64(keys: Mapping[str, bytes]) -> dict[str, str]:
            return {k: base64.b64encode(v).decode() for k, v in sorted(keys.items())}

        doc = {
            "format": FILE_FORMAT,
            "data": {"active": self.active, "keys": b64(self.data_keys)},
            "index": {"active": self.index_active, "keys": b64(self.index_keys)},
        }
        return (json.dumps(doc, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Keyring:
        """Parse a keys file; ``ValueError`` saying what is wrong (never a key)."""
        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError("not JSON") from e
        if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
            raise ValueError(f'no "format": "{FILE_FORMAT}"')

        def part(name: str) -> tuple[dict[str, bytes], str]:
            section = doc.get(name)
            if not isinstance(section, dict):
                raise ValueError(f"no {name!r} section")
            active, keys = section.get("active"), section.get("keys")
            if not isinstance(active, str) or not isinstance(keys, dict):
                raise ValueError(f'{name!r} needs "active" and "keys"')
            try:
                return {
                    str(k): base64.b64decode(str(v), validate=True) for k, v in keys.items()
                }, active
            except binascii.Error as e:
                raise ValueError(f"a key in {name!r} is not base64") from e

        data, active = part("data")
        index, index_active = part("index")
        return cls(data, active, index, index_active)


def is_sealed(value: str) -> bool:
    """Whether ``value`` is a sealed value (else a clear one an older version stored)."""
    return value.startswith(PREFIX)


def kid_of(value: str) -> str:
    """The id of the data key a sealed value is sealed with."""
    return value.removeprefix(PREFIX).partition(":")[0]


def _hash(key: bytes, kind: LookupKind, value: str) -> bytes:
    message = f"{kind}\x00{normalise(kind, value)}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()
