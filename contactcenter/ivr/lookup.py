"""Answering a ``Lookup`` from the config's seed customers (the simulator, tests, demos).

The live runtime answers from the store instead; both give the same ``CustomerInfo``.
"""

from __future__ import annotations

from contactcenter.config import Center
from contactcenter.ivr.flow import LookupKey
from contactcenter.ivr.interpreter import CustomerInfo


def normalise_number(number: str) -> str:
    """``"+49 30 555-010001"`` -> ``"+4930555010001"``; a leading ``00`` becomes ``+``."""
    kept = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return "+" + kept[2:] if kept.startswith("00") else kept


def find_customer(center: Center, by: LookupKey, value: str) -> CustomerInfo | None:
    """The customer whose phone, account number or id is ``value``, with their dedicated
    agent from the agents' config."""
    for customer in center.customers.values():
        if by == "phone":
            hit = customer.phone is not None and normalise_number(
                customer.phone
            ) == normalise_number(value)
        elif by == "account_number":
            hit = customer.account_number == value
        else:
            hit = customer.id == value
        if hit:
            return CustomerInfo(
                id=customer.id,
                name=customer.name,
                tier=customer.tier,
                dedicated_agent=center.dedicated_agent.get(customer.id),
            )
    return None
