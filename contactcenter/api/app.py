"""The aiohttp application: the route table of every module, its role checks, JSON errors,
pages and static files, ``/healthz``, ``/metrics`` and ``/openapi.json``."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from aiohttp import web

from contactcenter.api import (
    agents,
    answers,
    assessment,
    audit,
    auth,
    callbacks,
    cases,
    customers,
    erasure,
    fcr,
    mail,
    supervisors,
    surveys,
)
from contactcenter.api.chat_identity import ChatIdentity, Keyring
from contactcenter.api.context import CTX, Ctx, Settings
from contactcenter.api.errors import ApiError, Handler, error_middleware, error_response
from contactcenter.api.openapi import Route, build_openapi
from contactcenter.api.proxies import networks, via_proxies
from contactcenter.api.schemas import Health, vocabulary
from contactcenter.api.sockets import SOCKETS, close_all
from contactcenter.identity import new_keys
from contactcenter.runtime import Site
from contactcenter.runtime.background import cancel_and_wait

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY = 64 * 1024
"""Largest request body in bytes (413 beyond)."""

PAGES = {
    "/": ("index.html", "Start page: links to the chat, desktop and wallboard"),
    "/chat": ("chat.html", "Customer chat widget"),
    "/survey": ("survey.html", "A customer's CSAT survey, from the link a closing e-mail sends"),
    "/desktop": ("desktop.html", "Agent desktop"),
    "/wallboard": ("wallboard.html", "Live wallboard"),
    "/quality": ("quality.html", "Supervisors' quality page: CSAT and FCR per queue and agent"),
    "/assessment": ("assessment.html", "Supervisors' per-agent assessment per day or interval"),
}
_ASSET = re.compile(r"^[A-Za-z0-9_-]+\.(js|css|svg|png|ico)$")
_TYPES = {
    "js": "text/javascript",
    "css": "text/css",
    "svg": "image/svg+xml",
    "png": "image/png",
    "ico": "image/x-icon",
}
OPENAPI = web.AppKey("openapi", dict[str, Any])
STATIC = web.AppKey("static_dir", Path)


def content_policy(embedders: Iterable[str] = ()) -> str:
    """The pages' Content-Security-Policy; ``embedders``: origins besides ours whose pages may
    show it in a frame (the sites that embed the chat widget)."""
    ancestors = " ".join(("'self'", *embedders))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; form-action 'self'"
    )


def _package_version() -> str:
    try:
        return version("contactcenter")
    except PackageNotFoundError:
        return "0"


# -- operational endpoints --------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """200 while the engine runs, its database takes writes and every edge can serve; else
    503 naming the problems."""
    ctx = request.app[CTX]
    if not ctx.ready:
        return web.json_response({"status": "starting"}, status=503)
    problems = ctx.site.problems()
    if problems:
        return web.json_response({"status": "degraded", "problems": problems}, status=503)
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    from contactcenter.metrics import exposition

    m = request.app[CTX].metrics
    if m is None:
        raise ApiError(404, "no_metrics", "metrics are not enabled")
    body, content_type = exposition(m.registry, request.headers.get("Accept"))
    resp = web.Response(body=body)
    resp.headers["Content-Type"] = content_type
    return resp


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


# -- pages ------------------------------------------------------------------------------------


def _page_handler(filename: str, name: str) -> Handler:
    async def page(request: web.Request) -> web.StreamResponse:
        path = request.app[STATIC] / filename
        if not path.is_file():
            raise ApiError(404, "not_found", "page not installed")
        resp = web.FileResponse(path, headers={"Content-Type": "text/html; charset=utf-8"})
        settings = request.app[CTX].site.center.settings.chat_identity
        embedders = settings.embed_origins if filename == "chat.html" else ()
        resp.headers["Content-Security-Policy"] = content_policy(embedders)
        resp.headers["Cache-Control"] = "no-cache"
        return resp

    page.__name__ = f"page_{name}"
    return page


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    m = _ASSET.match(name)
    path = request.app[STATIC] / name
    if m is None or not path.is_file():
        raise ApiError(404, "not_found", "no such file")
    return web.FileResponse(
        path, headers={"Content-Type": _TYPES[m.group(1)], "Cache-Control": "no-cache"}
    )


def _pages() -> list[Route]:
    routes = [
        Route(
            "GET",
            path,
            _page_handler(file, file.removesuffix(".html")),
            summary,
            "pages",
            kind="html",
        )
        for path, (file, summary) in PAGES.items()
    ]
    routes.append(
        Route(
            "GET",
            "/static/{name}",
            asset,
            "Scripts and style sheets of the pages",
            "pages",
            kind="asset",
        )
    )
    return routes


OPS = [
    Route("GET", "/healthz", healthz, "200 when the engine runs (503 while starting)", "ops",
          response=Health),
    Route("GET", "/metrics", metrics, "Prometheus exposition (queue- and state-labelled; no "
          "customer or contact ids)", "ops", kind="text"),
    Route("GET", "/openapi.json", openapi, "This OpenAPI 3.1 document", "ops"),
]  # fmt: skip


def all_routes() -> list[Route]:
    table = [
        *auth.ROUTES,
        *agents.ROUTES,
        *answers.ROUTES,
        *supervisors.ROUTES,
        *callbacks.ROUTES,
        *customers.ROUTES,
        *erasure.ROUTES,
        *surveys.ROUTES,
        *fcr.ROUTES,
        *assessment.ROUTES,
        *cases.ROUTES,
        *mail.ROUTES,
        *OPS,
        *_pages(),
    ]
    return [*table, *audit.routes(audit.actions(table))]


async def security_headers(request: web.Request, resp: web.StreamResponse) -> None:
    """On every response as it is sent (also those a handler sends itself)."""
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/api/"):
        resp.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request's body is read whole within ``Limits.body_timeout`` before its handler runs,
    so a client sending 1 byte of 100 gets a 408 and loses the connection instead of holding
    it (the handler then reads the body from memory)."""
    if request.body_exists:
        ctx = request.app[CTX]
        try:
            async with asyncio.timeout(ctx.settings.limits.body_timeout):
                await request.read()  # 413 beyond client_max_size
        except TimeoutError:
            if ctx.metrics is not None:
                ctx.metrics.connection_cut("body_timeout")
            resp = error_response(408, "body_timeout", "the request body did not arrive in time")
            resp.force_close()
            await resp.prepare(request)
            await resp.write_eof()
            request.protocol.force_close()  # at once: the rest of the body is not waited for
            return resp
    return await handler(request)


