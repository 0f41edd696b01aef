"""``tests/peers.py``: a missing peer skips a test on a developer's machine and fails it under
CI, whichever way the test states its need (call, mark, import; in a test, fixture or module)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SKIPS = {"skip", "skipif", "importorskip", "xfail"}

NEEDS = """
import pytest
from tests import peers

@pytest.fixture
def kamailio():
    peers.require("not installed: kamailio")

def test_call():
    peers.require("not installed: sipp")

def test_fixture(kamailio):
    pass

@peers.required("promtool not on PATH")
def test_mark():
    pass

@peers.required(None)
def test_present_peer():
    pass

def test_no_peer_needed():
    pass
"""

WHYS = ["not installed: kamailio", "not installed: sipp", "promtool not on PATH"]

MODULE = """
from tests import peers

peers.module("no_such_peer_module", "pip install no-such-peer")

def test_after_import():
    pass
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest("pytest_plugins = ['tests.conftest']")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_needs=NEEDS, test_module=MODULE)
    return pytester


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_under_ci_a_missing_peer_fails_every_test_that_needs_it(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    result = inner.runpytest("test_needs.py")
    result.assert_outcomes(passed=2, failed=1, errors=2)  # failing in set-up is an error
    for why in WHYS:
        result.stdout.re_match_lines(
            [f".*: {why} \\(CI is set: a missing test peer is a failure\\)$"]
        )
    imported = inner.runpytest("test_module.py")
    imported.assert_outcomes(errors=1)  # the module is not collected: the run fails
    imported.stdout.fnmatch_lines(["*cannot import no_such_peer_module*CI is set*"])


@pytest.mark.parametrize("ci", [None, "", "0", "false"])
def test_without_ci_a_missing_peer_skips(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    result = inner.runpytest("-rs")
    result.assert_outcomes(passed=2, skipped=4)  # three tests and the whole module
    for why in WHYS:
        result.stdout.re_match_lines([f"SKIPPED .*: {why}$"])
    assert result.ret == pytest.ExitCode.OK


def test_no_test_skips_except_through_peers() -> None:
    """A skip written by hand (``pytest.skip``, ``skipif``, ``importorskip``, ``xfail``) passes
    green under CI: every test states its peers through ``tests/peers.py`` instead."""
    tests = Path(__file__).resolve().parent
    skips = []
    for path in sorted(tests.rglob("*.py")):
        if path.name == "peers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in SKIPS:
                skips.append(f"{path.relative_to(tests)}:{node.lineno}: {node.attr}")
    assert skips == []
