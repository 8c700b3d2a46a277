"""Adapters: official list snapshots (UN consolidated XML, OFAC SDN CSV) as ledger events.

``parse(kind, path)`` reads a publication into a :class:`Snapshot`; ``Ledger.import_snapshot``
compares it with the ledger (``reconcile.plan_snapshot``, as ledger commands in one unit of
work) and appends the differences.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date

from ledger.adapters import ofac, un
from ledger.adapters.reconcile import (
    DEFAULT_DELISTING_LIMIT,
    Change,
    DelistingLimit,
    ImportReport,
    SnapshotConflict,
    TooManyDelistings,
)
from ledger.adapters.snapshot import Entry, InvalidSnapshot, ListSpec, Programme, Snapshot

Parser = Callable[..., Snapshot]

PARSERS: dict[str, Parser] = {"un": un.parse, "ofac-sdn": ofac.parse}
"""The kinds of list ``import-list`` reads, by the name given on the command line."""

SPECS: dict[str, ListSpec] = {un.SPEC.name: un.SPEC, ofac.SPEC.name: ofac.SPEC}
"""The lists by their name in the ledger (the ``list_name`` of ``list_imported``)."""


def parse(
    kind: str,
    path: str | os.PathLike[str],
    *,
    published: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Snapshot:
    """Read one publication of a list; refuses a malformed file, naming the line at fault."""
    parser = PARSERS.get(kind)
    if parser is None:
        raise InvalidSnapshot(f"unknown list {kind!r}; lists: {', '.join(PARSERS)}")
    return parser(path, published=published, progress=progress)


__all__ = [
    "DEFAULT_DELISTING_LIMIT",
    "PARSERS",
    "SPECS",
    "Change",
    "DelistingLimit",
    "Entry",
    "ImportReport",
    "InvalidSnapshot",
    "ListSpec",
    "Programme",
    "Snapshot",
    "SnapshotConflict",
    "TooManyDelistings",
    "parse",
]
