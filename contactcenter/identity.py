"""Who a web chat's customer is, and how the engine knows it.

The chat widget runs in the visitor's browser, so any customer id it sends can be made up. The
site's own backend knows who is logged in: it vouches for a customer id by signing it with a
secret it shares only with the engine, and the widget forwards the signature. Only such a
*verified* identity buys the customer's tier, dedicated agent and history; anything else the
widget says is a *claim*, shown to the agent as not verified and never used for routing.

The token (version ``v1``): HMAC-SHA256, lowercase hex, over the canonical string
``v1|<widget>|<customer_id>|<expires>`` (``expires``: Unix seconds), under the secret named by
``kid``. The widget id binds a token to one chat widget; the expiry bounds how long a leaked
token is good for (and a token may not live longer than ``MAX_LIFETIME_SECONDS``). Several
keys may be active at once, so a site can move to a new key before the old one is removed.

Pure: no clock (``now`` comes in), no files; ``secrets`` is used only to make new keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

VERSION = "v1"
MAX_LIFETIME_SECONDS = 86_400
"""A token may expire at most this far in the future (a day): no token is good for ever."""
MIN_SECRET_CHARS = 32
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Customer ids, widget ids and key ids: no ``|``, so the canonical string is unambiguous."""
_SECRET = re.compile(r"^[\x21-\x7e]+$")

Reason = Literal["unknown_key", "bad_signature", "expired", "lifetime_too_long"]
REASONS: tuple[Reason, ...] = ("unknown_key", "bad_signature", "expired", "lifetime_too_long")
_SAID: dict[Reason, str] = {
    "unknown_key": "the key id is not one of this server's keys",
    "bad_signature": "the signature does not match (another widget, customer or expiry?)",
    "expired": "the identity has expired",
    "lifetime_too_long": f"the expiry is more than {MAX_LIFETIME_SECONDS} s away",
}


class IdentityRefused(Exception):
    """A signed identity that must not be trusted; ``reason`` is a stable code."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(_SAID[reason])
        self.reason: Reason = reason


class KeysError(ValueError):
    """Keys text that cannot be used; the message names the line and the reason."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a chat's customer is: ``verified`` when the site signed ``customer_id``, else only
    what the customer claims (display only: no tier, no dedicated agent, no CRM card)."""

    customer_id: str
    verified: bool


@dataclass(frozen=True, slots=True)
class SignedIdentity:
    """What the widget forwards from the site's backend."""

    customer_id: str
    expires: int
    kid: str
    signature: str


@dataclass(frozen=True, slots=True)
class IdentityKeys:
    """The active secrets by key id, in the order written; the last one signs new tokens."""

    secrets: tuple[tuple[str, str], ...]

    def secret(self, kid: str) -> str | None:
        return next((s for k, s in self.secrets if k == kid), None)

    @property
    def signing_kid(self) -> str:
        return self.secrets[-1][0]

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.secrets)


def canonical(widget: str, customer_id: str, expires: int) -> bytes:
    """The string a signature covers. Raises ValueError for a name that could make two
    different tokens read the same (a ``|`` in it, say)."""
    for what, name in (("widget", widget), ("customer id", customer_id)):
        if not _NAME.match(name):
            raise ValueError(f"{what} {name!r}: letters, digits and _ . - only (at most 64)")
    return f"{VERSION}|{widget}|{customer_id}|{int(expires)}".encode()


def signature(secret: str, widget: str, customer_id: str, expires: int) -> str:
    """Lowercase hex HMAC-SHA256 of the canonical string under ``secret`` (its UTF-8 bytes, as
    written in the keys file: what a site's backend puts in ``openssl dgst -hmac``)."""
    message = canonical(widget, customer_id, expires)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(
    keys: IdentityKeys, widget: str, customer_id: str, expires: int, kid: str | None = None
) -> SignedIdentity:
    """What a site's backend would hand its page (here for the CLI, the demo and tests)."""
    kid = kid or keys.signing_kid
    secret = keys.secret(kid)
    if secret is None:
        raise KeysError(f"no key {kid!r} (keys: {', '.join(keys.kids)})")
    return SignedIdentity(
        customer_id, expires, kid, signature(secret, widget, customer_id, expires)
    )


def verify(token: SignedIdentity, keys: IdentityKeys, widget: str, now: float) -> Identity:
    """The verified identity in ``token``, or ``IdentityRefused``. The signature is checked
    first (in constant time), so nothing of an unsigned token is looked at further."""
    secret = keys.secret(token.kid)
    if secret is None:
        raise IdentityRefused("unknown_key")
    try:
        expected = signature(secret, widget, token.customer_id, token.expires)
    except ValueError:  # a name the widget's schema should have refused
        raise IdentityRefused("bad_signature") from None
    if not hmac.compare_digest(expected.encode(), token.signature.encode()):
        raise IdentityRefused("bad_signature")
    if token.expires <= now:
        raise IdentityRefused("expired")
    if token.expires - now > MAX_LIFETIME_SECONDS:
        raise IdentityRefused("lifetime_too_long")
    return Identity(token.customer_id, verified=True)


# -- the keys file's text ---------------------------------------------------------------------

KEYS_HEADER = (
    "# Chat identity keys: '<key id> <secret>', one a line. Every key listed verifies; the last\n"
    "# one signs (contactcenter chat-identity sign). Give a secret only to the site's backend;\n"
    "# to rotate, add a new line, move the site to it, then delete the old line.\n"
)


def parse_keys(text: str) -> IdentityKeys:
    """The keys in a keys file's ``text`` (blank lines and ``#`` comments skipped); KeysError
    naming the line for a malformed, duplicate or short one, or for no key at all."""
    found: list[tuple[str, str]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise KeysError(f"line {n}: expected '<key id> <secret>'")
        kid, secret = parts
        if not _NAME.match(kid):
            raise KeysError(f"line {n}: key id: letters, digits and _ . - only (at most 64)")
        if len(secret) < MIN_SECRET_CHARS or not _SECRET.match(secret):
            raise KeysError(f"line {n}: the secret needs {MIN_SECRET_CHARS} characters or more")
        if any(k == kid for k, _ in found):
            raise KeysError(f"line {n}: key id {kid} is listed twice")
        found.append((kid, secret))
    if not found:
        raise KeysError("no key in it")
    return IdentityKeys(tuple(found))


def format_keys(keys: IdentityKeys) -> str:
    return KEYS_HEADER + "".join(f"{kid} {secret}\n" for kid, secret in keys.secrets)


def new_keys(kid: str = "k1") -> IdentityKeys:
    """One fresh key: 32 random bytes, written as 64 hex digits."""
    return IdentityKeys(((kid, secrets.token_hex(32)),))
