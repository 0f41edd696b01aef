"""Standard answers (canned replies): texts agents insert with ``/shortcut`` instead of typing
them, from ``config/answers.yaml``.

Vocabulary:

* **standard answer**: a ``shortcut`` (what the agent types after ``/``), a ``title`` (what
  the picker shows) and a **text** per language, for the queues it lists (none: every queue).
* **variable**: ``{customer_name}``, ``{agent_name}``, ``{queue}``, ``{center}`` in a text,
  filled when the answer is used; ``{{`` and ``}}`` are literal braces. A variable this
  module does not know is a config error (file, key, reason), found when the file is loaded,
  never when an agent uses the answer.
* **fallback**: what a variable without a value reads as (the customer's name is only known
  for a verified customer): ``Hello {customer_name}`` -> ``Hello there``. Each variable has
  one (``FALLBACKS``); an answer may set its own (``fallbacks``). A text never shows ``{...}``.
* **language**: a contact's is its queue's ``language``, else the center's (``center.yaml``).

Pure: loading reads the file, rendering is a function of its arguments.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from contactcenter.config import Center, ConfigError, ConfigIssue
from contactcenter.config.loader import read_yaml, validate_list
from contactcenter.config.models import LANGUAGE

FILE = "answers.yaml"
CENTER_LANGUAGE = "*"
"""The key a plain (one-language) text is kept under until the center's language is known."""

FALLBACKS: Mapping[str, str] = {
    "customer_name": "there",
    "agent_name": "your agent",
    "queue": "our team",
    "center": "our team",
}
"""The variables a text may use, and what each reads as without a value."""


def _issue(message: str) -> PydanticCustomError:
    return PydanticCustomError("answers", message)


def fields(text: str) -> list[str]:
    """The variables ``text`` uses, in order; a ValueError names what is wrong with it."""
    out: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as err:
        raise ValueError(f"{err} ('{{{{' and '}}}}' are literal braces)") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in FALLBACKS:
            known = ", ".join(f"{{{v}}}" for v in FALLBACKS)
            shown = f"{{{name}}}" if name else "{}"
            raise ValueError(f"unknown variable {shown} (known: {known}; '{{{{' is a brace)")
        if spec or conversion:
            raise ValueError(f"{{{name}}} takes no format or conversion")
        out.append(name)
    return out


def _template(text: str) -> str:
    try:
        fields(text)
    except ValueError as err:
        raise _issue(str(err)) from None
    return text


Text = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_template)]


def _known_fallbacks(value: Mapping[str, str]) -> Mapping[str, str]:
    for name in value:
        if name not in FALLBACKS:
            raise _issue(f"unknown variable {name!r} (known: {', '.join(FALLBACKS)})")
    return value


def _language_key(value: str) -> str:
    if value != CENTER_LANGUAGE and not re.fullmatch(LANGUAGE, value):
        raise _issue(f"{value!r} is not a language code (e.g. en, de, pt-BR)")
    return value


LanguageKey = Annotated[str, AfterValidator(_language_key)]


def _per_language(value: Any) -> Any:
    return {CENTER_LANGUAGE: value} if isinstance(value, str) else value


class StandardAnswer(BaseModel):
    """One answer; ``text`` is one text (in the center's language) or one per language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shortcut: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    title: str = Field(min_length=1, max_length=80)
    text: Annotated[dict[LanguageKey, Text], Field(min_length=1), BeforeValidator(_per_language)]
    """Language -> text (``*``: the center's language, what a plain text is)."""
    queues: tuple[str, ...] = ()
    """The queues it is offered in (none: every queue)."""
    fallbacks: Annotated[
        dict[str, Annotated[str, Field(min_length=1, max_length=80)]],
        AfterValidator(_known_fallbacks),
        BeforeValidator(lambda v: v if v is not None else {}),
    ] = Field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """An answer ready to send, and which variables it filled with a real value."""

    shortcut: str
    title: str
    text: str
    filled: frozenset[str]


@dataclass(frozen=True)
class Answers:
    """A center's standard answers, validated: per answer its texts by language."""

    answers: tuple[StandardAnswer, ...] = ()
    default_language: str = "en"
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Shortcut -> language -> text."""

    def for_contact(self, queue: str, language: str) -> list[StandardAnswer]:
        """The answers offered in ``queue`` that have a text in ``language``, by shortcut."""
        found = [
            a
            for a in self.answers
            if (not a.queues or queue in a.queues) and language in self.texts[a.shortcut]
        ]
        return sorted(found, key=lambda a: a.shortcut)

    def render(
        self, answer: StandardAnswer, language: str, values: Mapping[str, str | None]
    ) -> Rendered:
        """``answer``'s text in ``language`` with ``values`` put in; a variable whose value is
        missing or blank reads as its fallback."""
        out: list[str] = []
        filled: set[str] = set()
        for literal, name, _, _ in string.Formatter().parse(self.texts[answer.shortcut][language]):
            out.append(literal)
            if name is None:
                continue
            value = (values.get(name) or "").strip()
            if value:
                filled.add(name)
            out.append(value or answer.fallbacks.get(name) or FALLBACKS[name])
        return Rendered(answer.shortcut, answer.title, "".join(out), frozenset(filled))


def load_answers(directory: str | Path, center: Center) -> Answers:
    """Load and check ``answers.yaml`` of the center in ``directory`` (none: no answers).

    Raises ConfigError with every problem (file, key path, reason): unknown variables and
    keys, a shortcut listed twice, queues the center does not have.
    """
    root = Path(directory)
    issues: list[ConfigIssue] = []
    language = center.settings.language
    doc: Any = read_yaml(root / FILE, issues, required=False)
    items, _, positions = validate_list(StandardAnswer, doc, "answers", FILE, issues)
    # a plain text's issue is the text's (not its internal key's); a language's is its own
    issues = [
        replace(i, path=i.path.removesuffix(f".{CENTER_LANGUAGE}").removesuffix(".[key]"))
        for i in issues
    ]
    seen: dict[str, int] = {}
    texts: dict[str, dict[str, str]] = {}
    for answer, pos in zip(items, positions, strict=True):
        base = f"answers[{pos}]"
        if answer.shortcut in seen:
            first = f"answers[{seen[answer.shortcut]}]"
            issues.append(ConfigIssue(FILE, f"{base}.shortcut", f"{first} has this shortcut too"))
        seen.setdefault(answer.shortcut, pos)
        for i, queue in enumerate(answer.queues):
            if queue not in center.queues:
                issues.append(ConfigIssue(FILE, f"{base}.queues[{i}]", f"unknown queue {queue!r}"))
        texts[answer.shortcut] = {
            (language if lang == CENTER_LANGUAGE else lang): text
            for lang, text in answer.text.items()
        }
    if issues:
        raise ConfigError(issues)
    return Answers(tuple(items), language, texts)
