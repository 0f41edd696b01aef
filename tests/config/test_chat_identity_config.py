"""``chat_identity`` in center.yaml: defaults, and each mistake named by file, key and reason."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from contactcenter.config import load_center
from tests.config.test_loader import EXAMPLE, edit, issues_of


@pytest.fixture
def center_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "center"))


def with_identity(directory: Path, value: Any) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["chat_identity"] = value

    edit(directory, "center.yaml", change)


def test_without_the_key_chats_are_optional_identity_for_widget_web(center_dir: Path) -> None:
    settings = load_center(center_dir).settings.chat_identity
    assert (settings.widget, settings.policy, settings.embed_origins) == ("web", "optional", ())


def test_a_site_sets_its_widget_policy_and_embedding_origins(center_dir: Path) -> None:
    with_identity(
        center_dir,
        {"widget": "shop", "policy": "verified_only",
         "embed_origins": ["https://www.northwind.example", "http://localhost:8000"]},
    )  # fmt: skip
    settings = load_center(center_dir).settings.chat_identity
    assert settings.widget == "shop" and settings.policy == "verified_only"
    assert settings.embed_origins == ("https://www.northwind.example", "http://localhost:8000")


@pytest.mark.parametrize(
    ("value", "issue"),
    [
        ({"policy": "always"},
         "center.yaml: chat_identity.policy: Input should be 'optional' or 'verified_only'"),
        ({"widget": "web|shop"},
         "center.yaml: chat_identity.widget: String should match pattern"),
        ({"embed_origins": ["https://shop.example/path"]},
         "center.yaml: chat_identity.embed_origins[0]: String should match pattern"),
        ({"embed_origins": ["'unsafe-inline'"]},
         "center.yaml: chat_identity.embed_origins[0]: String should match pattern"),
        ({"secret": "abc"}, "center.yaml: chat_identity.secret: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_a_mistake_is_named_by_file_key_and_reason(
    center_dir: Path, value: dict[str, Any], issue: str
) -> None:
    with_identity(center_dir, value)
    issues = issues_of(center_dir)
    assert len(issues) == 1 and issues[0].startswith(issue), issues
