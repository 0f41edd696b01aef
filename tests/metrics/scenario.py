"""A scripted shift on the example center, driven through the real Router.

Contact ids look like phone numbers and opaque ids, and customers are real CRM ids, so the
tests can scan the exposition for them. ``EXPECTED`` is worked out by hand from the script
(see the comments); the tests compare the metrics against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from contactcenter.agents import Presence
from contactcenter.config import Center, load_center
from contactcenter.events import Event
from contactcenter.routing import Router

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "config"
END = 200.0

K1 = "+4930555010008"  # a phone number used as a contact id
K2 = "ct-7f3e9a21-k2"
K3 = "ct-0b5d44c8-k3"
K4 = "ct-91aa0c7e-k4"
K5 = "ct-3c2f8e6b-k5"
K6 = "ct-d4e1b7a0-k6"
K7 = "chat-5e8c1f93-k7"
K8 = "ct-6a0d2b19-k8"
K9 = "ct-e7b3c5d2-k9"
CONTACT_IDS = (K1, K2, K3, K4, K5, K6, K7, K8, K9)
CUSTOMER_IDS = ("C1008", "C1010", "C1001")
PHONE_NUMBERS = ("+4930555010008", "+4930555010010", "4930555010008")
AGENT_IDS = ("a04", "a05")


def center() -> Center:
    return load_center(CONFIG_DIR)


@dataclass
class Shift:
    router: Router
    events: list[Event] = field(default_factory=list)

    def do(self, events: list[Event]) -> None:
        self.events.extend(events)


def run_shift(c: Center, sink: Callable[[list[Event]], None] | None = None) -> Shift:
    """Play the shift; ``sink`` (if given) receives each input's events as they happen.

    Only a04 and a05 (sales, tier 1) log in. Sales answers in 30 s (voice default), the short
    abandon time is 5 s.
    """
    r = Router(c)
    s = Shift(r)

    def do(events: list[Event]) -> None:
        s.do(events)
        if sink is not None:
            sink(events)

    do(r.agent_logged_in(0, "a04"))
    do(r.agent_logged_in(0, "a05"))
    do(r.contact_arrived(10, K1, "sales", customer_id="C1008"))  # -> a04
    do(r.contact_arrived(11, K2, "sales", customer_id="C1010"))  # -> a05
    do(r.offer_accepted(12, K1))  # answered, wait 2
    do(r.offer_declined(13, K2))  # rejected: declined; a05 kept from K2 until 23
    do(r.contact_arrived(14, K3, "sales"))  # -> a05
    do(r.contact_abandoned(16, K3))  # rejected: contact_left; abandoned, wait 2 (short)
    do(r.advance(23))  # K2 re-offered to a05
    do(r.offer_accepted(25, K2))  # answered, wait 14
    do(r.contact_arrived(30, K4, "sales"))  # nobody free
    do(r.advance(62))  # K4 breached at 60, escalated to step 1 at 60
    do(r.contact_completed(70, K1))  # handle 58
    do(r.wrap_up_done(75, K1, "sale"))  # wrap-up 5; a04 takes K4
    do(r.offer_accepted(77, K4))  # answered, wait 47 (late)
    do(r.contact_completed(80, K2))  # handle 55; wrap-up times out at 100 (20 s)
    do(r.contact_arrived(90, K5, "sales"))  # offered to a05 at 100, ring timeout at 115,
    do(r.advance(126))  # breached + step 1 at 120, re-offered at 125
    do(r.contact_abandoned(126, K5))  # rejected: contact_left; abandoned, wait 36
    do(r.contact_arrived(140, K6, "sales"))  # -> a05
    do(r.transfer(145, K6, "billing"))  # rejected: moved; sales -> billing (supervisor)
    do(r.accept_callback(150, K6))  # removed from billing: callback_accepted / callback
    do(r.contact_arrived(160, K7, "support_chat"))  # waits (breach at 170, step 2 at 175)
    do(r.contact_arrived(170, K8, "billing"))  # waits (breach at 200)
    do(r.contact_arrived(180, K9, "complaints", customer_id="C1001"))  # no agents: -> support
    do(r.set_agent_presence(190, "a05", Presence.AWAY, "break"))
    do(r.advance(END))
    return s


# Expected metric values after the whole shift, at now = END.
SALES = {"queue": "sales", "channel": "voice"}
EXPECTED_COUNTERS: list[tuple[str, dict[str, str], float]] = [
    ("contactcenter_contacts_queued_total", SALES, 6),
    ("contactcenter_contacts_queued_total", {"queue": "billing", "channel": "voice"}, 2),
    ("contactcenter_contacts_queued_total", {"queue": "support_chat", "channel": "chat"}, 1),
    ("contactcenter_contacts_queued_total", {"queue": "complaints", "channel": "voice"}, 1),
    ("contactcenter_contacts_queued_total", {"queue": "support", "channel": "voice"}, 1),
    ("contactcenter_contacts_queued_total", {"queue": "vip", "channel": "voice"}, 0),
    ("contactcenter_offers_total", SALES, 8),
    ("contactcenter_offers_rejected_total", {**SALES, "reason": "declined"}, 1),
    ("contactcenter_offers_rejected_total", {**SALES, "reason": "timeout"}, 1),
    ("contactcenter_offers_rejected_total", {**SALES, "reason": "contact_left"}, 2),
    ("contactcenter_offers_rejected_total", {**SALES, "reason": "moved"}, 1),
    ("contactcenter_offers_rejected_total", {**SALES, "reason": "agent_left"}, 0),
    ("contactcenter_contacts_answered_total", SALES, 3),
    ("contactcenter_contacts_abandoned_total", SALES, 2),
    (
        "contactcenter_contacts_transferred_total",
        {"queue": "sales", "to_queue": "billing", "channel": "voice", "reason": "supervisor"},
        1,
    ),
    (
        "contactcenter_contacts_transferred_total",
        {"queue": "complaints", "to_queue": "support", "channel": "voice", "reason": "no_agents"},
        1,
    ),
    ("contactcenter_contacts_transferred_out_total", {**SALES, "reason": "supervisor"}, 1),
    ("contactcenter_contacts_transferred_out_total", {**SALES, "reason": "overflow"}, 0),
    (
        "contactcenter_contacts_transferred_out_total",
        {"queue": "complaints", "channel": "voice", "reason": "no_agents"},
        1,
    ),
    (
        "contactcenter_contacts_transferred_total",
        {"queue": "billing", "to_queue": "support", "channel": "voice", "reason": "overflow"},
        0,
    ),
    (
        "contactcenter_contacts_escalated_total",
        {"queue": "vip", "channel": "voice", "step": "3"},
        0,
    ),
    (
        "contactcenter_contacts_removed_total",
        {
            "queue": "billing",
            "channel": "voice",
            "reason": "callback_accepted",
            "outcome": "callback",
        },
        1,
    ),
    (
        "contactcenter_contacts_removed_total",
        {"queue": "billing", "channel": "voice", "reason": "max_wait", "outcome": "callback"},
        0,
    ),
    ("contactcenter_target_breaches_total", SALES, 2),
    ("contactcenter_target_breaches_total", {"queue": "billing", "channel": "voice"}, 1),
    ("contactcenter_target_breaches_total", {"queue": "support_chat", "channel": "chat"}, 1),
    ("contactcenter_contacts_escalated_total", {**SALES, "step": "1"}, 2),
    (
        "contactcenter_contacts_escalated_total",
        {"queue": "support_chat", "channel": "chat", "step": "2"},
        1,
    ),
    ("contactcenter_wrap_up_timeouts_total", SALES, 1),
    ("contactcenter_callbacks_offered_total", SALES, 0),
]

# sales answer waits 2, 14, 47; abandon waits 2, 36; handle 58, 55; wrap-up 5, 20 (timeout)
EXPECTED_HISTOGRAMS: list[tuple[str, dict[str, str], dict[str, float], float, float]] = [
    # name, labels, {le: cumulative count}, sum, count
    (
        "contactcenter_answer_wait_seconds",
        SALES,
        {"1.0": 0, "2.0": 1, "5.0": 1, "10.0": 1, "15.0": 2, "20.0": 2, "30.0": 2, "45.0": 2,
         "60.0": 3, "+Inf": 3},
        63,
        3,
    ),
    (
        "contactcenter_abandon_wait_seconds",
        SALES,
        {"1.0": 0, "5.0": 1, "30.0": 1, "45.0": 2, "+Inf": 2},
        38,
        2,
    ),
    ("contactcenter_handle_time_seconds", SALES, {"30.0": 0, "60.0": 2, "+Inf": 2}, 113, 2),
    ("contactcenter_wrap_up_time_seconds", SALES, {"5.0": 1, "15.0": 1, "20.0": 2, "+Inf": 2},
     25, 2),
]  # fmt: skip

# waiting at END: K7 in support_chat since 160, K8 in billing since 170, K9 in support since 180
EXPECTED_WAITING = {"support_chat": (1, 40.0), "billing": (1, 30.0), "support": (1, 20.0)}
EXPECTED_AGENTS = {"offline": 28, "available": 0, "away": 1, "ringing": 0, "busy": 1, "wrap_up": 0}
# a04: available 10+0, ringing 2+2, busy 58 + 123 (77..200, still busy), wrap-up 5
# a05: available 11+1+7+0+10+14+45, ringing 2+2+2+15+1+5, busy 55, wrap-up 20, away 10
EXPECTED_STATE_SECONDS = {
    "offline": 0.0,
    "available": 98.0,
    "ringing": 31.0,
    "busy": 236.0,
    "wrap_up": 25.0,
    "away": 10.0,
}
