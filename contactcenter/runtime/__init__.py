"""The live runtime: the asyncio engine that drives the routing core, and one service per
concept of a contact's life (agents' desk, chat, voice, supervision, wallboard), assembled
per site (``Site``)."""

from contactcenter.runtime.chat import ChatClosed
from contactcenter.runtime.engine import Engine
from contactcenter.runtime.errors import Forbidden, Refused
from contactcenter.runtime.site import Site

__all__ = ["ChatClosed", "Engine", "Forbidden", "Refused", "Site"]
