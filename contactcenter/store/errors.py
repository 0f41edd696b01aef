"""Named errors of the store (a wrong id raises one of these, never a silent no-op)."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class UnknownContact(StoreError, KeyError):
    """No contact record with that id."""


class UnknownCustomer(StoreError, KeyError):
    """No customer with that id."""


class UnknownCallback(StoreError, KeyError):
    """No callback with that id."""


class UnknownUser(StoreError, KeyError):
    """No user with that name."""


class DuplicateContact(StoreError):
    """A contact with that id was already created."""


class DuplicateSurvey(StoreError):
    """The contact's customer has answered its survey already (one answer per contact)."""


class SchemaTooNew(StoreError):
    """The database was written by a newer version of this program (more migrations)."""


class StoreUnavailable(StoreError):
    """The database cannot take a write now (disk full, file or filesystem read-only, I/O
    error, locked by another process): nothing of that write was kept; it may work later."""


class UnreadableValue(StoreError):
    """A sealed value that does not open with its key: changed, cut, or moved from another
    column (the column is part of what the key authenticates). Never returned as garbage."""


class DataKeysError(StoreError):
    """The data keys file is missing, unreadable, or lacks a key the database uses; the
    message names the file. The store never makes new keys then: that would leave the sealed
    values unreadable."""


class MissingDataKey(DataKeysError):
    """A sealed value names a key the keyring does not hold."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"no data key {kid}")
        self.kid = kid
