"""Running an IVR session over a text channel (web chat): prompts become lines of text,
typed replies become keys.

The session does not know it is not on the phone. ``TextMenu`` plays every prompt at once
(shows its text and reports ``prompt_finished``), shows a menu's choices under its prompt,
and turns a reply such as ``"2"``, ``"billing"`` or ``"100001"`` into keys (adding the
terminator a phone caller would press). The actions it cannot carry out itself (lookups,
queue states, timers and the final action) come back in ``Turn.actions`` for the chat
driver, which answers the session directly and passes what it returns to ``feed``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from contactcenter.ivr.flow import KEYS
from contactcenter.ivr.interpreter import (
    Action,
    CollectDigits,
    Play,
    Session,
    StopPlayback,
)

NOT_UNDERSTOOD = "Sorry, I did not understand that."
ONE_MOMENT = "One moment, please."
DIGITS_ONLY = "Please type digits only."


@dataclass
class Turn:
    """What to show the customer, and what the driver has to do."""

    lines: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


def choice_lines(collect: CollectDigits) -> list[str]:
    """A menu's labelled choices as lines: ``"1 - Sales"``."""
    return [f"{c.key} - {c.label}" for c in collect.choices if c.label is not None]


def parse_reply(text: str, collect: CollectDigits) -> str | None:
    """The keys a typed reply stands for, or None if it matches nothing.

    Digits (spaces, dots and dashes ignored) are taken as typed, and the terminator is added
    when the collection wants one and the reply is shorter than the maximum. A word picks the
    menu choice whose label it names (``"bill"`` -> ``Billing``), if exactly one does.
    """
    compact = re.sub(r"[\s.\-]", "", text)
    if compact and all(ch in KEYS for ch in compact):
        ends = collect.terminator is not None and not compact.endswith(collect.terminator)
        if ends and collect.terminator is not None and len(compact) < collect.max_digits:
            compact += collect.terminator
        return compact
    words = re.findall(r"\w+", text.casefold())
    if not words or not collect.choices:
        return None
    matches = [
        c.key
        for c in collect.choices
        if c.label is not None and _names(words, re.findall(r"\w+", c.label.casefold()))
    ]
    return matches[0] if len(matches) == 1 else None


def _names(words: list[str], label: list[str]) -> bool:
    """Every typed word begins a word of the label (``"tech support"`` -> Technical support)."""
    return all(len(w) >= 2 and any(lw.startswith(w) for lw in label) for w in words)


class TextMenu:
    """A session's adapter to a text channel; ``texts`` maps prompt ids to their words."""

    def __init__(self, session: Session, texts: Mapping[str, str]) -> None:
        self.session = session
        self.texts = texts

    def start(self, now: dt.datetime) -> Turn:
        return self.feed(self.session.start(now))

    def reply(self, text: str, *, now: dt.datetime | None = None) -> Turn:
        """The customer typed ``text``."""
        collect = self.session.expecting
        if collect is None:
            return Turn([ONE_MOMENT])
        keys = parse_reply(text, collect)
        if keys is None:
            help_lines = choice_lines(collect) if collect.choices else [DIGITS_ONLY]
            return Turn([NOT_UNDERSTOOD, *help_lines])
        actions: list[Action] = []
        for key in keys:
            if self.session.expecting is None:
                break  # the entry is complete; the rest of the reply is not needed
            actions += self.session.digit(key, now=now)
        return self.feed(actions)

    def feed(self, actions: Iterable[Action]) -> Turn:
        """Show what ``actions`` say; return the lines and the actions left for the driver."""
        turn = Turn()
        todo = deque(actions)
        asked = False
        while todo:
            action = todo.popleft()
            if isinstance(action, Play):
                turn.lines.append(self.texts.get(action.prompt, f"[{action.prompt}]"))
                todo.extend(self.session.prompt_finished())
                asked = True
            elif not isinstance(action, StopPlayback | CollectDigits):
                turn.actions.append(action)
        collect = self.session.expecting
        if asked and collect is not None:  # the choices go under the (repeated) question
            turn.lines += choice_lines(collect)
        return turn
