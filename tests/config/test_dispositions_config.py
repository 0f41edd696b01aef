"""Wrap-up dispositions per queue (``dispositions:`` in queues.yaml, else center.yaml's list)
and the away reasons' labels: the example center, and broken copies reported by file and key."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from contactcenter.config import load_center
from tests.config.test_loader import BILLING_CHAT, EXAMPLE, SALES, edit, issues_of


@pytest.fixture
def center_dir(tmp_path: Path) -> Path:
    target = tmp_path / "center"
    shutil.copytree(EXAMPLE, target)
    return target


def test_a_queue_with_its_own_list_and_one_that_falls_back() -> None:
    center = load_center(EXAMPLE)
    assert center.settings.dispositions == (
        "resolved", "follow-up", "escalated", "sale", "no-resolution",
    )  # fmt: skip
    assert center.dispositions("billing_chat") == (
        "payment-arranged", "refund-issued", "invoice-explained", "resolved", "no-resolution",
    )  # fmt: skip
    assert center.dispositions("sales") == center.settings.dispositions
    assert "refund-issued" in center.all_dispositions
    assert len(center.all_dispositions) == len(set(center.all_dispositions))
    assert center.settings.away_reason_labels["meeting"] == "Team meeting"
    assert "no-answer" not in center.settings.away_reason_labels  # shown as its code


def test_the_center_list_is_read_from_center_yaml(center_dir: Path) -> None:
    def short(doc: dict[str, Any]) -> None:
        doc["dispositions"] = ["done", "not-done"]

    edit(center_dir, "center.yaml", short)
    center = load_center(center_dir)
    assert center.dispositions("sales") == ("done", "not-done")
    assert center.dispositions("billing_chat")[0] == "payment-arranged"  # its own stays


def test_a_disposition_listed_twice(center_dir: Path) -> None:
    def twice(doc: dict[str, Any]) -> None:
        doc["queues"][SALES]["dispositions"] = ["sale", "no-sale", "sale"]

    edit(center_dir, "queues.yaml", twice)
    assert issues_of(center_dir) == [
        f"queues.yaml: queues[{SALES}].dispositions: listed more than once: sale"
    ]


def test_an_empty_list_and_a_code_with_spaces(center_dir: Path) -> None:
    def broken(doc: dict[str, Any]) -> None:
        doc["queues"][SALES]["dispositions"] = []
        doc["queues"][BILLING_CHAT]["dispositions"] = ["paid", "Sent a refund"]

    edit(center_dir, "queues.yaml", broken)
    issues = issues_of(center_dir)
    assert len(issues) == 2, issues
    assert issues[0].startswith(f"queues.yaml: queues[{SALES}].dispositions: ")
    assert "at least 1 item" in issues[0]
    assert issues[1] == (
        f"queues.yaml: queues[{BILLING_CHAT}].dispositions[1]: String should match pattern"
        " '^[a-z0-9][a-z0-9_-]*$'"
    )


def test_a_label_for_a_reason_there_is_not(center_dir: Path) -> None:
    def stray(doc: dict[str, Any]) -> None:
        doc["away_reason_labels"]["nap"] = "A nap"

    edit(center_dir, "center.yaml", stray)
    assert issues_of(center_dir) == ["center.yaml: away_reason_labels: not an away reason: nap"]
