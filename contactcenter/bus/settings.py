"""The MQTT bus's settings: ``<config dir>/bus.yaml``, one ``bus:`` section, validated once at
load. No file, or ``enabled: false``, means no bus: the engine runs without a broker.

The password never sits in the YAML (``contactcenter.config.section.Credentials``). Relative
paths count from the config dir.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contactcenter.config.section import Credentials, Fail, at, check_readable, load_section

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


class BusSettings(Credentials):
    enabled: bool = False
    site: str = Field(default="main", max_length=64, pattern=TOPIC_LEVEL)
    """This site's level in every topic: ``cc/v1/<site>/...``."""
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=1883, ge=1, le=65535)
    tls: Tls | None = None
    """None: plain TCP (loopback or a trusted network only)."""
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

    @model_validator(mode="after")
    def _consistent(self) -> BusSettings:
        if self.reconnect_max_seconds < self.reconnect_initial_seconds:
            raise ValueError("reconnect_max_seconds must be >= reconnect_initial_seconds")
        return self

    @property
    def identifier(self) -> str:
        return self.client_id or f"contactcenter-{self.site}"


def load_bus_settings(config_dir: str | Path) -> BusSettings:
    """Read ``<config_dir>/bus.yaml`` (missing: no bus). Every problem is a ``ConfigIssue``
    naming the file, the key and why; an enabled bus's files must be readable and its
    password variable set, so a typo stops ``serve`` at once rather than at first connect."""
    loaded = load_section(config_dir, FILE, "bus", BusSettings, "{enabled: true, host: ..., ...}")
    if loaded is None:
        return BusSettings()
    settings, fail = loaded
    settings = _resolved(settings, Path(config_dir))
    if settings.enabled:
        _check_secrets(settings, fail)
    return settings


def _resolved(settings: BusSettings, base: Path) -> BusSettings:
    """Relative file paths taken from the config dir."""
    tls = settings.tls
    if tls is not None:
        tls = tls.model_copy(
            update={"ca_file": at(base, tls.ca_file), "cert_file": at(base, tls.cert_file),
                    "key_file": at(base, tls.key_file)}
        )  # fmt: skip
    return settings.at(base).model_copy(update={"tls": tls})


def _check_secrets(settings: BusSettings, fail: Fail) -> None:
    if settings.tls is not None:
        for key, p in {
            "bus.tls.ca_file": settings.tls.ca_file,
            "bus.tls.cert_file": settings.tls.cert_file,
            "bus.tls.key_file": settings.tls.key_file,
        }.items():
            if p is not None:
                check_readable(p, key, fail)
    settings.check_password("bus", fail)
