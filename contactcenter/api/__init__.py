"""The HTTP API, web pages and WebSockets of the live engine (aiohttp).

``build_app(engine, store, metrics, static_dir=...)`` gives the application; the route table
(``app.all_routes``) is also the source of ``/openapi.json``.
"""

from contactcenter.api.app import build_app
from contactcenter.api.context import Settings

__all__ = ["Settings", "build_app"]
