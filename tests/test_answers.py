"""Standard answers: config errors name file and key, rendering fills what is known and never
shows a bare variable, and each contact gets its queue's answers in its language."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contactcenter.answers import Answers, load_answers
from contactcenter.config import Center, ConfigError, load_center

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def center() -> Center:
    return load_center(ROOT / "config")


@pytest.fixture(scope="module")
def example(center: Center) -> Answers:
    return load_answers(ROOT / "config", center)


def problems(tmp_path: Path, center: Center, answers: object) -> list[str]:
    text = answers if isinstance(answers, str) else yaml.safe_dump({"answers": answers})
    (tmp_path / "answers.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_answers(tmp_path, center)
    return [str(i) for i in err.value.issues]


def test_unknown_variables_and_keys_are_named_with_file_and_key(
    tmp_path: Path, center: Center
) -> None:
    found = problems(tmp_path, center, [
        {"shortcut": "greet", "title": "Hi", "text": {"en": "Hello {customer_nme}", "de": "Hallo"}},
        {"shortcut": "bye", "title": "Bye", "text": "Bye {agent_name:>9}"},
        {"shortcut": "odd", "title": "Odd", "text": "50% {off"},
        {"shortcut": "Bad Cut", "title": "x", "text": "x", "tilte": "y"},
        {"shortcut": "fb", "title": "x", "text": "x", "fallbacks": {"customer": "you"}},
        {"shortcut": "lang", "title": "x", "text": {"english": "x"}},
    ])  # fmt: skip
    assert found == [
        "answers.yaml: answers[0].text.en: unknown variable {customer_nme} (known: "
        "{customer_name}, {agent_name}, {queue}, {center}; '{{' is a brace)",
        "answers.yaml: answers[1].text: {agent_name} takes no format or conversion",
        "answers.yaml: answers[2].text: expected '}' before end of string ('{{' and '}}' are "
        "literal braces)",
        "answers.yaml: answers[3].shortcut: String should match pattern "
        "'^[a-z0-9][a-z0-9_-]{0,31}$'",
        "answers.yaml: answers[3].tilte: Extra inputs are not permitted",
        "answers.yaml: answers[4].fallbacks: unknown variable 'customer' (known: customer_name, "
        "agent_name, queue, center)",
        "answers.yaml: answers[5].text.english: 'english' is not a language code (e.g. en, de, "
        "pt-BR)",
    ]


def test_unknown_queues_and_a_shortcut_twice(tmp_path: Path, center: Center) -> None:
    found = problems(tmp_path, center, [
        {"shortcut": "greet", "title": "Hi", "text": "Hello", "queues": ["sales_chat", "nope"]},
        {"shortcut": "greet", "title": "Hi again", "text": "Hello again"},
    ])  # fmt: skip
    assert found == [
        "answers.yaml: answers[0].queues[1]: unknown queue 'nope'",
        "answers.yaml: answers[1].shortcut: answers[0] has this shortcut too",
    ]


def test_a_broken_file_is_one_line(tmp_path: Path, center: Center) -> None:
    assert problems(tmp_path, center, "answers:\n  - [\n") == [
        "answers.yaml:3: YAML syntax error: expected the node content, but found '<stream end>'"
    ]
    assert problems(tmp_path, center, {"shortcut": "x"}) != []
    assert load_answers(tmp_path / "nowhere", center) == Answers(default_language="en")


def test_check_config_reports_the_answers(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("planning"))
    doc = yaml.safe_load((config / "answers.yaml").read_text())
    doc["answers"][0]["text"]["en"] = "Hello {name}"
    (config / "answers.yaml").write_text(yaml.safe_dump(doc))
    run = subprocess.run(
        [sys.executable, "-m", "contactcenter", "check-config", str(config)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.splitlines()[1:] == [
        "  answers.yaml: answers[0].text.en: unknown variable {name} (known: {customer_name}, "
        "{agent_name}, {queue}, {center}; '{{' is a brace)"
    ]


def test_a_missing_value_reads_as_its_fallback_never_as_a_variable(example: Answers) -> None:
    [greet] = [a for a in example.answers if a.shortcut == "greet"]
    named = example.render(greet, "en", {"customer_name": "Jan Novak", "agent_name": "Elif"})
    assert named.text == (
        "Hello Jan Novak, this is Elif from Northwind Telecom. How can I help you today?"
    )
    assert named.filled == {"customer_name", "agent_name"}
    for unknown in (None, "", "   "):
        neutral = example.render(greet, "en", {"customer_name": unknown})
        assert neutral.text == (
            "Hello there, this is your agent from Northwind Telecom. How can I help you today?"
        )
        assert neutral.filled == frozenset()
    german = example.render(greet, "de", {"customer_name": "Jan", "agent_name": "Elif"})
    assert german.text.startswith("Hallo Jan, hier ist Elif")


def test_braces_and_own_fallbacks(tmp_path: Path, center: Center) -> None:
    (tmp_path / "answers.yaml").write_text(yaml.safe_dump({"answers": [
        {"shortcut": "code", "title": "Code", "text": "Type {{reset}} for {customer_name}.",
         "fallbacks": {"customer_name": "your account"}},
    ]}))  # fmt: skip
    answers = load_answers(tmp_path, center)
    [code] = answers.answers
    assert answers.render(code, "en", {}).text == "Type {reset} for your account."
    assert answers.render(code, "en", {"customer_name": "Ann"}).text == "Type {reset} for Ann."


def test_a_contact_gets_its_queues_answers_in_its_language(example: Answers) -> None:
    def shortcuts(queue: str, language: str) -> list[str]:
        return [a.shortcut for a in example.for_contact(queue, language)]

    assert shortcuts("sales_chat", "en") == ["bye", "greet", "upgrade", "wait"]
    assert shortcuts("support_chat", "en") == ["bye", "greet", "router", "wait"]
    assert shortcuts("billing_chat", "en") == ["bye", "greet", "invoice", "wait"]
    assert shortcuts("sales_chat", "de") == ["greet"]  # the one answer written in German
    assert shortcuts("sales_chat", "fr") == []
