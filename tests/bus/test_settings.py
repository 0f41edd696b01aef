"""``bus.yaml``: off unless enabled, the shipped file documents every key with its default,
and each mistake is one clear problem naming the file, the key and why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contactcenter.bus import BusSettings, load_bus_settings
from contactcenter.bus.settings import Tls
from contactcenter.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "bus.yaml").write_text(text)
    return tmp_path


def problems(config: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_bus_settings(config)
    return [str(i) for i in err.value.issues]


def test_no_file_means_no_bus(tmp_path: Path) -> None:
    assert load_bus_settings(tmp_path).enabled is False


def test_the_shipped_file_keeps_the_bus_off_and_shows_every_key_with_its_default() -> None:
    assert load_bus_settings(CONFIG) == BusSettings()
    doc = yaml.safe_load((CONFIG / "bus.yaml").read_text())["bus"]
    assert set(doc) == set(BusSettings.model_fields)
    text = (CONFIG / "bus.yaml").read_text()
    for key in Tls.model_fields:  # the TLS keys are shown commented out
        assert f"#   {key}:" in text


def test_an_enabled_bus_with_its_secrets_in_files(tmp_path: Path) -> None:
    (tmp_path / "mqtt").mkdir()
    (tmp_path / "mqtt" / "password").write_text("s3cret\n")
    (tmp_path / "mqtt" / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    s = load_bus_settings(
        write(
            tmp_path,
            "bus:\n  enabled: true\n  site: berlin-1\n  host: mqtt.example\n  port: 8883\n"
            "  tls: {ca_file: mqtt/ca.crt}\n  username: engine\n"
            "  password_file: mqtt/password\n",
        )
    )
    assert (s.enabled, s.site, s.host, s.port, s.identifier) == (
        True, "berlin-1", "mqtt.example", 8883, "contactcenter-berlin-1"
    )  # fmt: skip
    assert s.tls is not None and s.tls.ca_file == tmp_path / "mqtt" / "ca.crt"
    assert s.password() == "s3cret"
    assert "s3cret" not in repr(s)


def test_the_password_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path, "bus: {enabled: true, username: engine, password_env: CC_TEST_MQTT_PW}\n"
    )
    assert problems(config) == [
        f"{config / 'bus.yaml'}: bus.password_env: environment variable CC_TEST_MQTT_PW is not set"
    ]
    monkeypatch.setenv("CC_TEST_MQTT_PW", "from-env")
    assert load_bus_settings(config).password() == "from-env"


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("bus: {enabled: true, username: e, password: s3cret}", "bus",
         "password: never in the YAML: name a file (password_file) or an environment "
         "variable (password_env)"),
        ("bus: {enabled: true, port: 70000}", "bus.port", "less than or equal to 65535"),
        ("bus: {enabled: true, site: cc/#}", "bus.site", "should match pattern"),
        ("bus: {enabled: true, qos: 0}", "bus.qos", "should be 1 or 2"),
        ("bus: {enabled: true, hots: x}", "bus.hots", "Extra inputs are not permitted"),
        ("bus: {enabled: true, buffer_events: 5}", "bus.buffer_events", "greater than or equal"),
        ("bus: {enabled: true, password_file: pw}", "bus", "a password needs a username"),
        ("bus: {enabled: true, tls: {cert_file: c.pem}}", "bus.tls",
         "cert_file and key_file go together"),
        ("bus: {enabled: true, username: e, password_file: missing}", "bus.password_file",
         "cannot read"),
        ("bus: {enabled: true, tls: {ca_file: nowhere.crt}}", "bus.tls.ca_file",
         "cannot read"),
        ("bus: [1, 2]", "bus", "expected a mapping"),
        ("bus: {enabled: true\n", "", "cannot read it"),
    ],
)  # fmt: skip
def test_a_mistake_names_the_file_the_key_and_why(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    config = write(tmp_path, text + "\n")
    found = problems(config)
    assert len(found) == 1, found
    where = f"{config / 'bus.yaml'}: {key}:" if key else f"{config / 'bus.yaml'}:"
    assert found[0].startswith(where), found
    assert reason in found[0], found


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("\n")
    config = write(tmp_path, "bus: {enabled: true, username: e, password_file: pw}\n")
    assert problems(config) == [
        f"{config / 'bus.yaml'}: bus.password_file: {tmp_path / 'pw'} is empty"
    ]


def test_serve_with_a_bad_bus_yaml_says_so_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config"
    subprocess.run(["cp", "-r", str(CONFIG), str(config)], check=True)
    (config / "bus.yaml").write_text("bus: {enabled: true, username: e, password: s3cret}\n")
    db = tmp_path / "var" / "cc.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "serve", "--config", str(config), "--db", str(db),
         "--port", "0"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"{config / 'bus.yaml'}: bus: password: never in the YAML: name a file (password_file) "
        "or an environment variable (password_env)"
    ]
    assert "s3cret" not in done.stderr + done.stdout
    assert not db.parent.exists()


def test_check_config_checks_bus_yaml_too(tmp_path: Path) -> None:
    config = tmp_path / "config"
    subprocess.run(["cp", "-r", str(CONFIG), str(config)], check=True)
    (config / "bus.yaml").write_text("bus: {enabled: true, qos: 0}\n")
    done = subprocess.run(
        [sys.executable, "-m", "contactcenter", "check-config", str(config)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{config}: 1 problem(s)",
        f"  {config / 'bus.yaml'}: bus.qos: Input should be 1 or 2",
    ]
