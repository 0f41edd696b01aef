"""Reading a center from a directory of YAML files, collecting every problem before failing."""

from __future__ import annotations

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
    settings = validate_one(CenterSettings, docs["center"], FILES["center"], issues)
    queues, bad_queues = validate_list(
        QueueConfig, docs["queues"], "queues", FILES["queues"], issues
    )
    agents, _ = validate_list(AgentConfig, docs["agents"], "agents", FILES["agents"], issues)
    customers, _ = validate_list(
        Customer, docs["customers"], "customers", FILES["customers"], issues, required=False
    )
    if settings is None:
        raise ConfigError(issues)
    try:
        center = build_center(settings, queues, agents, customers, unchecked_queues=bad_queues)
    except ConfigError as err:
        issues.extend(err.issues)
    if issues:
        raise ConfigError(issues)
    return center


def read_yaml(path: Path, issues: list[ConfigIssue], *, required: bool = True) -> Any:
    """Parse one YAML file; a syntax error becomes an issue with its line number."""
    if not path.exists():
        if required:
            issues.append(ConfigIssue(path.name, "", "file is missing"))
        return None
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark is not None else None
        reason = f"YAML syntax error: {err.problem or err}"
        issues.append(ConfigIssue(path.name, "", reason, line))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        issues.append(ConfigIssue(path.name, "", f"cannot read: {err}"))
    return None


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
    return [ConfigIssue(file, key_path(e["loc"], prefix), e["msg"]) for e in err.errors()]


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
) -> tuple[list[M], frozenset[str]]:
    """Validate ``doc[key]`` item by item, so one bad item does not hide the others' problems.

    Returns the valid items and the ids of the invalid ones.
    """
    if doc is None:
        return [], frozenset()
    if not isinstance(doc, dict):
        issues.append(ConfigIssue(file, "", f"expected a mapping with a '{key}' list"))
        return [], frozenset()
    for extra in sorted(set(doc) - {key}):
        issues.append(ConfigIssue(file, str(extra), "unknown key"))
    items = doc.get(key)
    if items is None:
        if required:
            issues.append(ConfigIssue(file, key, "missing"))
        return [], frozenset()
    if not isinstance(items, list):
        issues.append(ConfigIssue(file, key, "expected a list"))
        return [], frozenset()
    good: list[M] = []
    bad: set[str] = set()
    for i, item in enumerate(items):
        valid = validate_one(model, item, file, issues, prefix=f"{key}[{i}]")
        if valid is not None:
            good.append(valid)
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            bad.add(item["id"])
    return good, frozenset(bad)
