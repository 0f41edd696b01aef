"""The config loader and ``contactcenter check-config``: the example center, and broken copies.

Every broken copy starts from the example center in ``config/`` (copied to a temporary
directory) and changes one thing, so the expected report is exact: file, key path and reason.
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

from contactcenter.config import (
    AgentConfig,
    CenterSettings,
    ConfigError,
    ConfigIssue,
    EscalationStep,
    QueueConfig,
    Skill,
    Tier,
    build_center,
    load_center,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config"

# Positions in the example center's lists (the broken copies below rely on them).
VIP, SALES, SUPPORT, BILLING, COMPLAINTS, SPANISH = range(6)
SALES_CHAT, SUPPORT_CHAT, BILLING_CHAT, SUPPORT_EMAIL = range(6, 10)


def agent_index(agent_id: str) -> int:
    """``a05`` -> 4: the example's agents are a01..a30 in file order."""
    return int(agent_id[1:]) - 1


@pytest.fixture
def center_dir(tmp_path: Path) -> Path:
    target = tmp_path / "center"
    shutil.copytree(EXAMPLE, target)
    return target


def edit(directory: Path, name: str, change: Callable[[Any], None]) -> None:
    """Load one YAML file of the copy, let ``change`` mutate it, write it back."""
    path = directory / name
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def replace_text(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur exactly once in {name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def issues_of(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_center(directory)
    assert caught.value.issues, "a ConfigError must carry at least one issue"
    return [str(i) for i in caught.value.issues]


def check_config(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contactcenter", "check-config", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# -- the example center ---------------------------------------------------------------------


def test_example_center_loads_with_all_queues_and_agents() -> None:
    center = load_center(EXAMPLE)
    assert len(center.agents) == 30
    assert len(center.queues) == 11
    assert list(center.agents)[:3] == ["a01", "a02", "a03"]
    assert set(center.queues) == {
        "vip",
        "sales",
        "support",
        "billing",
        "complaints",
        "spanish",
        "sales_chat",
        "support_chat",
        "billing_chat",
        "support_email",
        "case_tasks",
    }
    assert center.settings.name == "Northwind Telecom Customer Care"
    assert [s.id for s in center.settings.skills] == [
        "sales",
        "support",
        "billing",
        "complaints",
        "vip_care",
        "spanish",
    ]
    assert len(center.customers) == 10
    assert center.customers["C1001"].tier == "vip"


def test_example_center_accepts_a_str_directory() -> None:
    assert len(load_center(str(EXAMPLE)).queues) == 11


def test_channel_default_thresholds_fill_queues_that_set_none() -> None:
    queues = load_center(EXAMPLE).queues
    # Queues without an answer_target take their channel's default...
    assert queues["sales"].answer_target.threshold_seconds == 30
    assert queues["support"].answer_target.threshold_seconds == 30
    assert queues["sales_chat"].answer_target.threshold_seconds == 10
    assert queues["billing_chat"].answer_target.threshold_seconds == 10
    assert queues["support_email"].answer_target.threshold_seconds == 86400
    # ...and its goal (center.yaml: voice 80 %, chat 90 %, email 95 %).
    assert queues["sales"].answer_target.goal_percent == 80
    assert queues["sales_chat"].answer_target.goal_percent == 90
    assert queues["support_email"].answer_target.goal_percent == 95
    # Queues that set their own keep them.
    assert queues["vip"].answer_target.threshold_seconds == 20
    assert queues["vip"].answer_target.goal_percent == 90
    assert queues["complaints"].answer_target.threshold_seconds == 45


def test_channel_defaults_come_from_the_center_file(center_dir: Path) -> None:
    def slower_chat(doc: dict[str, Any]) -> None:
        doc["channels"]["chat"]["answer_threshold_seconds"] = 25

    edit(center_dir, "center.yaml", slower_chat)
    queues = load_center(center_dir).queues
    assert queues["sales_chat"].answer_target.threshold_seconds == 25
    assert queues["sales"].answer_target.threshold_seconds == 30


def test_channels_left_out_of_the_center_file_keep_built_in_defaults(center_dir: Path) -> None:
    def no_channels(doc: dict[str, Any]) -> None:
        del doc["channels"]

    edit(center_dir, "center.yaml", no_channels)
    center = load_center(center_dir)
    assert center.queues["support_email"].answer_target.threshold_seconds == 86400
    assert center.queues["billing_chat"].answer_target.threshold_seconds == 10
    assert center.channel("chat").capacity == 3
    assert center.channel("voice").blocks == ("chat", "email", "task")
    assert center.channel("task").blocks == ()  # a task never keeps a call away


def test_queue_without_escalation_gets_one_default_step() -> None:
    queues = load_center(EXAMPLE).queues
    assert queues["billing_chat"].escalation == (EscalationStep(after_seconds=0),)
    # Queues with steps keep theirs as written (e-mail's in hours).
    assert [s.after_seconds for s in queues["support_email"].escalation] == [0, 57600]
    assert len(queues["support"].escalation) == 5
    assert queues["support"].escalation[0].dedicated_only is True
    assert queues["sales"].escalation[0] == EscalationStep(
        after_seconds=0, max_tier=1, min_proficiency=4
    )


def test_example_center_capacity_and_dedicated_agents() -> None:
    center = load_center(EXAMPLE)
    chat_only = center.agents["a29"]
    assert center.capacity(chat_only, "voice") == 0
    assert center.capacity(chat_only, "chat") == 4
    assert center.capacity(center.agents["a01"], "chat") == 3
    assert center.dedicated_agent["C1004"] == "a02"
    assert center.dedicated_agent["C1007"] == "a12"
    assert center.tier(None).id == "standard"
    assert center.tier("vip").priority == 100


def test_check_config_accepts_the_example_center() -> None:
    run = check_config(EXAMPLE)
    assert run.returncode == 0, run.stderr
    assert "OK" in run.stdout
    assert "11 queues (chat, email, task, voice), 30 agents, 6 skills, 3 tiers" in run.stdout
    assert run.stderr == ""


# -- one problem at a time --------------------------------------------------------------------


def test_unknown_skill_in_a_queue(center_dir: Path) -> None:
    def plumbing(doc: dict[str, Any]) -> None:
        doc["queues"][BILLING]["skills"]["plumbing"] = 2

    edit(center_dir, "queues.yaml", plumbing)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{BILLING}].skills.plumbing: queue 'billing': unknown skill 'plumbing'"
    ]


def test_unknown_skill_in_an_agent(center_dir: Path) -> None:
    def plumbing(doc: dict[str, Any]) -> None:
        doc["agents"][agent_index("a05")]["skills"]["plumbing"] = 3

    edit(center_dir, "agents.yaml", plumbing)
    assert issues_of(center_dir) == [
        "agents.yaml: agents[4].skills.plumbing: agent 'a05': unknown skill 'plumbing'"
    ]


def test_negative_ring_timeout(center_dir: Path) -> None:
    def negative(doc: dict[str, Any]) -> None:
        doc["queues"][SALES]["ring_timeout_seconds"] = -5

    edit(center_dir, "queues.yaml", negative)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SALES}].ring_timeout_seconds: Input should be greater than 0"
    ]


