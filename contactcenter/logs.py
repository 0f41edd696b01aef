"""The engine's own log: what ``serve`` did without being asked (restored work, agents set
away, registrations, calls), on stderr.

Two formats, chosen by the site: ``text`` for a terminal or the journal, ``json`` (one object
per line, with an ISO 8601 UTC ``timestamp``) for a log shipper. Customer data and phone
numbers never go into these lines; the loggers that write them make sure of that.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

from aiohttp.http_exceptions import HttpProcessingError
from pythonjsonlogger.json import JsonFormatter

Level = Literal["debug", "info", "warning", "error"]
Format = Literal["text", "json"]
LEVELS: tuple[Level, ...] = ("debug", "info", "warning", "error")
FORMATS: tuple[Format, ...] = ("text", "json")

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CHATTY = ("aiosqlite", "asyncio")
"""Libraries whose debug lines (one per database statement, ...) would drown the engine's."""


def formatter(fmt: Format) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(
            "{levelname}{name}{message}{threadName}",
            style="{",
            timestamp=True,
            rename_fields={"levelname": "level", "name": "logger", "threadName": "thread"},
        )
    return logging.Formatter(TEXT)


class MalformedRequests(logging.Filter):
    """aiohttp logs a request it cannot parse (a NUL in a header, a broken request line) at
    ERROR with its parser's traceback: that is a client's fault, answered with 400, not ours.
    It becomes one WARNING line without the traceback (and without the offending bytes, which
    may hold anything a client sent)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = (
                "malformed HTTP request refused (%s %s)",
                (
                    exc.code,
                    type(exc).__name__,
                ),
            )
            record.exc_info = record.exc_text = None
        return True


def configure(level: Level = "info", fmt: Format = "text", stream: TextIO | None = None) -> None:
    """Send every log record at ``level`` or above to ``stream`` (stderr) in format ``fmt``,
    replacing whatever handlers the root logger had."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(root.level, logging.INFO))
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequests) for f in server.filters):
        server.addFilter(MalformedRequests())
