"""A parsed snapshot of an official list, in the ledger's terms, and how its events cite it.

The parsers (``un``, ``ofac``) turn a publication into a :class:`Snapshot`: one :class:`Entry`
per listed subject, each with the regimes it is listed under and the measures they impose.
``reconcile`` compares it with the ledger and turns the differences into ordinary events.

Every event an import records cites the snapshot and the entry in its ``sources``, as a tag
``LIST@PUBLISHED/REFERENCE`` (``un-consolidated@2018-10-29/QDi.001``, ``ofac-sdn@2021-06-01/
31252``); events read it as their field ``list_entry`` (``ledger.facts.ListEntry``). That is
how the next import of the same list recognises the designations that imports of that list
created, and never touches hand-entered ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from ledger.errors import LedgerError
from ledger.facts import ListEntry
from ledger.facts import source_tag as source_tag

ProgressFn = Callable[[int, int], None]
"""progress(done, total): bytes of the file(s) read so far, for a progress bar."""


class InvalidSnapshot(LedgerError):
    """An official list file could not be read; names the file and the line or entry at fault."""


@dataclass(frozen=True)
class ListSpec:
    """One official list: its name in the ledger, the authority, a title and where it lives."""

    name: str
    authority: str
    title: str
    url: str


@dataclass(frozen=True)
class Programme:
    """One regime an entry is listed under, with what the list (or our table) says it imposes."""

    regime: str
    measures: tuple[str, ...]
    legal_act: str | None = None


@dataclass(frozen=True)
class Entry:
    """One listed subject, as the list publishes it."""

    ref: str
    """The list's own reference: UN REFERENCE_NUMBER (``QDi.001``), OFAC ent_num (``31252``)."""
    subject_id: str
    kind: str
    name: str
    aliases: tuple[str, ...]
    birth_date: date | None
    nationality: str | None
    position: str | None
    programmes: tuple[Programme, ...]
    listed_on: date | None
    """The list's own listing date (UN LISTED_ON); None when the list gives none (OFAC)."""
    where: str
    """Where in the file, for errors: ``sdn.csv line 12``."""
    alt_birth_dates: tuple[date, ...] = ()
    """The other birth dates the list gives ("alt. DOB"), sorted, without ``birth_date``."""


@dataclass(frozen=True)
class Snapshot:
    spec: ListSpec
    published: date
    digest: str
    """SHA-256 over the file(s), hex."""
    entries: tuple[Entry, ...]
    counts: dict[str, int] = field(default_factory=dict)
    """Entries per kind, as the list counts them (``individuals``, ``entities``, ...)."""
    source: str = ""
    """The file or folder read, for the record."""
    notes: tuple[str, ...] = ()
    """What the parser noticed and did not refuse (a missing optional file, an unreadable
    birth date): reported with the import, never dropped silently."""

    def describe_counts(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in self.counts.items())


LISTED_ON = re.compile(r"listed on (\d{4}-\d{2}-\d{2})")


def parse_tag(text: str) -> tuple[str, date, str] | None:
    """(list, publication date, reference) of a source tag; None for any other source."""
    entry = ListEntry.parse(text)
    return None if entry is None else (entry.list_name, entry.published, entry.ref)


def listed_on_of(reason: str | None) -> date | None:
    """The list's own listing date, as an import wrote it into a designation's reason."""
    m = LISTED_ON.search(reason or "")
    return date.fromisoformat(m[1]) if m else None


def slug_ref(prefix: str, ref: str) -> str:
    """``QDi.001`` -> ``un-qdi-001``: a subject id from the list's own reference."""
    return prefix + "-" + re.sub(r"[^a-z0-9]+", "-", ref.lower()).strip("-")


def clean(text: str | None) -> str:
    """Whitespace collapsed and trimmed ('' for None)."""
    return " ".join((text or "").split())