def test_duplicate_agent_id(center_dir: Path) -> None:
    def duplicate(doc: dict[str, Any]) -> None:
        doc["agents"][agent_index("a06")]["id"] = "a01"

    edit(center_dir, "agents.yaml", duplicate)
    assert issues_of(center_dir) == ["agents.yaml: agents[5].id: duplicate id 'a01'"]


def test_duplicate_queue_id(center_dir: Path) -> None:
    def duplicate(doc: dict[str, Any]) -> None:
        doc["queues"].append(dict(doc["queues"][SPANISH]))

    edit(center_dir, "queues.yaml", duplicate)
    assert issues_of(center_dir) == ["queues.yaml: queues[11].id: duplicate id 'spanish'"]


def test_queue_no_agent_can_serve(center_dir: Path) -> None:
    def demanding(doc: dict[str, Any]) -> None:
        # a13 has spanish 5 but support 4; nobody has both at 5.
        doc["queues"][SPANISH]["skills"] = {"spanish": 5, "support": 5}

    edit(center_dir, "queues.yaml", demanding)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SPANISH}]: no agent can serve queue 'spanish' even at its "
        "widest step (needs voice capacity and skills spanish>=5, support>=5)"
    ]


def test_queue_whose_only_skilled_agents_have_no_capacity(center_dir: Path) -> None:
    def chat_only(doc: dict[str, Any]) -> None:
        # Only a29 and a30 keep sales; both have no voice capacity.
        for agent in doc["agents"]:
            if agent["id"] not in ("a29", "a30"):
                agent["skills"].pop("sales", None)
                for qid in ("sales", "sales_chat"):
                    agent["queues"].pop(qid, None)

    edit(center_dir, "agents.yaml", chat_only)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SALES}]: no agent can serve queue 'sales' even at its widest "
        "step (needs voice capacity and skills sales>=1)"
    ]


