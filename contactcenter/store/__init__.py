"""Persistence (SQLite via aiosqlite): customers, contact records, transcripts, users and
sessions, audit, callbacks and surveys. ``Store.open(path)`` is the way in."""

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
    CallbackRecord,
    ContactRecord,
    CustomerNote,
    CustomerRecord,
    Message,
    Role,
    Sender,
    SessionRecord,
    SurveyRecord,
    UserRecord,
)
from contactcenter.store.store import NewMessage, Store

__all__ = [
    "AgentStateRecord",
    "AuditRecord",
    "CallbackRecord",
    "ContactRecord",
    "CustomerNote",
    "CustomerRecord",
    "DuplicateContact",
    "Message",
    "NewMessage",
    "Role",
    "SchemaTooNew",
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
