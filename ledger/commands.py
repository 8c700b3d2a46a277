"""The commands: one typed definition per kind of change to the ledger.

Each command is a frozen dataclass whose fields, types, defaults and documentation are
written once, here. From them come the JSON Lines ``data`` schema (:data:`SCHEMAS`), the
README's field table (:func:`markdown_table`, checked by a test), and the CLI options of the
append commands (checked against them by a test). The CLI, JSON Lines import and the list
importers (``ledger.adapters``) all build these commands; ``ledger.handlers`` has one
handler per command.

A new kind of change: a command here (with its ``type_name``), its event and rule in
``ledger.domain``, its handler in ``ledger.handlers``.
"""

# ruff: noqa: RUF009 - arg() returns a dataclasses.field, which ruff cannot see through

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

FieldKind = Literal[
    "text", "opt_text", "date", "opt_date", "texts", "dates", "opt_dates", "int", "bool"
]
"""How a field is written in JSON Lines: a string, a string or null, a ``YYYY-MM-DD``
date, a date or null, a list of strings, a list of dates, a list of dates or null (null:
unchanged), a whole number, true/false."""


def arg(
    kind: FieldKind,
    *,
    required: bool = False,
    key: str | None = None,
    note: str = "",
    default: Any = dataclasses.MISSING,
) -> Any:
    """A command field: its JSON kind, whether a JSON line must give it, its name in the
    ``data`` object when that differs (``key``), and a note for the field table."""
    if default is dataclasses.MISSING and not required:
        default = {"texts": (), "dates": (), "bool": False}.get(kind)
    metadata = {"kind": kind, "required": required, "key": key, "note": note}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True, kw_only=True)
class Command:
    """A request to change the ledger; checked and turned into events by its handler."""

    type_name: ClassVar[str]
    """The event type it records, as JSON Lines names it."""
    table_note: ClassVar[str] = ""

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Command:
        """The command from a JSON Lines ``data`` object already checked against its schema."""
        return cls(**{name: data[key] for name, key, _, _ in fields_of(cls)})


_FIELDS: dict[str, tuple[tuple[str, str, FieldKind, bool], ...]] = {}


def fields_of(cls: type[Command]) -> tuple[tuple[str, str, FieldKind, bool], ...]:
    """(attribute, JSON key, kind, required) of each field of a command, in order."""
    found = _FIELDS.get(cls.type_name)
    if found is None:
        found = _FIELDS[cls.type_name] = tuple(
            (f.name, f.metadata["key"] or f.name, f.metadata["kind"], f.metadata["required"])
            for f in dataclasses.fields(cls)
        )
    return found


SOURCES = "Where this comes from: URLs or citations."


