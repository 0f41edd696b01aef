"""The voice edge's settings: ``config/voice.yaml`` (validated once at load).

Vocabulary: the **IVR extension** is the account the engine registers with at the site's SIP
server (callers dial it); an **agent's extension** (``AgentConfig.extension``) is the softphone
the engine calls when the routing core offers that agent a call. A **leg** is one SIP dialog:
the caller's inbound leg, the agent's outbound leg.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

FILE = "voice.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SipServer(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=5060, ge=1, le=65535)


class Registration(_Model):
    """How the engine registers its IVR extension and how it retries."""

    extension: str = Field(default="1000", pattern=r"^[0-9A-Za-z_.+-]{1,32}$")
    password: str = ""
    expires_seconds: int = Field(default=300, ge=30, le=3600)
    """Requested binding lifetime; refreshed at 80 % of what the server grants."""
    timeout_seconds: float = Field(default=4.0, gt=0, le=60)
    """How long one REGISTER waits for the server's final answer."""
    retry_initial_seconds: float = Field(default=1.0, gt=0, le=600)
    retry_max_seconds: float = Field(default=60.0, gt=0, le=3600)


class Local(_Model):
    """Where the engine's SIP and RTP sockets live."""

    ip: str = "127.0.0.1"
    sip_port: int = Field(default=5080, ge=1, le=65535)
    rtp_port_low: int = Field(default=20000, ge=1024, le=65535)
    rtp_port_high: int = Field(default=20999, ge=1024, le=65535)

    @model_validator(mode="after")
    def _range(self) -> Local:
        if self.rtp_port_high < self.rtp_port_low:
            raise ValueError("rtp_port_high must be >= rtp_port_low")
        return self


class Waiting(_Model):
    """What a caller hears while queued."""

    hold_prompt: str | None = "hold_music"
    """Prompt (name in the prompt set) looped while waiting; None: a soft built-in tone."""
    first_announcement_seconds: float = Field(default=5.0, ge=0, le=3600)
    """When position and expected wait are first announced, after queueing."""
    announce_every_seconds: float = Field(default=30.0, gt=0, le=3600)
    """Then they are announced again this often."""
    sorry_prompt: str | None = None
    """Played before hanging up when the center ends a waiting call (max wait, no agents)."""


class Calls(_Model):
    """Limits and timings of calls."""

    answer_delay_seconds: float = Field(default=0.0, ge=0, le=30)
    """How long an inbound call rings before the engine answers it."""
    max_calls: int = Field(default=200, ge=1, le=5000)
    """Inbound calls beyond this are refused with 486 Busy Here."""
    dial_response_seconds: float = Field(default=8.0, gt=0, le=60)
    """An agent INVITE that no server answers in this time fails (the offer is declined)."""
    sip_t1_seconds: float = Field(default=0.5, ge=0.01, le=5)
    """RFC 3261 T1 (round-trip estimate): an answer not ACKed within 64*T1 is hung up."""
    rtp_timeout_seconds: float = Field(default=60.0, ge=0, le=3600)
    """A caller who sends no audio for this long (outside hold) is gone: the call is ended as
    if they hung up. 0 never ends a call for silence."""


class Survey(_Model):
    """The post-call survey, for callers who opted in at the IVR (``contactcenter/ivr``: a
    ``survey`` node, or an enqueue node with ``survey: true``): when the agent hangs up, the
    caller hears ``prompt`` and presses 1-5; then ``thanks_prompt`` and the call ends. No key
    within ``timeout_seconds`` of the prompt's end, or a key that is no score, asks again
    ``repeats`` times; then the call ends and the survey is kept as unanswered."""

    prompt: str = "survey_question"
    thanks_prompt: str = "survey_thanks"
    timeout_seconds: float = Field(default=8.0, gt=0, le=60)
    repeats: int = Field(default=1, ge=0, le=3)


class VoiceSettings(_Model):
    enabled: bool = False
    server: SipServer = SipServer()
    registration: Registration = Registration()
    local: Local = Local()
    waiting: Waiting = Waiting()
    calls: Calls = Calls()
    survey: Survey = Survey()
    ivr_flow: str = "main"
    """The IVR flow (``config/ivr/<name>.yaml``) every inbound call starts in."""


class VoiceConfigError(Exception):
    """``voice.yaml`` is invalid; the message lists every problem."""


def load_voice_settings(config_dir: str | Path) -> VoiceSettings:
    """Read ``<config_dir>/voice.yaml``; a missing file means voice is disabled."""
    path = Path(config_dir) / FILE
    if not path.exists():
        return VoiceSettings()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise VoiceConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(doc, dict):
        raise VoiceConfigError(f"{path}: expected a mapping at the top")
    try:
        return VoiceSettings.model_validate(doc.get("voice", doc))
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise VoiceConfigError(f"{path}: {problems}") from e
