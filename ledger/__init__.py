"""The write side of sanctions-ledger: events, rules and the append-only store."""

from ledger.application import (
    AuthorityInfo,
    ImportSummary,
    Ledger,
    Receipt,
    RecordedEvent,
    default_user,
)
from ledger.database import DEFAULT_URL, Database
from ledger.errors import LedgerError

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_URL",
    "AuthorityInfo",
    "Database",
    "ImportSummary",
    "Ledger",
    "LedgerError",
    "Receipt",
    "RecordedEvent",
    "__version__",
    "default_user",
]
