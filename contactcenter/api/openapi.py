"""The route table and the OpenAPI 3.1 document built from it.

Every endpoint is declared once as a ``Route``; ``app.build_app`` registers exactly these and
``/openapi.json`` describes exactly these, so the document cannot drift from the server.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contactcenter.api.schemas import ErrorBody

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Access = Literal["public", "user", "agent", "supervisor", "admin"]
Kind = Literal["json", "websocket", "html", "text", "asset", "download"]
AuditBy = Literal["route", "handler", "record"]

COOKIE = "cc_session"


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    required: bool = True
    values: tuple[str, ...] = ()
    """The values the server accepts (published as an enum); empty: any string."""


@dataclass(frozen=True)
class Audit:
    """What the audit log keeps of a successful call of a route: who (the logged-in user),
    when, ``action``, the target (the path's id unless the handler names another) and what was
    shown or changed (``api/audit.py``).

    ``reads``: the route shows customer data (else it changes something). ``by``: ``route``,
    written around the handler; ``handler``, the handler or the runtime service behind it
    writes it (a socket's reads as they happen; an intervention only if it changed anything);
    ``record``, not in the audit log because ``where`` keeps who, when and what already (a
    chat line is its transcript line)."""

    action: str
    reads: bool = False
    by: AuditBy = "route"
    where: str = ""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    access: Access = "public"
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    many: bool = False
    """The response is a JSON array of ``response``."""
    kind: Kind = "json"
    query: tuple[Param, ...] = ()
    description: str = ""
    status: int = 200
    errors: tuple[tuple[int, str], ...] = ()
    """Refusals particular to this route: (status, when)."""
    audit: Audit | None = None

    @property
    def audited(self) -> Audit | None:
        """``audit``; for a change by a logged-in user (POST, PUT, DELETE) that declares none,
        an entry named for its handler: no change escapes the log by being forgotten."""
        if self.audit is None and self.method != "GET" and self.access != "public":
            return Audit(self.handler.__name__)
        return self.audit


_PARAM = re.compile(r"{(\w+)}")
_REF = "#/components/schemas/{model}"


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json({"$ref": _REF.format(model="ErrorBody")})}


Vocabulary = Mapping[tuple[str, str], Sequence[str]]
"""(body model name, field) -> the values the server accepts there: the center's own lists
(chat topics, tiers, away reasons, dispositions, queues), so the document says what a client
may send instead of any string."""


def _restrict(prop: dict[str, Any], values: Sequence[str]) -> None:
    """Put ``enum`` on a property's string schema (also inside ``anyOf`` for optional fields)."""
    branches = prop.get("anyOf", [prop])
    for branch in branches:
        if branch.get("type") == "string":
            branch["enum"] = list(values)


def build_openapi(
    routes: Iterable[Route], *, title: str, version: str, vocabulary: Vocabulary | None = None
) -> dict[str, Any]:
    routes = list(routes)
    models: dict[str, type[BaseModel]] = {"ErrorBody": ErrorBody}
    for r in routes:
        for m in (r.body, r.response):
            if m is not None:
                models[m.__name__] = m
    keyed, defs = models_json_schema(
        [(m, "validation") for m in models.values()], ref_template=_REF
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    for (model, field), values in (vocabulary or {}).items():
        prop = schemas.get(model, {}).get("properties", {}).get(field)
        if prop is not None:
            _restrict(prop, values)
    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        op: dict[str, Any] = {
            "operationId": f"{r.method.lower()}_{r.handler.__name__}",
            "summary": r.summary,
            "tags": [r.tag],
        }
        if r.description:
            op["description"] = r.description
        audit = r.audited
        if audit is not None:
            op["x-audit"] = {"action": audit.action, "reads": audit.reads, "by": audit.by}
        params: list[dict[str, Any]] = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in _PARAM.findall(r.path)
        ]
        params += [
            {
                "name": q.name,
                "in": "query",
                "required": q.required,
                "description": q.description,
                "schema": {"type": "string", **({"enum": list(q.values)} if q.values else {})},
            }
            for q in r.query
        ]
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": _json(keyed[(r.body, "validation")]),
            }
        responses: dict[str, Any] = {}
        if r.kind == "websocket":
            op["x-websocket"] = True
            responses["101"] = {"description": "Switching Protocols: a WebSocket of JSON frames"}
            responses["400"] = _error("Not a WebSocket upgrade (e.g. a plain GET)")
        elif r.kind == "json":
            ok: dict[str, Any] = {"description": "OK"}
            if r.response is not None:
                schema = keyed[(r.response, "validation")]
                ok["content"] = _json({"type": "array", "items": schema} if r.many else schema)
            responses[str(r.status)] = ok
        elif r.kind == "html":
            responses["200"] = {
                "description": "An HTML page",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
        elif r.kind == "asset":
            responses["200"] = {"description": "A static file (script, style sheet)"}
            responses["404"] = _error("No such file")
        elif r.kind == "download":
            responses["200"] = {
                "description": "A file to save (Content-Disposition: attachment)",
                "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            }
        else:
            responses["200"] = {
                "description": "Plain text",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        if r.body is not None:
            responses["400"] = _error("Malformed JSON or no body")
            responses["413"] = _error("Body too large")
            responses["422"] = _error("The body does not match the schema")
        if any(q.values for q in r.query):
            responses["422"] = _error("A query parameter is not one of its values")
        if r.access != "public":
            op["security"] = [{"sessionCookie": []}, {"bearer": []}]
            op["x-access"] = r.access
            responses["401"] = _error("Not logged in")
            if r.access != "user":
                responses["403"] = _error(f"Needs the {r.access} role")
        if "{" in r.path:
            responses["404"] = _error("Unknown id")
        if r.kind == "json" and r.method in ("POST", "PUT"):
            responses.setdefault("409", _error("Not possible in the current state"))
        for status, when in r.errors:
            responses[str(status)] = _error(when)
        op["responses"] = responses
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "HTTP API of the contact-center engine: agents, supervisors, "
            "customers' web chat, health and metrics. Errors are "
            '`{"error": {"code", "message"}}`.',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": COOKIE},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }
