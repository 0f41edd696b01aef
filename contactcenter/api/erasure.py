"""A customer's erasure over HTTP, for admins: the same as ``contactcenter erase-customer``
(``store/erasure.py``), with the entry in the audit log written in the erasure's own
transaction. Refused (409) while a contact or call back of the customer is open."""

from __future__ import annotations

from aiohttp import web

from contactcenter.api.auth import principal
from contactcenter.api.context import CTX
from contactcenter.api.errors import ApiError
from contactcenter.api.openapi import Audit, Route
from contactcenter.api.schemas import Erased
from contactcenter.store.erasure import CustomerBusy, erase_customer


async def erase(request: web.Request) -> web.Response:
    """Removes the customer's personal data everywhere, keeps anonymous statistics; erasing
    again finds nothing. ``in_config``: the center's config still lists the customer (seed
    CRM, or an agent's dedicated customers): remove it there, or a restart brings the card
    back."""
    ctx = request.app[CTX]
    customer_id = request.match_info["id"]
    if len(customer_id) > 64:
        raise ApiError(404, "unknown_customer", "unknown customer")
    await ctx.site.chat.transcripts.flush()  # every line written: none comes after
    try:
        done = await erase_customer(
            ctx.store, customer_id, actor=principal(request).username,
            wall_time=ctx.engine.wall(), settle=0.0,
        )  # fmt: skip
    except CustomerBusy as busy:
        raise ApiError(409, "customer_busy", str(busy)) from None
    center = ctx.site.center
    in_config = customer_id in center.customers or any(
        customer_id in a.dedicated_customers for a in center.agents.values()
    )
    return web.json_response({"marker": done.marker, "counts": done.counts, "in_config": in_config})


ROUTES = [
    Route("POST", "/api/admin/customers/{id}/erase", erase, "Erase a customer's personal data "
          "(audited)", "admin", access="admin", response=Erased,
          description=erase.__doc__ or "",
          errors=((409, "A contact or call back of the customer is still open"),),
          audit=Audit("erase_customer", by="handler")),
]  # fmt: skip
