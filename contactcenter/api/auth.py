"""Logging in and out, sessions, and the role check every endpoint goes through.

A login yields a random token; only its SHA-256 is stored (sessions in the store). The token
is set as an HttpOnly, SameSite=Strict cookie for the pages and returned in the JSON for
``Authorization: Bearer`` clients. Roles: ``agent`` < ``supervisor`` < ``admin``; agent
endpoints need a user linked to an agent id. Failed logins slow down the client address they
come from, per user name with doubling waits (429 with ``Retry-After``), never the user
elsewhere (``login_throttle``). Every request's session is looked up in the store (on its own
reading connection, so it never waits for a write): a session ended by logging out, by expiry
or by a password set (also from another process) is refused on the next request, and its
WebSockets are closed (``session_sockets``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from contactcenter.agents import SYSTEM_AWAY_REASONS
from contactcenter.api.context import CTX, Ctx
from contactcenter.api.errors import ApiError, read_body
from contactcenter.api.openapi import COOKIE, Access, Handler, Route
from contactcenter.api.schemas import LoginBody, LoginResult, Me, Ok
from contactcenter.api.session_sockets import SESSION

log = logging.getLogger(__name__)

RANK = {"agent": 1, "supervisor": 2, "admin": 3}


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: str
    agent_id: str | None


PRINCIPAL = web.RequestKey("principal", Principal)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.cookies.get(COOKIE) or None


def _cross_origin(request: web.Request) -> bool:
    """A browser request from another origin riding on the session cookie (CSRF, or
    cross-site WebSocket hijacking): SameSite=Strict stops most; this stops the rest."""
    origin = request.headers.get("Origin")
    if origin is None or request.headers.get("Authorization"):
        return False
    return urlsplit(origin).netloc.lower() != request.host.lower()


async def session_of(request: web.Request) -> tuple[str, Principal] | None:
    """The token hash and user of the request's session, if it holds now."""
    token = request_token(request)
    if token is None or len(token) > 200:
        return None
    if _cross_origin(request):
        raise ApiError(403, "cross_origin", "requests from another origin need a bearer token")
    hashed = token_hash(token)
    session = await request.app[CTX].store.session(hashed, time.time())
    if session is None:
        return None
    return hashed, Principal(session.username, session.role, session.agent_id)


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def agent_of(request: web.Request) -> str:
    aid = principal(request).agent_id
    assert aid is not None  # guard("agent") checked it
    return aid


def allowed(p: Principal, access: Access) -> bool:
    if access in ("public", "user"):
        return True
    if access == "agent":
        return p.agent_id is not None
    return RANK.get(p.role, 0) >= RANK[access]


def guard(access: Access, handler: Handler) -> Handler:
    """``handler`` behind the role check of ``access`` (401 not logged in, 403 wrong role)."""
    if access == "public":
        return handler

    async def checked(request: web.Request) -> web.StreamResponse:
        session = await session_of(request)
        if session is None:
            raise ApiError(401, "unauthorized", "log in first")
        hashed, p = session
        if not allowed(p, access):
            raise ApiError(403, "forbidden", f"this needs the {access} role")
        request[PRINCIPAL] = p
        request[SESSION] = hashed
        return await handler(request)

    checked.__name__ = handler.__name__
    checked.__doc__ = handler.__doc__
    return checked


def _me(ctx: Ctx, p: Principal) -> dict[str, object]:
    center = ctx.engine.center
    agent = center.agents.get(p.agent_id) if p.agent_id else None
    return {
        "username": p.username,
        "role": p.role,
        "agent_id": p.agent_id,
        "agent_name": agent.name if agent is not None else None,
        "extension": agent.extension if agent is not None else None,
        "away_reasons": [r for r in center.settings.away_reasons if r not in SYSTEM_AWAY_REASONS],
        "away_reason_labels": dict(center.settings.away_reason_labels),
        "dispositions": list(center.settings.dispositions),
        "center": center.settings.name,
    }


async def login(request: web.Request) -> web.Response:
    """Checks the password unless the client must wait (``login_throttle``): per user name and
    client address, and per address for many user names. Every attempt is counted by outcome;
    failures are logged with the address and the user name if it is a user's (never the
    password, nor a name no user has: people type their e-mail or phone number there)."""
    ctx = request.app[CTX]
    body = await read_body(request, LoginBody)
    address = request.remote or "?"
    pair = f"{body.username.lower()}\n{address}"
    waits = [ctx.login_throttle.retry_after(pair), ctx.login_limiter.retry_after(address)]
    if any(w is not None for w in waits):
        _count(ctx, "throttled")
        retry = max(1, math.ceil(max(w for w in waits if w is not None)))
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed logins; try again in {retry} s",
            headers={"Retry-After": str(retry)},
        )
    user = await ctx.store.verify_user(body.username, body.password)
    if user is None:
        ctx.login_limiter.hit(address)
        failures, wait = ctx.login_throttle.failed(pair)
        known = await ctx.store.user(body.username) is not None
        _count(ctx, "bad_password" if known else "unknown_user")
        who = f"user {body.username}" if known else "an unknown user name"
        then = f"; it must wait {math.ceil(wait)} s" if wait > 0 else ""
        log.warning("login failed: %s from %s (%d in a row%s)", who, address, failures, then)
        raise ApiError(401, "bad_credentials", "wrong user name or password")
    ctx.login_throttle.succeeded(pair)
    _count(ctx, "ok")
    log.info("login: user %s from %s", user.username, address)
    token = secrets.token_urlsafe(32)
    ttl = ctx.settings.session_ttl
    await ctx.store.create_session(user.username, token_hash(token), time.time() + ttl)
    await ctx.store.audit(
        user.username, "login", user.username, {"address": address}, ctx.engine.wall()
    )
    p = Principal(user.username, user.role, user.agent_id)
    resp = web.json_response({**_me(ctx, p), "token": token, "expires_in": int(ttl)})
    resp.set_cookie(
        COOKIE,
        token,
        max_age=int(ttl),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=ctx.settings.secure_cookies,
    )
    return resp


def _count(ctx: Ctx, outcome: str) -> None:
    if ctx.metrics is not None:
        ctx.metrics.login_attempt(outcome)


async def logout(request: web.Request) -> web.Response:
    """Ends the session: the store forgets it, and its WebSockets are closed."""
    ctx = request.app[CTX]
    await ctx.store.delete_session(request[SESSION])
    await ctx.session_sockets.end(request[SESSION])
    resp = web.json_response({"ok": True})
    resp.del_cookie(COOKIE, path="/")
    return resp


async def me(request: web.Request) -> web.Response:
    return web.json_response(_me(request.app[CTX], principal(request)))


ROUTES = [
    Route("POST", "/api/login", login, "Log in; sets the session cookie and returns a token",
          "auth", body=LoginBody, response=LoginResult,
          description="By default: after five wrong passwords in a row for a user name from "
          "one client address, that address waits 1 s for it, doubling with each further "
          "failure up to 15 min; after sixty failures a minute from one address, whatever the "
          "user names, it waits too. Meanwhile 429 with Retry-After; other addresses are not "
          "slowed.",
          errors=((401, "Wrong user name or password"), (429, "Too many failed logins"))),
    Route("POST", "/api/logout", logout, "End the session", "auth", access="user", response=Ok),
    Route("GET", "/api/me", me, "Who is logged in, with the center's away reasons and "
          "dispositions", "auth", access="user", response=Me),
]  # fmt: skip
