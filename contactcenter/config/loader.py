"""Reading a center from a directory of YAML files, collecting every problem before failing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from contactcenter.config.center import FILES, Center, ConfigError, ConfigIssue, build_center
from contactcenter.config.models import AgentConfig, CenterSettings, Customer, QueueConfig

M = TypeVar("M", bound=BaseModel)


def load_center(directory: str | Path) -> Center:
    """Load and validate ``center.yaml``, ``queues.yaml``, ``agents.yaml`` (+ ``customers.yaml``).

    Raises ConfigError listing every problem found, each with file, key path and reason.
    """
    root = Path(directory)
    issues: list[ConfigIssue] = []
    if not root.is_dir():
        raise ConfigError([ConfigIssue(str(root), "", "not a directory")])
    docs = {
        key: read_yaml(root / name, issues, required=key != "customers")
        for key, name in FILES.items()
    }
    settings = validate_settings(docs["center"], issues)
    queues, bad_queues, queue_pos = validate_list(
        QueueConfig, docs["queues"], "queues", FILES["queues"], issues
    )
    agents, _, agent_pos = validate_list(
        AgentConfig, docs["agents"], "agents", FILES["agents"], issues
    )
    customers, _, customer_pos = validate_list(
        Customer, docs["customers"], "customers", FILES["customers"], issues, required=False
    )
    if settings is None:
        raise ConfigError(issues)
    # A queues or agents file that could not be read as a whole must not make every reference
    # to its items an error too: the one real problem would drown in follow-on reports.
    if not _has_list(docs["queues"], "queues"):
        referenced = {q for a in agents for q in a.queues} | set(settings.chat_topics.values())
        bad_queues = bad_queues | referenced
    try:
        center = build_center(
            settings,
            queues,
            agents,
            customers,
            unchecked_queues=bad_queues,
            check_coverage=_has_list(docs["agents"], "agents"),
        )
    except ConfigError as err:
        # build_center numbers the valid items only; key paths must name the files' positions.
        positions = {"queues": queue_pos, "agents": agent_pos, "customers": customer_pos}
        issues.extend(renumber(i, positions) for i in err.issues)
    if issues:
        raise ConfigError(issues)
    return center


def validate_settings(doc: Any, issues: list[ConfigIssue]) -> CenterSettings | None:
    """Validate ``center.yaml``; if it is invalid, still return settings to cross-check with.

    The settings returned then lack the top-level keys that had problems (they take their
    defaults), so a typo in, say, ``routing`` does not hide the problems of the other files.
    The problems themselves are in ``issues``, so the center is never accepted. None when the
    file cannot be salvaged (e.g. its skills or tiers are invalid).
    """
    before = len(issues)
    settings = validate_one(CenterSettings, doc, FILES["center"], issues)
    if settings is not None or not isinstance(doc, dict):
        return settings
    bad_keys = {i.path.split(".")[0].split("[")[0] for i in issues[before:]}
    if "" in bad_keys:
        return None
    try:
        return CenterSettings.model_validate({k: v for k, v in doc.items() if k not in bad_keys})
    except ValidationError:
        return None


def _has_list(doc: Any, key: str) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get(key), list)


def read_yaml(path: Path, issues: list[ConfigIssue], *, required: bool = True) -> Any:
    """Parse one YAML file; a syntax error becomes an issue with its line number."""
    if not path.exists():
        if required:
            issues.append(ConfigIssue(path.name, "", "file is missing"))
        return None
    try:
        with path.open(encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark is not None else None
        reason = f"YAML syntax error: {err.problem or err}"
        issues.append(ConfigIssue(path.name, "", reason, line))
        return None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        issues.append(ConfigIssue(path.name, "", f"cannot read: {err}"))
        return None
    if doc is None and required:
        issues.append(ConfigIssue(path.name, "", "file is empty"))
    return doc


def renumber(issue: ConfigIssue, positions: Mapping[str, Sequence[int]]) -> ConfigIssue:
    """``agents[1].x`` of the valid items passed to build_center -> the item's file position."""
    key, bracket, rest = issue.path.partition("[")
    if not bracket or key not in positions or issue.file != FILES[key]:
        return issue
    index, _, tail = rest.partition("]")
    if not index.isdigit() or int(index) >= len(positions[key]):
        return issue
    return replace(issue, path=f"{key}[{positions[key][int(index)]}]{tail}")


def key_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    """``('queues', 2, 'skills', 'billing')`` -> ``queues[2].skills.billing``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _issues_from(err: ValidationError, file: str, prefix: str) -> list[ConfigIssue]:
    return [
        ConfigIssue(file, key_path(e["loc"], prefix), e["msg"].removeprefix("Value error, "))
        for e in err.errors()
    ]


def validate_one(
    model: type[M], doc: Any, file: str, issues: list[ConfigIssue], prefix: str = ""
) -> M | None:
    if doc is None:
        return None
    try:
        return model.model_validate(doc)
    except ValidationError as err:
        issues.extend(_issues_from(err, file, prefix))
        return None


def validate_list(
    model: type[M],
    doc: Any,
    key: str,
    file: str,
    issues: list[ConfigIssue],
    *,
    required: bool = True,
) -> tuple[list[M], frozenset[str], list[int]]:
    """Validate ``doc[key]`` item by item, so one bad item does not hide the others' problems.

    Returns the valid items, the ids of the invalid ones, and each valid item's position in
    the file's list.
    """
    if doc is None:
        return [], frozenset(), []
    if not isinstance(doc, dict):
        issues.append(ConfigIssue(file, "", f"expected a mapping with a '{key}' list"))
        return [], frozenset(), []
    for extra in sorted(set(doc) - {key}):
        issues.append(ConfigIssue(file, str(extra), "unknown key"))
    items = doc.get(key)
    if items is None:
        if required:
            issues.append(ConfigIssue(file, key, "missing"))
        return [], frozenset(), []
    if not isinstance(items, list):
        issues.append(ConfigIssue(file, key, "expected a list"))
        return [], frozenset(), []
    good: list[M] = []
    bad: set[str] = set()
    positions: list[int] = []
    for i, item in enumerate(items):
        valid = validate_one(model, item, file, issues, prefix=f"{key}[{i}]")
        if valid is not None:
            good.append(valid)
            positions.append(i)
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            bad.add(item["id"])
    return good, frozenset(bad), positions