def test_yaml_syntax_error_reports_its_line(center_dir: Path) -> None:
    path = center_dir / "queues.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    line_no = lines.index("    name: Sales") + 1
    replace_text(center_dir, "queues.yaml", "    name: Sales\n", "    name: Sales: and more\n")
    with pytest.raises(ConfigError) as caught:
        load_center(center_dir)
    # One problem only: the queues that could not be read are not reported missing everywhere.
    assert [str(i) for i in caught.value.issues] == [
        f"queues.yaml:{line_no}: YAML syntax error: mapping values are not allowed here"
    ]
    issue = caught.value.issues[0]
    assert (issue.file, issue.path, issue.line) == ("queues.yaml", "", line_no)


def test_yaml_syntax_error_in_agents_does_not_flood_queues(center_dir: Path) -> None:
    replace_text(center_dir, "agents.yaml", "name: Ben Costa", "name: [Ben Costa")
    issues = issues_of(center_dir)
    assert len(issues) == 1
    assert issues[0].startswith("agents.yaml:")
    assert "YAML syntax error" in issues[0]
    line = int(issues[0].split(":")[1])
    assert 10 <= line <= 20  # the broken entry is near the top of agents.yaml


def test_unknown_key_in_a_queue(center_dir: Path) -> None:
    replace_text(
        center_dir,
        "queues.yaml",
        "ring_timeout_seconds: 120",
        "ring_timout_seconds: 120",
    )
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SUPPORT_EMAIL}].ring_timout_seconds: Extra inputs are not permitted"
    ]


def test_unknown_nested_key_in_the_center_file(center_dir: Path) -> None:
    replace_text(center_dir, "center.yaml", "  no_answer_limit: 2", "  no_anwser_limit: 2")
    assert issues_of(center_dir) == [
        "center.yaml: routing.no_anwser_limit: Extra inputs are not permitted"
    ]


def test_unknown_top_level_key_in_a_list_file(center_dir: Path) -> None:
    def extra(doc: dict[str, Any]) -> None:
        doc["agnets"] = []

    edit(center_dir, "agents.yaml", extra)
    assert issues_of(center_dir) == ["agents.yaml: agnets: unknown key"]


def test_unknown_queue_referenced_by_an_agent(center_dir: Path) -> None:
    def typo(doc: dict[str, Any]) -> None:
        doc["agents"][agent_index("a11")]["queues"]["suport"] = 1

    edit(center_dir, "agents.yaml", typo)
    assert issues_of(center_dir) == [
        "agents.yaml: agents[10].queues.suport: agent 'a11': unknown queue 'suport'"
    ]


def test_unknown_queue_in_chat_topics(center_dir: Path) -> None:
    replace_text(center_dir, "center.yaml", "billing: billing_chat", "billing: billing")
    assert issues_of(center_dir) == [
        "center.yaml: chat_topics.billing: queue 'billing' is not a chat queue"
    ]


