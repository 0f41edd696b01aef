"""The engine behind reverse proxies (``Limits.trusted_proxies``).

Then every customer connects from a proxy's address, so the client a request is for is the one
the proxy names in ``X-Forwarded-For``: aiohttp-remotes' strict mode takes it from there (the
proxy must *set* the header, e.g. nginx ``proxy_set_header X-Forwarded-For $remote_addr``) and
refuses a request that did not come through a trusted proxy, so nobody names themselves a
client by sending the header around it. Probes and scrapes (``/healthz``, ``/metrics``) may
come directly. Per-address limits then count real clients; the connection cap per address
does not apply to the proxies themselves (only the cap in all does).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import NoReturn

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_remotes import XForwardedStrict

from contactcenter.api.errors import ApiError

DIRECT_PATHS = ("/healthz", "/metrics")
"""What may be asked without a proxy in between (health probes, Prometheus)."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    """The proxies' addresses or networks (``10.0.0.5``, ``10.0.0.0/24``); ValueError names a
    bad one."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies)


def is_proxy(address: str | None, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in net for net in proxies)


class ViaProxies(XForwardedStrict):
    """aiohttp-remotes' strict ``X-Forwarded-For`` handling, refusing in the API's words."""

    async def raise_error(self, request: web.Request) -> NoReturn:
        raise ApiError(
            400, "not_via_proxy",
            "requests must come through the site's proxy, which names the client",
        )  # fmt: skip


def via_proxies(proxies: tuple[Network, ...]) -> list[Middleware]:
    """The middleware that takes clients' addresses from the proxies' header (none without
    proxies); it must run before anything reads the request."""
    if not proxies:
        return []
    return [ViaProxies([proxies], white_paths=DIRECT_PATHS).middleware]
