"""``config/voice.yaml`` is the documentation of the voice settings: every key is in it, with
its default (so the README's quick start runs without a SIP server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from contactcenter.voice.settings import VoiceSettings, load_voice_settings

CONFIG = Path(__file__).resolve().parents[2] / "config"


def keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    out = set()
    for name, f in model.model_fields.items():
        kind: Any = f.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            out |= keys(kind, f"{prefix}{name}.")
        else:
            out.add(prefix + name)
    return out


def flat(doc: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for name, v in doc.items():
        out |= flat(v, f"{prefix}{name}.") if isinstance(v, dict) else {prefix + name}
    return out


def test_every_setting_is_documented_with_its_default() -> None:
    doc = yaml.safe_load((CONFIG / "voice.yaml").read_text())["voice"]
    assert flat(doc) == keys(VoiceSettings)
    assert load_voice_settings(CONFIG) == VoiceSettings()
    assert not VoiceSettings().enabled