def test_escalation_overflow_to_another_channel(center_dir: Path) -> None:
    def to_chat(doc: dict[str, Any]) -> None:
        doc["queues"][BILLING]["escalation"][2]["overflow_to"] = "support_chat"

    edit(center_dir, "queues.yaml", to_chat)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{BILLING}].escalation[2].overflow_to: queue 'billing' (voice) "
        "cannot overflow to chat queue 'support_chat'"
    ]


def test_no_agents_and_max_wait_overflow_to_another_channel(center_dir: Path) -> None:
    def to_other_channels(doc: dict[str, Any]) -> None:
        doc["queues"][COMPLAINTS]["no_agents_overflow_to"] = "support_email"
        doc["queues"][SALES_CHAT]["max_wait"] = {
            "seconds": 600,
            "action": "overflow",
            "overflow_to": "sales",
        }

    edit(center_dir, "queues.yaml", to_other_channels)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{COMPLAINTS}].no_agents_overflow_to: queue 'complaints' (voice) "
        "cannot overflow to email queue 'support_email'",
        f"queues.yaml: queues[{SALES_CHAT}].max_wait.overflow_to: queue 'sales_chat' (chat) "
        "cannot overflow to voice queue 'sales'",
    ]


def test_overflow_to_itself_and_to_nowhere(center_dir: Path) -> None:
    def bad_targets(doc: dict[str, Any]) -> None:
        doc["queues"][BILLING]["escalation"][2]["overflow_to"] = "billing"
        doc["queues"][SUPPORT]["max_wait"] = {"seconds": 60, "action": "overflow"}

    edit(center_dir, "queues.yaml", bad_targets)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SUPPORT}].max_wait.overflow_to: action 'overflow' needs a queue",
        f"queues.yaml: queues[{BILLING}].escalation[2].overflow_to: queue 'billing' cannot "
        "overflow to itself",
    ]


def test_call_backs_are_made_from_a_voice_queue(center_dir: Path) -> None:
    def bad_callback_queues(doc: dict[str, Any]) -> None:
        doc["queues"][SUPPORT_CHAT]["callback_queue"] = "billing_chat"
        doc["queues"][SALES]["callback_queue"] = "nowhere"
        doc["queues"][SALES_CHAT]["max_wait"]["action"] = "callback"

    edit(center_dir, "queues.yaml", bad_callback_queues)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SALES}].callback_queue: unknown queue 'nowhere'",
        f"queues.yaml: queues[{SALES_CHAT}].callback_queue: queue 'sales_chat' (chat) offers "
        "call backs: name the voice queue that makes them (callback_queue)",
        f"queues.yaml: queues[{SUPPORT_CHAT}].callback_queue: call backs are calls: queue "
        "'billing_chat' is a chat queue",
    ]


def test_call_back_settings_are_checked(center_dir: Path) -> None:
    def bad(doc: dict[str, Any]) -> None:
        doc["callbacks"]["max_attempts"] = 0

    edit(center_dir, "center.yaml", bad)
    (issue,) = issues_of(center_dir)
    assert issue.startswith("center.yaml: callbacks.max_attempts:"), issue


NARROWING = (
    "escalation steps only widen: max_tier may not fall, min_proficiency may not rise, "
    "any_agent may not be switched off"
)


def narrow_sales_tier(doc: dict[str, Any]) -> None:
    doc["queues"][SALES]["escalation"][3]["max_tier"] = 1  # step 2 allows tier 2


def raise_sales_proficiency(doc: dict[str, Any]) -> None:
    doc["queues"][SALES]["escalation"][1]["min_proficiency"] = 5  # step 0 asks 4


def switch_vip_any_agent_off(doc: dict[str, Any]) -> None:
    # Step 3 lets any agent take it; a later step that does not is narrower.
    doc["queues"][VIP]["escalation"].append({"after_seconds": 300, "min_proficiency": 1})