@dataclass(frozen=True, kw_only=True)
class RegisterSubject(Command):
    """Register a subject under a stable id."""

    type_name: ClassVar[str] = "subject_registered"
    subject_id: str | None = arg("opt_text", key="id", note="default: a slug of the name")
    name: str = arg("text", required=True)
    kind: str | None = arg(
        "opt_text", default="person", note="person, organization, vessel, aircraft; default person"
    )
    aliases: Sequence[str] = arg("texts")
    birth_date: dt.date | None = arg("opt_date")
    alt_birth_dates: Sequence[dt.date] = arg(
        "dates", note='other birth dates, the "alt. DOB" of lists'
    )
    nationality: str | None = arg("opt_text")
    position: str | None = arg("opt_text")
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class AmendSubject(Command):
    """Change a subject's name, kind, aliases or attributes."""

    type_name: ClassVar[str] = "subject_amended"
    subject_id: str = arg("text", required=True, key="id")
    name: str | None = arg("opt_text")
    kind: str | None = arg("opt_text")
    add_aliases: Sequence[str] = arg("texts")
    remove_aliases: Sequence[str] = arg("texts")
    birth_date: dt.date | None = arg("opt_date")
    alt_birth_dates: Sequence[dt.date] | None = arg(
        "opt_dates", note="all the other birth dates; null: unchanged"
    )
    nationality: str | None = arg("opt_text")
    position: str | None = arg("opt_text")
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class RegisterAuthority(Command):
    """Register an authority beyond the built-in table."""

    type_name: ClassVar[str] = "authority_registered"
    code: str = arg("text", required=True)
    name: str = arg("text", required=True)
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class Designate(Command):
    """List a subject by an authority under a regime from an effective date.

    ``listed_after`` / ``start_unknown``: the source gives no listing date; the subject is
    certainly listed from ``effective`` and possibly since the day after ``listed_after``
    (or since any earlier day).
    """

    type_name: ClassVar[str] = "designated"
    subject: str = arg("text", required=True)
    authority: str = arg("text", required=True)
    regime: str = arg("text", required=True)
    effective: dt.date = arg("date", required=True)
    measures: Sequence[str] = arg("texts")
    until: dt.date | None = arg("opt_date")
    legal_act: str | None = arg("opt_text")
    reason: str | None = arg("opt_text")
    listed_after: dt.date | None = arg("opt_date")
    start_unknown: bool = arg("bool", note="true/false")
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class AmendDesignation(Command):
    """Change a designation in force: measures added or removed, end date, legal act."""

    type_name: ClassVar[str] = "amended"
    subject: str = arg("text", required=True)
    authority: str = arg("text", required=True)
    regime: str = arg("text", required=True)
    effective: dt.date = arg("date", required=True)
    add_measures: Sequence[str] = arg("texts")
    remove_measures: Sequence[str] = arg("texts")
    until: dt.date | None = arg("opt_date")
    legal_act: str | None = arg("opt_text")
    reason: str | None = arg("opt_text")
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class Delist(Command):
    """End a designation from an effective date (its last day is the day before)."""

    type_name: ClassVar[str] = "delisted"
    subject: str = arg("text", required=True)
    authority: str = arg("text", required=True)
    regime: str = arg("text", required=True)
    effective: dt.date = arg("date", required=True)
    reason: str | None = arg("opt_text")
    legal_act: str | None = arg("opt_text")
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class Announce(Command):
    """Record a coordination announcement: the first authority acts with the others."""

    type_name: ClassVar[str] = "announced"
    title: str = arg("text", required=True)
    date: dt.date = arg("date", required=True)
    authorities: Sequence[str] = arg("texts", required=True, note="the announcing one first")
    subjects: Sequence[str] = arg("texts")
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class RecordRuling(Command):
    """Record a court ruling; with ``annuls`` it ends a designation from its date."""

    type_name: ClassVar[str] = "ruling_recorded"
    subject: str = arg("text", required=True)
    court: str = arg("text", required=True)
    date: dt.date = arg("date", required=True)
    outcome: str = arg("text", required=True)
    summary: str | None = arg("opt_text")
    annuls: bool = arg("bool", note="true/false")
    authority: str | None = arg("opt_text", note="with `annuls`")
    regime: str | None = arg("opt_text", note="with `annuls`")
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class Retract(Command):
    """Retract the event at a ledger position; it stays in the store, without effect."""

    type_name: ClassVar[str] = "retracted"
    position: int = arg("int", required=True, note="of the event retracted")
    reason: str = arg("text", required=True)
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class RecordListImport(Command):
    """One snapshot of an official list imported (the last event of ``import-list``)."""

    type_name: ClassVar[str] = "list_imported"
    table_note: ClassVar[str] = "written by `import-list`; kept so that a restore reproduces it"
    list_name: str = arg("text", required=True)
    authority: str = arg("text", required=True)
    published: dt.date = arg("date", required=True)
    digest: str = arg("text", required=True)
    entries: int = arg("int", required=True)
    summary: str = arg("text", required=True)
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class Link(Command):
    """Record that two subjects are one party (a person on two lists, say)."""

    type_name: ClassVar[str] = "linked"
    subjects: Sequence[str] = arg("texts", required=True, note="two subject ids")
    reason: str = arg("text", required=True)
    despite: str | None = arg("opt_text", note="why, when their birth dates have none in common")
    sources: Sequence[str] = arg("texts")


@dataclass(frozen=True, kw_only=True)
class Unlink(Command):
    """Record that two linked subjects are not (or no longer believed to be) one party."""

    type_name: ClassVar[str] = "unlinked"
    subjects: Sequence[str] = arg("texts", required=True, note="two subject ids")
    reason: str = arg("text", required=True)
    sources: Sequence[str] = arg("texts")


COMMANDS: dict[str, type[Command]] = {
    cls.type_name: cls
    for cls in (
        RegisterSubject,
        AmendSubject,
        RegisterAuthority,
        Designate,
        AmendDesignation,
        Delist,
        Announce,
        RecordRuling,
        Retract,
        RecordListImport,
        Link,
        Unlink,
    )
}
"""The command of each JSON Lines event type."""

SCHEMAS: dict[str, dict[str, tuple[FieldKind, bool]]] = {
    name: {key: (kind, required) for _, key, kind, required in fields_of(cls)}
    for name, cls in COMMANDS.items()
}
"""type -> {data field: (kind, required)}: what a JSON Lines line may hold."""


def markdown_table() -> str:
    """The README's table of the JSON Lines ``data`` fields, one row per event type."""
    rows = ["| type | data fields (required in bold) |", "| --- | --- |"]
    for name, cls in COMMANDS.items():
        cells = []
        for f in dataclasses.fields(cls):
            key = f.metadata["key"] or f.name
            text = f"**`{key}`**" if f.metadata["required"] else f"`{key}`"
            if f.metadata["note"]:
                text += f" ({f.metadata['note']})"
            cells.append(text)
        row = f"| `{name}` | {', '.join(cells)}"
        if cls.table_note:
            row += f" ({cls.table_note})"
        rows.append(row + " |")
    return "\n".join(rows) + "\n"
