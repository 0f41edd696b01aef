"""Signed chat identities at the engine's door: the keys file, the check of a new chat's
identity (``contactcenter/identity.py`` says what is signed and how), and the command that signs
one as a site's backend would (``contactcenter chat-identity sign``).

The keys live in their own file (``chat-identity-keys`` beside the database, or ``serve
--chat-identity-keys FILE``), never in the center's config, which sits in a repository: one
``<key id> <secret>`` a line, readable by its owner only (a file others may read is refused).
``serve`` creates it with one key on first run. It is read again when it changes, so a key is
added or removed without a restart (a file that no longer parses keeps the keys it had, and
says so in the log).

A forged, expired or foreign token is a 401 ``identity_invalid``, never a quiet downgrade to
an anonymous chat: the site's page is broken or someone is trying, and both should show. With
the ``verified_only`` policy a chat without a token is a 401 ``identity_required``. Every
outcome is counted (``contactcenter_chat_identities_total``, by outcome only); refusals are
logged with the reason, the key id and the client address, never the signature or the
customer id.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from prometheus_client import CollectorRegistry, Counter

from contactcenter.api.errors import ApiError
from contactcenter.config.models import ChatIdentitySettings
from contactcenter.identity import (
    MAX_LIFETIME_SECONDS,
    REASONS,
    Identity,
    IdentityKeys,
    IdentityRefused,
    KeysError,
    SignedIdentity,
    parse_keys,
    sign,
    verify,
)

log = logging.getLogger(__name__)

KEYS_FILE = "chat-identity-keys"
DEFAULT_KEYS = Path("var") / KEYS_FILE
"""Beside ``serve``'s default database (``var/contactcenter.sqlite3``)."""
OUTCOMES = ("verified", "claimed", "anonymous", "required", *REASONS)


class KeysFileError(Exception):
    """A keys file that cannot be used, in one line naming the file."""


def read_keys(path: Path, *, directory_made: bool = False) -> IdentityKeys | None:
    """The keys in ``path``, or None when there is no such file yet (then it can be created:
    its directory exists and may be written, or ``directory_made`` says someone else makes
    it). ``KeysFileError`` for anything else."""
    try:
        st = path.stat()
    except FileNotFoundError:
        directory = path.parent
        if directory_made:
            return None
        if not directory.is_dir():
            raise KeysFileError(f"chat identity keys {path}: no directory {directory}") from None
        if not os.access(directory, os.W_OK | os.X_OK):
            raise KeysFileError(
                f"chat identity keys {path}: cannot create it, {directory} is not writable"
            ) from None
        return None
    except OSError as e:
        raise KeysFileError(f"chat identity keys {path}: {e.strerror}") from e
    if not stat.S_ISREG(st.st_mode):
        raise KeysFileError(f"chat identity keys {path}: not a file")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeysFileError(
            f"chat identity keys {path}: others may read it (mode {mode:04o}); chmod 600 it"
        )
    try:
        return parse_keys(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise KeysFileError(f"chat identity keys {path}: cannot read it ({e})") from e
    except KeysError as e:
        raise KeysFileError(f"chat identity keys {path}: {e}") from e


class Keyring:
    """The active keys: fixed, or those of a keys file, read again whenever it changes."""

    def __init__(self, keys: IdentityKeys, path: Path | None = None) -> None:
        self._keys = keys
        self.path = path
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int, int] | None:
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def keys(self) -> IdentityKeys:
        stamp = self._stat()
        if stamp != self._stamp and self.path is not None:
            self._stamp = stamp
            try:
                keys = read_keys(self.path)
            except KeysFileError as e:
                log.error("%s: keeping the keys read before (%s)", e, ", ".join(self._keys.kids))
                return self._keys
            if keys is None:
                log.error("chat identity keys %s are gone: keeping the keys read before",
                          self.path)  # fmt: skip
                return self._keys
            self._keys = keys
            log.info("chat identity keys read again: %s", ", ".join(keys.kids))
        return self._keys