@pytest.mark.parametrize(
    ("change", "bad_path"),
    [
        pytest.param(narrow_sales_tier, f"queues[{SALES}].escalation[3]", id="max_tier falls"),
        pytest.param(
            raise_sales_proficiency, f"queues[{SALES}].escalation[1]", id="min_proficiency rises"
        ),
        pytest.param(
            switch_vip_any_agent_off, f"queues[{VIP}].escalation[4]", id="any_agent switched off"
        ),
    ],
)
def test_escalation_steps_that_narrow(
    center_dir: Path, change: Callable[[Any], None], bad_path: str
) -> None:
    edit(center_dir, "queues.yaml", change)
    assert issues_of(center_dir) == [f"queues.yaml: {bad_path}: {NARROWING}"]


def test_escalation_step_times_must_increase(center_dir: Path) -> None:
    def same_time(doc: dict[str, Any]) -> None:
        doc["queues"][VIP]["escalation"][2]["after_seconds"] = 20  # equal to step 1

    edit(center_dir, "queues.yaml", same_time)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{VIP}].escalation[2].after_seconds: "
        "steps must be in increasing time order"
    ]


def test_escalation_step_times_going_back(center_dir: Path) -> None:
    def earlier(doc: dict[str, Any]) -> None:
        doc["queues"][SUPPORT]["escalation"][3]["after_seconds"] = 25  # after 30

    edit(center_dir, "queues.yaml", earlier)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SUPPORT}].escalation[3].after_seconds: "
        "steps must be in increasing time order"
    ]


def test_first_escalation_step_must_start_at_zero(center_dir: Path) -> None:
    def late(doc: dict[str, Any]) -> None:
        doc["queues"][SALES_CHAT]["escalation"][0]["after_seconds"] = 5

    edit(center_dir, "queues.yaml", late)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SALES_CHAT}].escalation[0].after_seconds: "
        "the first step must start at 0 seconds"
    ]


def test_dedicated_only_steps_must_come_first(center_dir: Path) -> None:
    def late_dedicated(doc: dict[str, Any]) -> None:
        doc["queues"][SALES_CHAT]["escalation"].append(
            {"after_seconds": 30, "dedicated_only": True}
        )

    edit(center_dir, "queues.yaml", late_dedicated)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SALES_CHAT}].escalation[2].dedicated_only: "
        "dedicated-only steps must come first"
    ]


@pytest.mark.parametrize("name", ["center.yaml", "queues.yaml", "agents.yaml"])
def test_missing_required_file(center_dir: Path, name: str) -> None:
    (center_dir / name).unlink()
    issues = issues_of(center_dir)
    assert issues == [f"{name}: file is missing"]


def test_missing_customers_file_is_fine(center_dir: Path) -> None:
    (center_dir / "customers.yaml").unlink()
    center = load_center(center_dir)
    assert center.customers == {}
    assert len(center.agents) == 30


@pytest.mark.parametrize("name", ["center.yaml", "agents.yaml"])
def test_empty_required_file(center_dir: Path, name: str) -> None:
    (center_dir / name).write_text("# nothing here yet\n", encoding="utf-8")
    assert issues_of(center_dir) == [f"{name}: file is empty"]


def test_center_file_typo_does_not_hide_other_files_problems(center_dir: Path) -> None:
    replace_text(center_dir, "center.yaml", "  no_answer_limit: 2", "  no_answer_limit: 0")
    replace_text(
        center_dir, "queues.yaml", "skills: {billing: 2}\n    ring", "skills: {biling: 2}\n    ring"
    )
    assert issues_of(center_dir) == [
        "center.yaml: routing.no_answer_limit: Input should be greater than or equal to 1",
        f"queues.yaml: queues[{BILLING_CHAT}].skills.biling: queue 'billing_chat': "
        "unknown skill 'biling'",
    ]


def test_invalid_skills_in_center_file_are_the_only_report(center_dir: Path) -> None:
    replace_text(center_dir, "center.yaml", "{id: sales, name:", "{id: 'sales team', name:")
    issues = issues_of(center_dir)
    assert len(issues) == 1
    assert issues[0].startswith("center.yaml: skills[0].id: String should match pattern")


def test_not_a_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert issues_of(missing) == [f"{missing}: not a directory"]


