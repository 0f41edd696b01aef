"""Real peers the tests talk to (Kamailio, SIPp, baresip, Prometheus, Chromium, espeak-ng, ...).

A test that needs a missing peer skips on a developer's machine, so the rest of the suite stays
useful there. When the environment variable ``CI`` is set (to anything but empty, ``0``,
``false`` or ``no``) it fails instead: a CI run without its peers must not pass green by skipping.
Tests state what they need either imperatively (``require``, in a test or fixture) or as a mark
(``required``, for decorators and ``pytestmark``; ``tests/conftest.py`` applies it).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest

MARK = "peer"
"""The mark ``required`` makes; its one argument is why the peer is missing, or None."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(why: str) -> NoReturn:
    """Fail under CI, else skip (the test, or the module when called at its top level)."""
    if in_ci():
        pytest.fail(f"{why} (CI is set: a missing test peer is a failure)", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def require(why_missing: str | None) -> None:
    """Nothing when ``why_missing`` is None (the peer is there), else ``missing``."""
    if why_missing is not None:
        missing(why_missing)


def required(why_missing: str | None) -> pytest.MarkDecorator:
    """``require`` as a mark, checked when each marked test is set up."""
    mark: pytest.MarkDecorator = getattr(pytest.mark, MARK)(why_missing)
    return mark


def module(name: str, how: str) -> ModuleType:
    """Import ``name``; if it cannot be, the peer is ``missing`` (``how`` says how to get it)."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        why = f"cannot import {name} ({e}): {how}"
    missing(why)
