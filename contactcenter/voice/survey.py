"""The post-call survey on the phone: a caller who opted in at the IVR stays on the line when
the agent hangs up, hears the question and scores the call 1-5 by key (RFC 2833 events, as in
the IVR's menus).

Sans-I/O, as the IVR interpreter is: ``VoiceCall`` feeds it the question's end, the caller's
keys and its timer, and carries out the one action each input returns. A key while the
question plays answers it (barge-in). No key within ``timeout_seconds`` of the question's end,
or a key that is no score, asks again, ``repeats`` times; then the survey ends unanswered and
the call with it: no score is ever made up. The score is kept before the thanks are said, so a
caller who hangs up during them has answered. Inputs a step does not take (a key during the
thanks, a timer of a question asked again) are dropped: ``_TAKES``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SCORE_KEYS = "12345"
"""The keys that are scores: 1 (very dissatisfied) to 5 (very satisfied)."""


class Step(enum.Enum):
    ASKING = "asking"
    """The question plays; a key answers it."""
    WAITING = "waiting"
    """The question was said to its end; the timer runs."""
    THANKING = "thanking"
    """Scored: the thanks play, then the call ends."""
    ENDED = "ended"
    """Nothing more to say: the call ends."""


@dataclass(frozen=True, slots=True)
class Ask:
    """Play the question (again), instead of whatever plays."""


@dataclass(frozen=True, slots=True)
class Wait:
    """Start the timer; ``timeout()`` when it runs out."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Scored:
    """Keep ``score``, then play the thanks (``played()`` at their end)."""

    score: int


@dataclass(frozen=True, slots=True)
class Unanswered:
    """Keep the survey as unanswered (``no_response``) and hang up."""


@dataclass(frozen=True, slots=True)
class Done:
    """The thanks were said: hang up."""


Action = Ask | Wait | Scored | Unanswered | Done

_TAKES: dict[Step, frozenset[str]] = {
    Step.ASKING: frozenset({"key", "played"}),
    Step.WAITING: frozenset({"key", "timeout"}),
    Step.THANKING: frozenset({"played"}),
    Step.ENDED: frozenset(),
}
"""The inputs each step takes; any other is dropped (the method returns None)."""


class PhoneSurvey:
    """One caller's survey, from the question to the end of the call."""

    def __init__(self, timeout_seconds: float, repeats: int) -> None:
        self.timeout_seconds = timeout_seconds
        self.repeats = repeats
        self.step = Step.ASKING
        self.asked = 0

    def start(self) -> Ask:
        self.asked = 1
        return Ask()

    def played(self) -> Action | None:
        """The question or the thanks were played to their end."""
        if not self._takes("played"):
            return None
        if self.step is Step.THANKING:
            self.step = Step.ENDED
            return Done()
        self.step = Step.WAITING
        return Wait(self.timeout_seconds)

    def key(self, key: str) -> Action | None:
        """The caller pressed ``key``: a score, or asked again (or, asked often enough, the
        survey ends unanswered)."""
        if not self._takes("key"):
            return None
        if len(key) == 1 and key in SCORE_KEYS:
            self.step = Step.THANKING
            return Scored(int(key))
        return self._again()

    def timeout(self) -> Action | None:
        """No key within the timeout of the question's end."""
        if not self._takes("timeout"):
            return None
        return self._again()

    def _takes(self, name: str) -> bool:
        return name in _TAKES[self.step]

    def _again(self) -> Ask | Unanswered:
        if self.asked > self.repeats:
            self.step = Step.ENDED
            return Unanswered()
        self.asked += 1
        self.step = Step.ASKING
        return Ask()