def test_issue_positions_are_those_of_the_file_even_after_an_invalid_item(
    center_dir: Path,
) -> None:
    def two_problems(doc: dict[str, Any]) -> None:
        doc["agents"][agent_index("a02")]["capacity"] = {"voice": -1}  # invalid item
        doc["agents"][agent_index("a08")]["skills"]["plumbing"] = 2  # cross-check, later

    edit(center_dir, "agents.yaml", two_problems)
    assert issues_of(center_dir) == [
        "agents.yaml: agents[1].capacity.voice: Input should be greater than or equal to 0",
        "agents.yaml: agents[7].skills.plumbing: agent 'a08': unknown skill 'plumbing'",
    ]


# -- every problem at once ----------------------------------------------------------------


def break_everything(directory: Path) -> list[str]:
    """Break center, queues and agents files in several ways; return the expected reports."""

    def center(doc: dict[str, Any]) -> None:
        doc["default_tier"] = "bronze"
        doc["routing"]["no_answer_limt"] = 3

    def queues(doc: dict[str, Any]) -> None:
        doc["queues"][SALES]["ring_timeout_seconds"] = -1
        doc["queues"][SUPPORT]["skills"]["plumbing"] = 2
        doc["queues"][BILLING]["escalation"][2]["overflow_to"] = "billing_chat"
        doc["queues"][COMPLAINTS]["escalation"][1]["after_seconds"] = 0
        doc["queues"][SPANISH]["skills"] = {"spanish": 5, "support": 5}
        doc["queues"][SUPPORT_CHAT]["escalation"][3]["max_tier"] = 1
        doc["queues"][SUPPORT_EMAIL]["wrapup_seconds"] = 60

    def agents(doc: dict[str, Any]) -> None:
        doc["agents"][agent_index("a03")]["skills"]["cooking"] = 2
        doc["agents"][agent_index("a07")]["id"] = "a04"
        doc["agents"][agent_index("a12")]["queues"]["suport_chat"] = 1
        doc["agents"][agent_index("a20")]["skills"]["billing"] = 7

    edit(directory, "center.yaml", center)
    edit(directory, "queues.yaml", queues)
    edit(directory, "agents.yaml", agents)
    (directory / "customers.yaml").write_text("customers:\n  - {id: C1, name: [\n", "utf-8")
    return [
        "center.yaml: routing.no_answer_limt: Extra inputs are not permitted",
        f"queues.yaml: queues[{SALES}].ring_timeout_seconds: Input should be greater than 0",
        f"queues.yaml: queues[{SUPPORT_EMAIL}].wrapup_seconds: Extra inputs are not permitted",
        "agents.yaml: agents[19].skills.billing: Input should be less than or equal to 5",
        "agents.yaml: agents[6].id: duplicate id 'a04'",
        "center.yaml: default_tier: unknown tier 'bronze'",
        f"queues.yaml: queues[{SUPPORT}].skills.plumbing: queue 'support': unknown skill "
        "'plumbing'",
        f"queues.yaml: queues[{BILLING}].escalation[2].overflow_to: queue 'billing' (voice) "
        "cannot overflow to chat queue 'billing_chat'",
        f"queues.yaml: queues[{COMPLAINTS}].escalation[1].after_seconds: steps must be in "
        "increasing time order",
        f"queues.yaml: queues[{SUPPORT_CHAT}].escalation[3]: {NARROWING}",
        "agents.yaml: agents[2].skills.cooking: agent 'a03': unknown skill 'cooking'",
        "agents.yaml: agents[11].queues.suport_chat: agent 'a12': unknown queue 'suport_chat'",
        f"queues.yaml: queues[{SPANISH}]: no agent can serve queue 'spanish' even at its "
        "widest step (needs voice capacity and skills spanish>=5, support>=5)",
    ]


