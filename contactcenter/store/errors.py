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


class SchemaTooNew(StoreError):
    """The database was written by a newer version of this program (more migrations)."""


class StoreUnavailable(StoreError):
    """The database cannot take a write now (disk full, file or filesystem read-only, I/O
    error, locked by another process): nothing of that write was kept; it may work later."""
