"""IVR: flows as validated data (``flow``, ``loader``), a sans-I/O interpreter
(``interpreter``), business hours (``hours``), prompt audio for the voice edge (``prompts``),
and a text adapter so chats run the same flows (``text_menu``)."""

from contactcenter.ivr.flow import Flow
from contactcenter.ivr.hours import BusinessHours
from contactcenter.ivr.interpreter import (
    Action,
    CancelTimer,
    Choice,
    CollectDigits,
    CustomerInfo,
    Enqueue,
    FinalAction,
    FlowError,
    FlowLoop,
    HangUp,
    InvalidInput,
    InvalidKey,
    IvrError,
    Lookup,
    Play,
    QueryQueueState,
    QueueStatus,
    RequestCallback,
    Session,
    SessionEnded,
    StartTimer,
    State,
    StopPlayback,
    Transfer,
)
from contactcenter.ivr.loader import Flows, flows_of, load_flows, with_flows
from contactcenter.ivr.lookup import find_customer
from contactcenter.ivr.prompts import PromptLibrary, load_prompt
from contactcenter.ivr.text_menu import TextMenu, Turn

__all__ = [
    "Action",
    "BusinessHours",
    "CancelTimer",
    "Choice",
    "CollectDigits",
    "CustomerInfo",
    "Enqueue",
    "FinalAction",
    "Flow",
    "FlowError",
    "FlowLoop",
    "Flows",
    "HangUp",
    "InvalidInput",
    "InvalidKey",
    "IvrError",
    "Lookup",
    "Play",
    "PromptLibrary",
    "QueryQueueState",
    "QueueStatus",
    "RequestCallback",
    "Session",
    "SessionEnded",
    "StartTimer",
    "State",
    "StopPlayback",
    "TextMenu",
    "Transfer",
    "Turn",
    "find_customer",
    "flows_of",
    "load_flows",
    "load_prompt",
    "with_flows",
]
