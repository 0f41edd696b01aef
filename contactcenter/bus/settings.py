"""The MQTT bus's settings: ``<config dir>/bus.yaml``, one ``bus:`` section, validated once at
load. No file, or ``enabled: false``, means no bus: the engine runs without a broker.

A password never sits in the YAML: ``password_file`` names a file holding it (one line) and
``password_env`` an environment variable; either is read again at every connection, so a
rotated password is picked up without a restart. Relative paths count from the config dir.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contactcenter.config import ConfigError, ConfigIssue

FILE = "bus.yaml"
TOPIC_LEVEL = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""What may stand for a site, queue or agent in a topic: never ``/``, ``+``, ``#`` or ``$``."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tls(_Model):
    """TLS to the broker; the broker's certificate is always verified."""

    ca_file: Path | None = None
    """CA certificates (PEM) the broker's certificate must chain to; None: the system's."""
    cert_file: Path | None = None
    """A client certificate (PEM), for brokers that ask for one (mutual TLS)."""
    key_file: Path | None = None
    """Its private key (PEM)."""
    insecure: bool = False
    """True: do not check that the certificate names ``host`` (the chain is still checked).
    For a test broker reached by an address its certificate does not carry."""

    @model_validator(mode="after")
    def _pair(self) -> Tls:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class BusSettings(_Model):
    enabled: bool = False
    site: str = Field(default="main", max_length=64, pattern=TOPIC_LEVEL)
    """This site's level in every topic: ``cc/v1/<site>/...``."""
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=1883, ge=1, le=65535)
    tls: Tls | None = None
    """None: plain TCP (loopback or a trusted network only)."""
    username: str | None = Field(default=None, min_length=1)
    password_file: Path | None = None
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    client_id: str | None = Field(default=None, min_length=1, max_length=128)
    """None: ``contactcenter-<site>``."""
    qos: Literal[1, 2] = 1
    """QoS of every publication; at least once (1) is what lets no buffered event be lost."""
    keepalive_seconds: int = Field(default=30, ge=5, le=3600)
    """The broker publishes the engine's last will this long (x 1.5) after the link goes
    silent; a crashed process's closed socket fires it at once."""
    queue_stats_interval_seconds: float = Field(default=5.0, ge=0.5, le=3600)
    """Queue stats are published at most this often, and only those that changed."""
    buffer_events: int = Field(default=10000, ge=100, le=1_000_000)
    """Events held while the broker is away; beyond it the oldest are dropped (counted)."""
    reconnect_initial_seconds: float = Field(default=1.0, gt=0, le=60)
    reconnect_max_seconds: float = Field(default=30.0, gt=0, le=3600)
    """A lost broker is tried again after the initial wait, doubling up to this."""
    stop_seconds: float = Field(default=5.0, gt=0, le=60)
    """At a clean stop: how long buffered events may take to go out before ``offline``."""

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "password: never in bus.yaml: name a file (password_file) or an "
                "environment variable (password_env)"
            )
        return data

    @model_validator(mode="after")
    def _consistent(self) -> BusSettings:
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("password_file and password_env: give one of them")
        has_password = self.password_file is not None or self.password_env is not None
        if has_password and self.username is None:
            raise ValueError("a password needs a username")
        if self.reconnect_max_seconds < self.reconnect_initial_seconds:
            raise ValueError("reconnect_max_seconds must be >= reconnect_initial_seconds")
        return self

    @property
    def identifier(self) -> str:
        return self.client_id or f"contactcenter-{self.site}"

    def password(self) -> str | None:
        """The password, read now from its file or variable (None: none configured)."""
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        if self.password_env is not None:
            return os.environ[self.password_env]
        return None


def load_bus_settings(config_dir: str | Path) -> BusSettings:
    """Read ``<config_dir>/bus.yaml`` (missing: no bus). Every problem is a ``ConfigIssue``
    naming the file, the key and why; an enabled bus's files must be readable and its
    password variable set, so a typo stops ``serve`` at once rather than at first connect."""
    path = Path(config_dir) / FILE
    if not path.exists():
        return BusSettings()

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError([ConfigIssue(str(path), key, message)])

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise fail("", f"cannot read it: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("bus", {}), dict):
        raise fail("bus", "expected a mapping: bus: {enabled: true, host: ..., ...}")
    section = doc.get("bus") or {}
    try:
        settings = BusSettings.model_validate(section)
    except ValidationError as e:
        raise ConfigError(
            [
                ConfigIssue(
                    str(path),
                    ".".join(["bus", *(str(p) for p in err["loc"])]),
                    err["msg"].removeprefix("Value error, "),
                )
                for err in e.errors()
            ]
        ) from e
    settings = _resolved(settings, Path(config_dir))
    if settings.enabled:
        _check_secrets(settings, fail)
    return settings


def _resolved(settings: BusSettings, base: Path) -> BusSettings:
    """Relative file paths taken from the config dir."""

    def at(p: Path | None) -> Path | None:
        return None if p is None else p if p.is_absolute() else base / p

    tls = settings.tls
    if tls is not None:
        tls = tls.model_copy(
            update={"ca_file": at(tls.ca_file), "cert_file": at(tls.cert_file),
                    "key_file": at(tls.key_file)}
        )  # fmt: skip
    return settings.model_copy(update={"tls": tls, "password_file": at(settings.password_file)})


def _check_secrets(settings: BusSettings, fail: Callable[[str, str], ConfigError]) -> None:
    files = {"bus.password_file": settings.password_file}
    if settings.tls is not None:
        files |= {
            "bus.tls.ca_file": settings.tls.ca_file,
            "bus.tls.cert_file": settings.tls.cert_file,
            "bus.tls.key_file": settings.tls.key_file,
        }
    for key, p in files.items():
        if p is None:
            continue
        try:
            with p.open("rb") as f:
                f.read(1)
        except OSError as e:
            raise fail(key, f"cannot read {p}: {e.strerror}") from e
    if settings.password_file is not None and not settings.password():
        raise fail("bus.password_file", f"{settings.password_file} is empty")
    if settings.password_env is not None and not os.environ.get(settings.password_env):
        raise fail("bus.password_env", f"environment variable {settings.password_env} is not set")