class ChatIdentity:
    """The identity a new chat may have: what the widget forwards from the site's backend,
    checked under the keyring's keys and the center's ``chat_identity`` settings."""

    def __init__(
        self,
        settings: ChatIdentitySettings,
        keyring: Keyring,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.keyring = keyring
        self.clock = clock
        self._counted: Counter | None = None

    def count_into(self, registry: CollectorRegistry) -> None:
        self._counted = Counter(
            "contactcenter_chat_identities_total",
            "New chats by identity: verified (signed by the site), claimed (an unsigned "
            "customer id), anonymous, or refused (required, unknown_key, bad_signature, "
            "expired, lifetime_too_long).",
            ("outcome",),
            registry=registry,
        )
        for outcome in OUTCOMES:
            self._counted.labels(outcome)

    def verify(self, token: SignedIdentity) -> Identity:
        """``IdentityRefused`` unless the site signed ``token`` for this widget, unexpired."""
        return verify(token, self.keyring.keys(), self.settings.widget, self.clock())

    def sign(self, customer_id: str, ttl: int = 3600) -> SignedIdentity:
        """A token as the site's backend would make it, with the newest key."""
        expires = int(self.clock()) + ttl
        return sign(self.keyring.keys(), self.settings.widget, customer_id, expires)

    def admit(
        self, token: SignedIdentity | None, claim: str | None, address: str
    ) -> Identity | None:
        """The identity a new chat gets, or ApiError 401: a token that fails, or none where
        the policy wants one. An unsigned ``claim`` stays a claim."""
        if token is not None:
            try:
                identity = self.verify(token)
            except IdentityRefused as e:
                self._count(e.reason)
                log.warning("chat identity refused from %s: %s (key id %s)", address, e.reason,
                            token.kid)  # fmt: skip
                raise ApiError(
                    401, "identity_invalid", f"the chat's identity is not valid: {e}",
                    details=[{"reason": e.reason}],
                ) from None  # fmt: skip
            self._count("verified")
            return identity
        if self.settings.policy == "verified_only":
            self._count("required")
            raise ApiError(
                401, "identity_required",
                "this chat is for signed-in customers: open it from your account page",
            )  # fmt: skip
        self._count("claimed" if claim is not None else "anonymous")
        return Identity(claim, verified=False) if claim is not None else None

    def _count(self, outcome: str) -> None:
        if self._counted is not None:
            self._counted.labels(outcome).inc()


# -- contactcenter chat-identity sign ---------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``contactcenter chat-identity sign``."""
    ident = sub.add_parser("chat-identity", help="signed identities of chat customers")
    commands = ident.add_subparsers(dest="identity_command", required=True)
    s = commands.add_parser(
        "sign",
        help="sign a customer id as the site's backend does; prints the widget's fields as JSON",
    )
    s.add_argument("--customer", required=True, help="the customer id to vouch for")
    s.add_argument(
        "--ttl", type=int, default=3600, metavar="SECONDS",
        help=f"valid this long (1-{MAX_LIFETIME_SECONDS}); default 3600",
    )  # fmt: skip
    s.add_argument("--keys", type=Path, default=DEFAULT_KEYS, help=f"default {DEFAULT_KEYS}")
    s.add_argument("--kid", help="the key to sign with (default: the file's last one)")
    s.add_argument("--widget", default="web", help="the center's chat_identity.widget; default web")
    s.add_argument("--name", help="a display name to add to the URL fragment (not signed)")
    s.set_defaults(func=_sign)


def _sign(args: argparse.Namespace) -> int:
    def fail(why: str) -> int:
        sys.stderr.write(f"contactcenter chat-identity sign: {why}\n")
        return 1

    if not 1 <= args.ttl <= MAX_LIFETIME_SECONDS:
        return fail(f"--ttl must be 1-{MAX_LIFETIME_SECONDS} seconds")
    try:
        keys = read_keys(args.keys)
    except KeysFileError as e:
        return fail(str(e))
    if keys is None:
        return fail(f"no keys file {args.keys} (serve creates it; or give --keys FILE)")
    try:
        token = sign(keys, args.widget, args.customer, int(time.time()) + args.ttl, args.kid)
    except KeysError as e:  # no such --kid
        return fail(f"{args.keys}: {e}")
    except ValueError as e:  # a customer or widget id that cannot be signed
        return fail(str(e))
    fields: dict[str, str | int] = {
        "customer_id": token.customer_id,
        "expires": token.expires,
        "kid": token.kid,
        "signature": token.signature,
    }
    shown = {**fields, **({"name": args.name} if args.name else {})}
    sys.stdout.write(json.dumps({**fields, "fragment": urlencode(shown)}) + "\n")
    return 0