def test_all_problems_are_reported_in_one_config_error(center_dir: Path) -> None:
    expected = break_everything(center_dir)
    with pytest.raises(ConfigError) as caught:
        load_center(center_dir)
    reported = [str(i) for i in caught.value.issues]
    syntax = [r for r in reported if r.startswith("customers.yaml:")]
    assert len(syntax) == 1
    assert syntax[0].startswith("customers.yaml:3: YAML syntax error:")
    assert sorted(r for r in reported if r not in syntax) == sorted(expected)
    # The exception's message lists every issue, one per line.
    assert str(caught.value).splitlines() == reported


def test_check_config_reports_all_problems_in_one_run(center_dir: Path) -> None:
    expected = break_everything(center_dir)
    run = check_config(center_dir)
    assert run.returncode == 1
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert lines[0] == f"{center_dir}: {len(expected) + 1} problem(s)"
    body = [line.removeprefix("  ") for line in lines[1:]]
    assert all(line.startswith("  ") for line in lines[1:])
    for problem in expected:
        assert problem in body
    assert sum(line.startswith("customers.yaml:3: YAML syntax error") for line in body) == 1
    assert len(body) == len(expected) + 1


def test_check_config_single_problem_exit_code_and_message(center_dir: Path) -> None:
    (center_dir / "agents.yaml").unlink()
    run = check_config(center_dir)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"{center_dir}: 1 problem(s)",
        "  agents.yaml: file is missing",
    ]


def test_check_config_on_a_missing_directory(tmp_path: Path) -> None:
    run = check_config(tmp_path / "nowhere")
    assert run.returncode == 1
    assert f"{tmp_path / 'nowhere'}: not a directory" in run.stderr


# -- ConfigIssue and ConfigError ----------------------------------------------------------


def test_config_issue_str_formats() -> None:
    assert str(ConfigIssue("queues.yaml", "queues[2].skills.x", "bad")) == (
        "queues.yaml: queues[2].skills.x: bad"
    )
    assert str(ConfigIssue("agents.yaml", "", "file is missing")) == "agents.yaml: file is missing"
    assert str(ConfigIssue("center.yaml", "", "YAML syntax error: oops", 7)) == (
        "center.yaml:7: YAML syntax error: oops"
    )
    assert str(ConfigIssue("center.yaml", "routing", "bad", 3)) == "center.yaml:3: routing: bad"


def test_config_error_keeps_its_issues_in_order() -> None:
    first = ConfigIssue("a.yaml", "x", "one")
    second = ConfigIssue("b.yaml", "", "two")
    err = ConfigError([first, second])
    assert err.issues == [first, second]
    assert str(err) == "a.yaml: x: one\nb.yaml: two"


# -- build_center on models built in code -------------------------------------------------


def settings(**overrides: Any) -> CenterSettings:
    base: dict[str, Any] = {
        "name": "Tiny",
        "skills": (Skill(id="sales"), Skill(id="support")),
        "tiers": (Tier(id="standard", priority=0), Tier(id="vip", priority=100)),
    }
    return CenterSettings(**{**base, **overrides})


def test_build_center_in_code_resolves_defaults() -> None:
    voice = QueueConfig(id="sales", channel="voice", skills={"sales": 2})
    chat = QueueConfig(
        id="help",
        channel="chat",
        skills={"support": 1},
        escalation=(EscalationStep(after_seconds=0, max_tier=1), EscalationStep(after_seconds=5)),
    )
    ann = AgentConfig(id="ann", skills={"sales": 3, "support": 1}, queues={"sales": 1, "help": 1})
    center = build_center(settings(), [voice, chat], [ann])
    assert center.queues["sales"].answer_target.threshold_seconds == 30
    assert center.queues["sales"].answer_target.goal_percent == 80
    assert center.queues["help"].answer_target.threshold_seconds == 10
    assert center.queues["sales"].escalation == (EscalationStep(after_seconds=0),)
    assert center.queues["help"].escalation == chat.escalation
    assert center.agents == {"ann": ann}
    assert center.customers == {}
    # The models passed in are not changed; the center holds resolved copies.
    assert voice.answer_target.threshold_seconds is None
    assert voice.escalation == ()


