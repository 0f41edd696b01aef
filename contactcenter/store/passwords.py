"""Password hashing: scrypt with a random salt, compared in constant time.

Parameters (RFC 7914 names): ``N = 2**15`` (CPU/memory cost), ``r = 8`` (block size),
``p = 3`` (parallelism), a 16-byte salt from ``secrets`` and a 32-byte key. One hash takes
``128 * N * r`` = 32 MiB and about 0.1-0.3 s of one core; it is one of the settings the OWASP
Password Storage Cheat Sheet lists as equivalent minimums (N=2^17/p=1 ... N=2^13/p=10).
The parameters are stored with each hash, so raising them later keeps old hashes verifiable.
Hashing is CPU-bound: the store runs it in a worker thread, off the event loop.

Encoded form: ``scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

N = 2**15
R = 8
P = 3
SALT_BYTES = 16
KEY_BYTES = 32
_SCHEME = "scrypt"


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # maxmem must exceed 128 * n * r; OpenSSL's default limit (32 MiB) is just too small.
    maxmem = 256 * n * r + 2**20
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """A new salted scrypt hash of ``password`` in the encoded form above."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, N, R, P, KEY_BYTES)
    return f"{_SCHEME}${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded``; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = encoded.split("$")
        if scheme != _SCHEME:
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(key_b64, validate=True)
        got = _derive(password, salt, int(n), int(r), int(p), len(expected))
    except ValueError:  # bad layout, base64 or parameters (scrypt raises ValueError too)
        return False
    return hmac.compare_digest(got, expected)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    """Do the work of one verification, so an unknown user name costs as long as a known one."""
    verify_password(password, _dummy_hash())
