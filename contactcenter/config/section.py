"""An edge's settings file (``bus.yaml``, ``mail.yaml``): one top-level section, validated
once at load, every problem a ``ConfigIssue`` naming the file, the key path and why; and the
credentials an edge logs in with, whose password never sits in the YAML.

A password is named instead: ``password_file`` (a file holding it, one line) or
``password_env`` (an environment variable); either is read again at every connection, so a
rotated password is picked up without a restart. An enabled edge's password must be there at
load (``check_password``), so a typo stops ``serve`` at once rather than at first connect.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contactcenter.config.center import ConfigError, ConfigIssue

M = TypeVar("M", bound=BaseModel)

Fail = Callable[[str, str], ConfigError]
"""(key path, reason) -> the error to raise, naming the file."""


class Credentials(BaseModel):
    """A user name and where its password is read from (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str | None = Field(default=None, min_length=1)
    password_file: Path | None = None
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "password: never in the YAML: name a file (password_file) or an "
                "environment variable (password_env)"
            )
        return data

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("password_file and password_env: give one of them")
        has_password = self.password_file is not None or self.password_env is not None
        if has_password and self.username is None:
            raise ValueError("a password needs a username")
        return self

    def password(self) -> str | None:
        """The password, read now from its file or variable (None: none configured)."""
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        if self.password_env is not None:
            return os.environ[self.password_env]
        return None

    def at(self, base: Path) -> Self:
        """With a relative ``password_file`` taken from ``base`` (the config dir)."""
        return self.model_copy(update={"password_file": at(base, self.password_file)})

    def check_password(self, key: str, fail: Fail) -> None:
        """Raise ``fail`` when the named password cannot be read or is empty (``key``: the
        section's key path, e.g. ``bus``)."""
        if self.password_file is not None:
            check_readable(self.password_file, f"{key}.password_file", fail)
            if not self.password():
                raise fail(f"{key}.password_file", f"{self.password_file} is empty")
        if self.password_env is not None and not os.environ.get(self.password_env):
            raise fail(
                f"{key}.password_env", f"environment variable {self.password_env} is not set"
            )


def at(base: Path, p: Path | None) -> Path | None:
    """``p`` taken from ``base`` when relative (None stays None)."""
    return None if p is None else p if p.is_absolute() else base / p


def check_readable(p: Path, key: str, fail: Fail) -> None:
    try:
        with p.open("rb") as f:
            f.read(1)
    except OSError as e:
        raise fail(key, f"cannot read {p}: {e.strerror}") from e


def load_section(
    config_dir: str | Path, file: str, key: str, model: type[M], example: str
) -> tuple[M, Fail] | None:
    """``key:`` of ``<config_dir>/<file>`` as ``model`` and a ``Fail`` naming the file (for
    the caller's own checks); None when there is no such file. ``example`` shows the expected
    shape in the error for a section that is not a mapping."""
    path = Path(config_dir) / file

    def fail(where: str, message: str) -> ConfigError:
        return ConfigError([ConfigIssue(str(path), where, message)])

    if not path.exists():
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise fail("", f"cannot read it: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get(key, {}), dict):
        raise fail(key, f"expected a mapping: {key}: {example}")
    try:
        return model.model_validate(doc.get(key) or {}), fail
    except ValidationError as e:
        raise ConfigError(
            [
                ConfigIssue(
                    str(path),
                    ".".join([key, *(str(p) for p in err["loc"])]),
                    err["msg"].removeprefix("Value error, "),
                )
                for err in e.errors()
            ]
        ) from e
