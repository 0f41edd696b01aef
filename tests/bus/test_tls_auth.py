"""TLS and password login against a real mosquitto: a CA and the broker's certificate made here
(``cryptography``), the password file with ``mosquitto_passwd``. The right CA and password
connect; a wrong password or a foreign CA never do, and routing goes on regardless."""

from __future__ import annotations

import asyncio
import datetime
import logging
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from contactcenter.bus.settings import Tls
from tests.bus.conftest import Broker, BusSiteFactory, Watcher, bus_settings
from tests.peers import require

PASSWD = shutil.which("mosquitto_passwd")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def make_ca(directory: Path, cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(exist_ok=True)
    (directory / f"{cn}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


@dataclass(frozen=True)
class Pki:
    ca: Path
    foreign_ca: Path
    cert: Path
    key: Path


def make_pki(directory: Path) -> Pki:
    """A CA, a certificate it signed for the broker (named ``localhost`` only), and a second
    CA that signed nothing here."""
    ca, ca_key = make_ca(directory, "test-ca")
    make_ca(directory, "foreign-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "broker.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, directory / "broker.key")
    return Pki(
        directory / "test-ca.crt",
        directory / "foreign-ca.crt",
        directory / "broker.crt",
        directory / "broker.key",
    )


@pytest.fixture
def secure_broker(tmp_path: Path, make_broker: Callable[..., Broker]) -> tuple[Broker, Pki, Path]:
    """A broker that takes only TLS and a user ``engine`` with the password in the file."""
    require(None if PASSWD else "mosquitto_passwd is not installed (apt-get install mosquitto)")
    assert PASSWD is not None
    pki = make_pki(tmp_path / "pki")
    passwords = tmp_path / "passwd"
    subprocess.run([PASSWD, "-c", "-b", str(passwords), "engine", "s3cret-pw"], check=True)
    subprocess.run([PASSWD, "-b", str(passwords), "watcher", "w4tch"], check=True)
    (tmp_path / "engine-password").write_text("s3cret-pw\n")
    broker = make_broker(
        [f"password_file {passwords}", f"cafile {pki.ca}", f"certfile {pki.cert}",
         f"keyfile {pki.key}"]
    )  # fmt: skip
    return broker, pki, tmp_path / "engine-password"


def watcher(broker: Broker, pki: Pki) -> Watcher:
    context = ssl.create_default_context(cafile=str(pki.ca))
    return Watcher(
        broker.port, host="localhost", tls_context=context, username="watcher", password="w4tch"
    )


async def routes_anyway(live_site: object) -> None:
    from contactcenter.runtime import Site

    assert isinstance(live_site, Site)
    await live_site.agents.login("a04")
    cid = await live_site.chat.start_chat(name="Jo", topic="sales")
    for _ in range(100):
        if live_site.engine.router.contact(cid).agent == "a04":
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the chat was not offered")


async def test_tls_and_a_password_from_a_file_connect(
    secure_broker: tuple[Broker, Pki, Path], make_bus_site: BusSiteFactory
) -> None:
    broker, pki, password = secure_broker
    settings = bus_settings(
        broker, host="localhost", tls=Tls(ca_file=pki.ca), username="engine",
        password_file=password,
    )  # fmt: skip
    async with watcher(broker, pki) as w:
        live = await make_bus_site(settings)
        await routes_anyway(live.site)
        await w.until(lambda: any(m.json().get("type") == "contact_offered"
                                  for m in w.on("cc/v1/hq/events")))  # fmt: skip
    assert w.last("cc/v1/hq/engine/status")["state"] == "online"
    assert live.bus.snapshot().connected


@pytest.mark.parametrize(
    ("mistake", "said"),
    [
        ("wrong password", "not authorized"),
        ("foreign CA", "certificate verify failed"),
        ("host not in the certificate", "certificate verify failed"),
        ("no TLS", "timed out"),
    ],
)
async def test_a_wrong_password_or_certificate_never_connects_and_routing_goes_on(
    secure_broker: tuple[Broker, Pki, Path],
    make_bus_site: BusSiteFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    mistake: str,
    said: str,
) -> None:
    broker, pki, password = secure_broker
    (tmp_path / "wrong").write_text("guess\n")
    settings = bus_settings(
        broker,
        host="127.0.0.1" if mistake == "host not in the certificate" else "localhost",
        tls={"foreign CA": Tls(ca_file=pki.foreign_ca), "no TLS": None}.get(
            mistake, Tls(ca_file=pki.ca)
        ),
        username="engine",
        password_file=tmp_path / "wrong" if mistake == "wrong password" else password,
    )
    with caplog.at_level(logging.WARNING, logger="contactcenter.bus"):
        live = await make_bus_site(settings)
        await routes_anyway(live.site)
        started = time.monotonic()
        while "cannot reach the broker" not in caplog.text:  # (plain MQTT to a TLS port:
            assert time.monotonic() - started < 15  # no CONNACK ever, so after the timeout)
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # several attempts more
    assert not live.bus.snapshot().connected
    assert live.bus.snapshot().published == 0
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("contactcenter.bus")]
    assert len([w for w in warnings if "cannot reach the broker" in w]) == 1, warnings
    assert said.lower() in warnings[0].lower(), warnings
    assert "s3cret" not in caplog.text and "guess" not in caplog.text


async def test_insecure_skips_only_the_host_name_check(
    secure_broker: tuple[Broker, Pki, Path], make_bus_site: BusSiteFactory
) -> None:
    broker, pki, password = secure_broker
    settings = bus_settings(
        broker, host="127.0.0.1", tls=Tls(ca_file=pki.ca, insecure=True), username="engine",
        password_file=password,
    )  # fmt: skip
    live = await make_bus_site(settings)
    for _ in range(100):
        if live.bus.snapshot().connected:
            break
        await asyncio.sleep(0.05)
    assert live.bus.snapshot().connected