def test_build_center_in_code_collects_every_issue() -> None:
    queues = [
        QueueConfig(id="sales", channel="voice", skills={"sales": 2, "magic": 1}),
        QueueConfig(
            id="help",
            channel="chat",
            skills={"support": 1},
            max_wait={"seconds": 60, "action": "overflow", "overflow_to": "sales"},
        ),
        QueueConfig(id="lonely", channel="email", skills={"support": 5}),
    ]
    agents = [
        AgentConfig(id="ann", skills={"sales": 3, "support": 1}, queues={"help": 1, "gone": 1}),
        AgentConfig(id="ann", extension="100", skills={"support": 1}),
        AgentConfig(
            id="bob",
            extension="100",
            skills={"sales": 2},
            queues={"sales": 1},
            capacity={"voice": 0},
        ),
    ]
    with pytest.raises(ConfigError) as caught:
        build_center(settings(default_tier="gold"), queues, agents)
    assert [str(i) for i in caught.value.issues] == [
        "agents.yaml: agents[1].id: duplicate id 'ann'",
        "center.yaml: default_tier: unknown tier 'gold'",
        "queues.yaml: queues[0].skills.magic: queue 'sales': unknown skill 'magic'",
        "queues.yaml: queues[1].max_wait.overflow_to: queue 'help' (chat) cannot overflow to "
        "voice queue 'sales'",
        "agents.yaml: agents[0].queues.gone: agent 'ann': unknown queue 'gone'",
        "agents.yaml: agents[2].capacity.voice: agent 'bob' is a member of voice queue 'sales' "
        "but has no voice capacity",
        "agents.yaml: agents[2].extension: extension '100' is also agent 'ann''s",
        "queues.yaml: queues[2]: no agent can serve queue 'lonely' even at its widest step "
        "(needs email capacity and skills support>=5)",
    ]


def test_build_center_uses_the_file_names_given() -> None:
    names = {"center": "c.yml", "queues": "q.yml", "agents": "a.yml", "customers": "k.yml"}
    queue = QueueConfig(id="sales", channel="voice", skills={"sales": 1})
    with pytest.raises(ConfigError) as caught:
        build_center(settings(), [queue], [], file_names=names)
    assert [i.file for i in caught.value.issues] == ["q.yml"]


def test_build_center_unchecked_queues_are_not_reported_again() -> None:
    queue = QueueConfig(id="sales", channel="voice", skills={"sales": 1})
    agent = AgentConfig(id="ann", skills={"sales": 1}, queues={"sales": 1, "broken": 2})
    center = build_center(settings(), [queue], [agent], unchecked_queues=frozenset({"broken"}))
    assert set(center.queues) == {"sales"}
    with pytest.raises(ConfigError, match="unknown queue 'broken'"):
        build_center(settings(), [queue], [agent])


def test_build_center_dedicated_customer_twice_and_unknown_customer_tier() -> None:
    from contactcenter.config import Customer

    queue = QueueConfig(id="sales", channel="voice", skills={"sales": 1})
    agents = [
        AgentConfig(
            id="ann", skills={"sales": 1}, queues={"sales": 1}, dedicated_customers=("c1",)
        ),
        AgentConfig(
            id="bob", skills={"sales": 1}, queues={"sales": 1}, dedicated_customers=("c1",)
        ),
    ]
    customers = [Customer(id="c1", name="Cora", tier="platinum")]
    with pytest.raises(ConfigError) as caught:
        build_center(settings(), [queue], agents, customers)
    assert [str(i) for i in caught.value.issues] == [
        "agents.yaml: agents[1].dedicated_customers[0]: customer 'c1' already has dedicated "
        "agent 'ann'",
        "customers.yaml: customers[0].tier: customer 'c1': unknown tier 'platinum'",
    ]


def test_an_unknown_time_zone_is_named_with_file_and_key(center_dir: Path) -> None:
    """The day turns at midnight in the center's zone: a typo must not wait for serve."""
    edit(center_dir, "center.yaml", lambda doc: doc.update(timezone="Europe/Berlinn"))
    (issue,) = issues_of(center_dir)
    assert "center.yaml" in issue and "timezone" in issue and "Europe/Berlinn" in issue, issue
