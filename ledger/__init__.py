"""The write side of sanctions-ledger: events, rules and the append-only store.

Names load on first use (PEP 562): ``sanctions --help`` and ``--version`` need only this
module, and a query answered from the projections never loads the aggregates.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.application import (
        AuthorityInfo,
        ImportSummary,
        Ledger,
        RecordedEvent,
        default_user,
    )
    from ledger.database import Database
    from ledger.errors import LedgerError
    from ledger.unit_of_work import Receipt

__version__ = "0.1.0"

DEFAULT_URL = "sqlite:///sanctions.db"
"""Where the ledger is when no --db or $SANCTIONS_DB says."""

_WHERE = {
    "AuthorityInfo": "ledger.application",
    "ImportSummary": "ledger.application",
    "Ledger": "ledger.application",
    "RecordedEvent": "ledger.application",
    "default_user": "ledger.application",
    "LedgerError": "ledger.errors",
    "Database": "ledger.database",
    "Receipt": "ledger.unit_of_work",
}

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


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value  # looked up once
    return value
