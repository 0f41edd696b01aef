"""Errors as JSON: every refusal is a 4xx with ``{"error": {"code", "message"}}``.

The middleware maps what handlers raise to status codes: ``ApiError`` carries its own;
pydantic validation -> 422; routing refusals (``UnknownContact``/``UnknownAgent``/
``UnknownQueue`` -> 404, other ``RoutingError`` and agent state-machine refusals -> 409);
``Forbidden`` -> 403, the runtime's ``Refused`` -> 409 with its code; aiohttp's own HTTP
errors (unknown path 404, wrong method 405, body too large 413) keep their status with a JSON
body. JSON that is malformed, or nested too deeply to parse, is a 400 ``malformed_json``.
Anything else is a bug: it is logged and answered 500, and the server keeps serving.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from contactcenter.agents import AgentError
from contactcenter.routing import (
    RoutingError,
    UnknownAgent,
    UnknownContact,
    UnknownQueue,
)
from contactcenter.runtime.errors import Forbidden, Refused
from contactcenter.store.errors import StoreUnavailable, UnknownCustomer
from contactcenter.store.errors import UnknownContact as UnknownStoredContact

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """A refusal with its HTTP status, a stable machine code and a message for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details
        self.retry_after = retry_after
        """Seconds until trying again may succeed (a ``Retry-After`` header, or a socket's
        error frame's ``retry_after_seconds``)."""
        if retry_after is not None:
            self.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details:
        err["details"] = details
    return {"error": err}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> web.Response:
    return web.json_response(error_body(code, message, details), status=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


TOO_DEEP = "the {what} is nested too deeply to be a request"
"""JSON nested deeper than the parser's recursion allows (about 1,000 levels; our documents
have a few): refused as malformed, never a stack overflow."""


def validation_details(err: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as plain JSON: where (``loc``) and why (``msg``), never the input."""
    return [
        {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in err.errors(include_url=False, include_input=False, include_context=False)
    ]


def classify(exc: BaseException) -> ApiError | None:
    """The API refusal for a known exception; None for a bug."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ValidationError):
        return ApiError(
            422, "invalid_body", "the body does not match", details=validation_details(exc)
        )
    if isinstance(exc, UnknownContact):
        return ApiError(404, "unknown_contact", str(exc))
    if isinstance(exc, UnknownAgent):
        return ApiError(404, "unknown_agent", str(exc))
    if isinstance(exc, UnknownQueue):
        return ApiError(404, "unknown_queue", str(exc))
    if isinstance(exc, UnknownStoredContact):
        return ApiError(404, "unknown_contact", "unknown contact")
    if isinstance(exc, UnknownCustomer):
        return ApiError(404, "unknown_customer", "unknown customer")
    if isinstance(exc, RoutingError | AgentError):
        return ApiError(409, "conflict", str(exc))
    if isinstance(exc, Forbidden):
        return ApiError(403, "forbidden", str(exc))
    if isinstance(exc, Refused):
        return ApiError(409, exc.code, exc.message)
    if isinstance(exc, StoreUnavailable):  # nothing was promised: the client may try again
        return ApiError(503, "store_unavailable", f"not done: {exc}", retry_after=5)
    return None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like
        code = _HTTP_CODES.get(exc.status, "http_error")
        message = exc.reason if exc.status != 413 else "the request body is too large"
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return error_response(exc.status, code, message, headers=headers)
    except Exception as exc:
        api = classify(exc)
        if api is None:
            log.exception("unexpected error in %s %s", request.method, request.path)
            return error_response(500, "internal", "internal error")
        return error_response(
            api.status, api.code, api.message, headers=api.headers, details=api.details
        )


async def read_body(request: web.Request, model: type[M]) -> M:
    """Parse and validate a JSON object body against ``model`` (unknown fields refused)."""
    raw = await request.read()  # raises 413 beyond client_max_size
    if not raw:
        raise ApiError(400, "missing_body", "a JSON body is required")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", TOO_DEEP.format(what="body")) from None
    if not isinstance(doc, dict):
        raise ApiError(422, "invalid_body", "the body must be a JSON object")
    return model.model_validate(doc)


def parse_frame(data: str, model: type[M]) -> M:
    """A WebSocket text frame as ``model``; raises ``ApiError`` (never anything else)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "malformed_json", "the frame is not valid JSON") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", TOO_DEEP.format(what="frame")) from None
    if not isinstance(doc, dict):
        raise ApiError(422, "invalid_frame", "a frame must be a JSON object")
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise ApiError(
            422, "invalid_frame", "the frame does not match", details=validation_details(exc)
        ) from None