async def _expire_sessions(ctx: Ctx, every: float = 3600.0) -> None:
    while True:
        try:
            await ctx.store.delete_expired_sessions(time.time())
        except Exception:
            log.exception("dropping expired sessions failed")
        await asyncio.sleep(every)


def build_app(
    site: Site,
    store: Any,
    metrics: Any,
    *,
    static_dir: Path | None = None,
    chat_secret: bytes | None = None,
    chat_identity: ChatIdentity | None = None,
    settings: Settings | None = None,
    manage_engine: bool = True,
    client_max_size: int = MAX_BODY,
    routes: Iterable[Route] | None = None,
) -> web.Application:
    """The API, pages and operational endpoints of one site.

    ``chat_secret`` signs customers' chat tokens (random when None: tokens then die with the
    process). ``chat_identity`` checks the identities chats start with (None: under one
    random key nobody else knows, so no chat is verified). With ``manage_engine`` the app
    starts the site on startup and stops it on cleanup; the store stays the caller's to open
    and close.
    """
    settings = settings or Settings()
    proxies = networks(settings.limits.trusted_proxies)
    app = web.Application(
        client_max_size=client_max_size,
        # the client a proxy names, before anything reads the request
        middlewares=[error_middleware, *via_proxies(proxies), body_in_time],
    )
    app.on_response_prepare.append(security_headers)
    ctx = Ctx(
        site=site,
        store=store,
        metrics=metrics,
        settings=settings,
        chat_secret=chat_secret or secrets.token_bytes(32),
        chat_identity=chat_identity
        or ChatIdentity(site.center.settings.chat_identity, Keyring(new_keys())),
    )
    if metrics is not None:
        ctx.chat_identity.count_into(metrics.registry)
    app[CTX] = ctx
    app[STATIC] = static_dir or STATIC_DIR
    app[SOCKETS] = set()
    app[audit.OFFER_READS] = audit.OfferReads()
    table = list(routes) if routes is not None else all_routes()
    for r in table:
        app.router.add_route(r.method, r.path, auth.guard(r.access, audit.audited(r)), name=None)
    app[OPENAPI] = build_openapi(
        table,
        title=f"contactcenter API - {site.center.settings.name}",
        version=_package_version(),
        vocabulary={
            **vocabulary(site.center, site.center.all_dispositions),
            ("AuditEntry", "action"): audit.actions(table),
        },
    )

    async def startup(app: web.Application) -> None:
        if manage_engine:
            await site.start()
        ctx.spawn(_expire_sessions(ctx), name="expire-sessions")
        customers.watch_restored(ctx)
        cases.watch_cases(ctx)
        ctx.ready = True

    async def shutdown(app: web.Application) -> None:
        ctx.ready = False
        await close_all(app)
        await cancel_and_wait(*ctx.tasks)

    async def cleanup(app: web.Application) -> None:
        await ctx.audit_writes.stop()
        if manage_engine:
            await site.stop()

    app.on_startup.append(startup)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    return app
