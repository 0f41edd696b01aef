"""Persistence (SQLite via aiosqlite): customers, contact records, transcripts, users and
sessions, audit, call backs and surveys. ``Store.open(path)`` is the way in."""

from contactcenter.store.errors import (
    DuplicateContact,
    SchemaTooNew,
    StoreError,
    UnknownCallback,
    UnknownContact,
    UnknownCustomer,
    UnknownUser,
)
from contactcenter.store.records import (
    AgentStateRecord,
    AuditRecord,
    CallbackAttempt,
    CallbackRecord,
    ContactRecord,
    CustomerNote,
    CustomerRecord,
    Message,
    OpenContact,
    Role,
    SegmentRecord,
    Sender,
    SessionRecord,
    SurveyRecord,
    UserRecord,
)
from contactcenter.store.store import NewMessage, Store

__all__ = [
    "AgentStateRecord",
    "AuditRecord",
    "CallbackAttempt",
    "CallbackRecord",
    "ContactRecord",
    "CustomerNote",
    "CustomerRecord",
    "DuplicateContact",
    "Message",
    "NewMessage",
    "OpenContact",
    "Role",
    "SchemaTooNew",
    "SegmentRecord",
    "Sender",
    "SessionRecord",
    "Store",
    "StoreError",
    "SurveyRecord",
    "UnknownCallback",
    "UnknownContact",
    "UnknownCustomer",
    "UnknownUser",
    "UserRecord",
]
