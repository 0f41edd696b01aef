"""Loading and validating the IVR section: the example center, and broken copies of it.

Each broken copy starts from ``config/`` (copied to a temporary directory) and changes what
the test names, so the expected report is exact: file, key path and reason.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from contactcenter.config import Center, ConfigError, load_center
from contactcenter.ivr import Flows, flows_of, load_flows, with_flows
from tests.ivr.conftest import EXAMPLE

MAIN = "ivr/main.yaml"
CHAT = "ivr/chat.yaml"
MISSING_GOODBYE = (
    f"{MAIN}: nodes.goodbye.prompt: prompt 'goodbye' has no recording prompts/goodbye.wav "
    "(scripts/make-prompts makes it from prompts/prompts.yaml)"
)


@pytest.fixture
def center_dir(tmp_path: Path) -> Path:
    target = tmp_path / "center"
    shutil.copytree(EXAMPLE, target)
    return target


def edit(directory: Path, name: str, change: Callable[[Any], None]) -> None:
    path = directory / name
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def issues_of(directory: Path, center: Center | None = None) -> list[str]:
    if center is None:
        center = load_center(directory)
    with pytest.raises(ConfigError) as caught:
        load_flows(directory, center)
    assert caught.value.issues
    return [str(i) for i in caught.value.issues]


def check_config(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contactcenter", "check-config", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# -- the example ------------------------------------------------------------------------------


def test_the_example_loads(flows: Flows) -> None:
    assert sorted(flows.flows) == ["chat", "main"]
    assert dict(flows.entries.voice) == {"1000": "main"}
    assert dict(flows.entries.chat) == {"web": "chat"}
    assert sorted(flows.hours.schedules) == ["chat", "main"]
    assert str(flows.hours.timezone) == "Europe/Berlin"
    assert flows.texts["welcome"] == "Welcome to Northwind Telecom."
    assert flows.library().seconds("welcome") > 0.5


def test_flows_ride_along_in_the_center(center: Center, flows: Flows) -> None:
    assert flows_of(center) is None
    carried = with_flows(center, flows)
    assert flows_of(carried) is flows
    assert carried.queues is center.queues


def test_a_center_without_ivr_has_no_flows(center_dir: Path) -> None:
    shutil.rmtree(center_dir / "ivr")
    flows = load_flows(center_dir, load_center(center_dir))
    assert flows.flows == {}
    assert flows.for_dialled("1000") is None


def test_check_config_counts_the_flows() -> None:
    run = check_config(EXAMPLE)
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip().endswith("3 tiers; IVR: 2 flows, 2 entry points")


# -- the problems the issue names, one at a time and all at once ------------------------------


def unknown_node(d: Path) -> list[str]:
    edit(d, MAIN, lambda doc: doc["nodes"]["account_unknown"].update(next="main_manu"))
    return [f"{MAIN}: nodes.account_unknown.next: unknown node 'main_manu'"]


def missing_prompt(d: Path) -> list[str]:
    (d / "prompts" / "goodbye.wav").unlink()
    return [MISSING_GOODBYE]


def unknown_queue(d: Path) -> list[str]:
    edit(d, MAIN, lambda doc: doc["nodes"]["billing"].update(queue="biling"))
    return [f"{MAIN}: nodes.billing.queue: unknown queue 'biling'"]


def bad_regex(d: Path) -> list[str]:
    edit(d, MAIN, lambda doc: doc["nodes"]["account_number"].update(pattern="[0-9{4,16}"))
    return [
        f"{MAIN}: nodes.account_number.pattern: invalid regular expression: "
        "unterminated character set at position 0"
    ]


@pytest.mark.parametrize("breakage", [unknown_node, missing_prompt, unknown_queue, bad_regex])
def test_one_problem(center_dir: Path, breakage: Callable[[Path], list[str]]) -> None:
    expected = breakage(center_dir)
    assert issues_of(center_dir) == expected


def test_all_problems_at_once(center_dir: Path) -> None:
    expected = [
        line
        for breakage in (unknown_node, missing_prompt, unknown_queue, bad_regex)
        for line in breakage(center_dir)
    ]
    assert sorted(issues_of(center_dir)) == sorted(expected)
    run = check_config(center_dir)
    assert run.returncode == 1
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert lines[0] == f"{center_dir}: {len(expected)} problem(s)"
    assert sorted(line.removeprefix("  ") for line in lines[1:]) == sorted(expected)


def test_check_config_reports_center_and_ivr_problems_together(center_dir: Path) -> None:
    edit(center_dir, "center.yaml", lambda doc: doc.update(default_tier="bronze"))
    (center_dir / "prompts" / "goodbye.wav").unlink()
    edit(center_dir, MAIN, lambda doc: doc["nodes"]["billing"].update(queue="biling"))
    run = check_config(center_dir)
    assert run.returncode == 1
    # Without a valid center the queue is not checked; the rest of the IVR is.
    assert run.stderr.splitlines() == [
        f"{center_dir}: 2 problem(s)",
        "  center.yaml: default_tier: unknown tier 'bronze'",
        f"  {MISSING_GOODBYE}",
    ]


# -- more problems ----------------------------------------------------------------------------


def test_unreachable_nodes(center_dir: Path) -> None:
    edit(center_dir, MAIN, lambda doc: doc["nodes"]["main_menu"]["options"].pop("1"))
    assert issues_of(center_dir) == [f"{MAIN}: nodes.sales: never reached from the start 'welcome'"]


def test_node_shapes(center_dir: Path) -> None:
    def change(doc: Any) -> None:
        nodes = doc["nodes"]
        nodes["welcome"]["type"] = "greet"
        nodes["sales"]["timeout"] = 5
        nodes["main_menu"]["options"]["12"] = "sales"
        nodes["account_number"]["min_digits"] = 20
        nodes["vip_check"]["rules"][0]["when"] = {"variable": "tier", "open": "main"}
        nodes["support_wait"]["rules"][1]["when"] = {"queue": "support", "equals": "x"}
        nodes["hours"]["rules"][1]["when"] = {}

    edit(center_dir, MAIN, change)
    assert issues_of(center_dir) == [
        f"{MAIN}: nodes.welcome.type: unknown node type 'greet' (one of: menu, collect, lookup, "
        "branch, play, enqueue, callback, transfer, hangup, survey)",
        f"{MAIN}: nodes.hours.rules[1].when: a condition needs exactly one of: variable, open, "
        "holiday, queue, all, any, not (got none)",
        f"{MAIN}: nodes.account_number: min_digits 20 is above max_digits 16",
        f"{MAIN}: nodes.vip_check.rules[0].when: a condition needs exactly one of: variable, "
        "open, holiday, queue, all, any, not (got variable, open)",
        f"{MAIN}: nodes.main_menu.options.12.[key]: String should match pattern '^[0-9*#]$'",
        f"{MAIN}: nodes.sales.timeout: Extra inputs are not permitted",
        f"{MAIN}: nodes.support_wait.rules[1].when: equals does not go with queue",
    ]


def test_flow_file_shape(center_dir: Path) -> None:
    def change(doc: Any) -> None:
        doc["id"] = "main"
        doc["start"] = "hello"
        doc["entry"] = "1000"

    edit(center_dir, MAIN, change)
    assert issues_of(center_dir) == [
        f"{MAIN}: entry: unknown key",
        f"{MAIN}: id: the flow's id is its file name",
        f"{MAIN}: start: unknown node 'hello'",
    ]


def test_yaml_syntax_error_has_a_line(center_dir: Path) -> None:
    (center_dir / CHAT).write_text("name: chat\nstart: [\n", encoding="utf-8")
    [issue] = issues_of(center_dir)
    assert issue.startswith(f"{CHAT}:3: YAML syntax error:")


def test_channels_must_fit(center_dir: Path) -> None:
    def chat(doc: Any) -> None:
        doc["nodes"]["sales"]["queue"] = "sales"  # a voice queue
        doc["nodes"]["closed"] = {"type": "transfer", "number": "+4930555019999"}

    def main(doc: Any) -> None:
        doc["nodes"]["callback"]["queue"] = "support_chat"

    edit(center_dir, CHAT, chat)
    edit(center_dir, MAIN, main)
    assert sorted(issues_of(center_dir)) == [
        f"{CHAT}: nodes.closed: a chat cannot be transferred to a phone number",
        f"{CHAT}: nodes.sales.queue: queue 'sales' is a voice queue but this flow is entered "
        "by chat (ivr/entries.yaml)",
        f"{MAIN}: nodes.callback.queue: callbacks are calls: queue 'support_chat' is a chat queue",
    ]


def test_the_post_call_survey_is_for_calls_of_a_center_that_surveys_calls(
    center_dir: Path,
) -> None:
    def chat(doc: Any) -> None:
        doc["nodes"]["sales"]["survey"] = True

    edit(center_dir, CHAT, chat)
    edit(center_dir, "center.yaml", lambda doc: doc["csat"].update(channels=["chat"]))
    need = "the post-call survey needs voice in csat.channels (center.yaml)"
    assert sorted(issues_of(center_dir)) == [
        f"{CHAT}: nodes.sales.survey: a chat is surveyed by the chat widget when it ends, not "
        "by its menu",
        f"{MAIN}: nodes.billing_survey: {need}",
    ]


def test_chat_prompts_need_texts_and_voice_prompts_recordings(center_dir: Path) -> None:
    def catalog(doc: Any) -> None:
        del doc["prompts"]["chat_bye"]

    edit(center_dir, "prompts/prompts.yaml", catalog)
    edit(center_dir, "ivr/entries.yaml", lambda doc: doc["voice"].update({"1001": "chat"}))
    issues = issues_of(center_dir)
    assert f"{CHAT}: nodes.bye.prompt: prompt 'chat_bye' has no text in prompts/prompts.yaml" in (
        issues
    )
    # Entered by voice too, the chat flow needs recordings of its (text-only) prompts.
    assert (
        f"{CHAT}: nodes.topics.prompt: prompt 'chat_welcome' has no recording "
        "prompts/chat_welcome.wav (scripts/make-prompts makes it from prompts/prompts.yaml)"
    ) in issues


def test_a_recording_that_cannot_be_played(center_dir: Path) -> None:
    (center_dir / "prompts" / "welcome.wav").write_bytes(b"ID3\x03 not a wave at all")
    assert issues_of(center_dir) == ["prompts/welcome.wav: cannot be played: not a RIFF/WAVE file"]


def test_schedules_tiers_and_entries(center_dir: Path) -> None:
    def main(doc: Any) -> None:
        doc["nodes"]["hours"]["rules"][1]["when"] = {"open": "office"}
        doc["nodes"]["vip_check"]["rules"][0]["when"] = {"variable": "tier", "one_of": ["vp"]}
        doc["nodes"]["vip"]["tier"] = "platinum"

    def entries(doc: Any) -> None:
        doc["chat"]["app"] = "mobile"
        doc["voice"]["1000 "] = "main"

    edit(center_dir, MAIN, main)
    edit(center_dir, "ivr/entries.yaml", entries)
    assert sorted(issues_of(center_dir)) == [
        "ivr/entries.yaml: chat.app: unknown flow 'mobile'",
        "ivr/entries.yaml: voice.1000 .[key]: String should match pattern '^\\+?[0-9*#]{1,32}$'",
        f"{MAIN}: nodes.hours.rules[1].when.open: unknown schedule 'office' (ivr/hours.yaml)",
        f"{MAIN}: nodes.vip.tier: unknown tier 'platinum'",
        f"{MAIN}: nodes.vip_check.rules[0].when.one_of: unknown tier 'vp'",
    ]


def test_unknown_flow_in_entries_and_unused_flows(center_dir: Path) -> None:
    edit(center_dir, "ivr/entries.yaml", lambda doc: doc["chat"].update(app="mobile"))
    shutil.copy(center_dir / CHAT, center_dir / "ivr" / "spare.yaml")
    assert sorted(issues_of(center_dir)) == [
        "ivr/entries.yaml: chat.app: unknown flow 'mobile'",
        "ivr/spare.yaml: flow 'spare' is not used by any entry point",
    ]


def test_bad_hours(center_dir: Path) -> None:
    def hours(doc: Any) -> None:
        doc["schedules"]["main"]["weekly"]["mon"] = ["20:00-08:00"]
        doc["schedules"]["main"]["weekly"]["tue"] = ["8:00-20:00"]
        doc["schedules"]["main"]["weekly"]["sunday"] = []

    edit(center_dir, "ivr/hours.yaml", hours)
    # The schedule is unusable, so the flows' schedule names are not checked against it.
    assert issues_of(center_dir) == [
        "ivr/hours.yaml: schedules.main.weekly.mon: '20:00-08:00' ends before it starts "
        "(split ranges over midnight in two)",
        "ivr/hours.yaml: schedules.main.weekly.tue[0]: String should match pattern "
        "'^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'",
        "ivr/hours.yaml: schedules.main.weekly.sunday: Extra inputs are not permitted",
    ]


def test_a_holiday_listed_twice(center_dir: Path) -> None:
    def hours(doc: Any) -> None:
        doc["schedules"]["chat"]["holidays"] = [{"date": "2026-12-25"}, {"date": "2026-12-25"}]

    edit(center_dir, "ivr/hours.yaml", hours)
    assert issues_of(center_dir) == [
        "ivr/hours.yaml: schedules.chat: holiday 2026-12-25 is listed twice"
    ]


def test_a_loop_that_never_waits(center_dir: Path) -> None:
    def main(doc: Any) -> None:
        doc["nodes"]["vip_check"]["otherwise"] = "identify"  # lookup <-> branch

    edit(center_dir, MAIN, main)
    assert issues_of(center_dir) == [
        f"{MAIN}: nodes.identify: nodes identify, vip_check can loop without waiting for the caller"
    ]


def test_a_missing_entries_file(center_dir: Path) -> None:
    (center_dir / "ivr" / "entries.yaml").write_text("# nothing yet\n", encoding="utf-8")
    assert issues_of(center_dir) == ["ivr/entries.yaml: file is empty (flows need entries)"]
    (center_dir / "ivr" / "entries.yaml").unlink()
    assert issues_of(center_dir) == ["ivr/entries.yaml: file is missing (flows need entries)"]


def test_without_a_center_only_the_center_checks_are_skipped(center_dir: Path) -> None:
    edit(center_dir, MAIN, lambda doc: doc["nodes"]["billing"].update(queue="biling"))
    flows = load_flows(center_dir, None)  # e.g. center.yaml did not load
    assert "main" in flows.flows
    (center_dir / "prompts" / "goodbye.wav").unlink()
    with pytest.raises(ConfigError) as caught:
        load_flows(center_dir, None)
    assert [str(i) for i in caught.value.issues] == [MISSING_GOODBYE]


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        load_flows(tmp_path / "nowhere", None)


def test_a_bad_time_zone(center_dir: Path) -> None:
    edit(center_dir, "center.yaml", lambda doc: doc.update(timezone="Europe/Atlantis"))
    with pytest.raises(ConfigError) as caught:  # refused with the center, before any flow
        load_center(center_dir)
    assert [str(i) for i in caught.value.issues] == [
        "center.yaml: timezone: unknown time zone 'Europe/Atlantis' (an IANA name, e.g. "
        "Europe/Berlin)"
    ]
