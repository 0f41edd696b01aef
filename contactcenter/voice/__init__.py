"""The voice edge: SIP calls via pyVoIP, IVR prompts out as RTP, DTMF in, agents bridged.

``VoiceEdge`` (``edge``) is the public face; ``settings`` reads ``config/voice.yaml``;
``media`` is the RTP clock; ``_pyvoip`` is the only module that imports pyVoIP.
See ``README.md`` beside this file for the pyVoIP defects and how each is handled.
"""

from contactcenter.voice.settings import VoiceConfigError, VoiceSettings, load_voice_settings

__all__ = ["VoiceConfigError", "VoiceEdge", "VoiceSettings", "load_voice_settings"]


def __getattr__(name: str) -> object:
    if name == "VoiceEdge":  # imported on first use: it loads pyVoIP
        from contactcenter.voice.edge import VoiceEdge

        return VoiceEdge
    raise AttributeError(name)
