"""The audio a caller hears: IVR prompts, the edge's own announcements and hold music.

Prompts are looked up by id in the IVR's prompt directory (``config/prompts``) first, then in
the voice edge's (``config/voice/prompts``). All are read once, at start, into ``Audio``
objects that keep their G.711 frames (``media.Audio``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from contactcenter.ivr.prompts import PromptFormatError, load_prompt
from contactcenter.voice.media import Audio, tone

log = logging.getLogger(__name__)

HOLD_FALLBACK = "hold_tone"


class PromptBank:
    """Prompt id -> ``Audio``; ``load()`` reads every WAV of the directories (blocking)."""

    def __init__(self, directories: Sequence[Path]) -> None:
        self.directories = [Path(d) for d in directories]
        self._audio: dict[str, Audio] = {}

    def load(self) -> int:
        for directory in reversed(self.directories):  # earlier directories win
            if not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.wav")):
                try:
                    self._audio[path.stem] = Audio(path.stem, load_prompt(path))
                except (OSError, PromptFormatError) as e:
                    log.warning("prompt %s cannot be played: %s", path, e)
        return len(self._audio)

    def get(self, prompt: str) -> Audio | None:
        return self._audio.get(prompt)

    def hold(self, prompt: str | None) -> Audio:
        found = self._audio.get(prompt) if prompt else None
        if found is None:
            found = self._audio.get(HOLD_FALLBACK)
            if found is None:
                found = self._audio[HOLD_FALLBACK] = tone(HOLD_FALLBACK, 4.0, (392.0, 0.0))
        return found

    def resolve(self, prompts: Iterable[str]) -> tuple[list[Audio], list[str]]:
        """(audio found, ids missing)."""
        found, missing = [], []
        for p in prompts:
            audio = self._audio.get(p)
            if audio is None:
                missing.append(p)
            else:
                found.append(audio)
        return found, missing


def announcement(place: int, expected_wait: float | None) -> list[str]:
    """The prompts that tell a waiting caller their place and expected wait.

    ``place`` 0 (not waiting in line any more, e.g. an agent is being rung): a plain
    "thank you for holding". The wait is said in whole minutes (1-20), "less than a minute"
    below one; an unknown or endless wait is not mentioned.
    """
    if place <= 0:
        return ["please_hold"]
    out = (
        ["queue_next"]
        if place == 1
        else ["queue_position", f"n{place}"]
        if place <= 20
        else ["queue_position_many"]
    )
    if expected_wait is None or math.isinf(expected_wait) or math.isnan(expected_wait):
        return out
    if expected_wait < 60:
        return [*out, "wait_short"]
    minutes = max(1, min(20, round(expected_wait / 60)))
    return [*out, "wait_about", f"n{minutes}", "wait_minute" if minutes == 1 else "wait_minutes"]
