"""The engine's log lines: text or JSON, each with a timestamp and a level."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from contactcenter.logs import configure


@pytest.fixture(autouse=True)
def _restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_a_utc_timestamp_level_and_logger() -> None:
    out = io.StringIO()
    configure("debug", "json", out)
    logging.getLogger("contactcenter.voice").debug("call %s: %s", "c1", "answered")
    try:
        raise ValueError("bad frame")
    except ValueError:
        logging.getLogger("contactcenter.api").exception("request failed")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert (first["level"], first["logger"], first["message"]) == (
        "DEBUG", "contactcenter.voice", "call c1: answered"
    )  # fmt: skip
    stamp = dt.datetime.fromisoformat(first["timestamp"])
    assert stamp.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 60
    assert second["level"] == "ERROR" and "ValueError: bad frame" in second["exc_info"]


def test_text_lines_below_the_level_are_not_written() -> None:
    out = io.StringIO()
    configure("warning", "text", out)
    logging.getLogger("contactcenter.voice").info("not shown")
    logging.getLogger("contactcenter.voice").warning("registration failed")
    (line,) = out.getvalue().splitlines()
    assert re.match(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING contactcenter.voice: registration failed$",
        line,
    )


def test_debug_keeps_the_database_driver_quiet() -> None:
    out = io.StringIO()
    configure("debug", "text", out)
    logging.getLogger("aiosqlite").debug("executing a statement")
    logging.getLogger("contactcenter.store").debug("stored")
    assert [ln.rsplit(": ", 1)[1] for ln in out.getvalue().splitlines()] == ["stored"]


def test_a_request_the_http_parser_refuses_is_one_warning_without_traceback() -> None:
    """A header with a NUL byte (schemathesis sends them) made aiohttp log its parser's
    traceback at ERROR; the client's bytes must not reach the log either."""
    from aiohttp.http_exceptions import BadHttpMessage

    out = io.StringIO()
    configure("info", "text", out)
    try:
        raise BadHttpMessage("Invalid header value char: b'X-Probe: \\x00secret'")
    except BadHttpMessage:
        logging.getLogger("aiohttp.server").exception("Error handling request from 127.0.0.1")
    text = out.getvalue()
    assert "WARNING aiohttp.server: malformed HTTP request refused (400 BadHttpMessage)" in text
    assert "Traceback" not in text and "secret" not in text and "ERROR" not in text
