"""A parsed snapshot against what the ledger holds: the differences as ordinary ledger events.

One import is one unit of work, appended in one transaction (all or nothing), recorded by the
importing user:

- ``subject_registered`` for an entry whose subject id is new, ``subject_amended`` when its
  name, kind, aliases, birth date, nationality or position changed (the list's subjects mirror
  the list: an alias the list dropped is removed);
- ``designated`` for an (entry, regime) not in force on the publication date. Effective on the
  list's own listing date when that date is after the previous imported snapshot's publication
  date (any date with no earlier snapshot) and not after this one's; otherwise on this
  publication date, with the window as data: ``listed_after`` the previous snapshot's
  publication date, or ``start_unknown`` when there is none (an entry restored with an older
  listing date gets the same window);
- ``amended`` (effective on the publication date) when the measures changed;
- ``delisted`` (effective on the publication date, the window in ``reason``) for a designation
  that an import of this list created and whose entry, or programme, is gone. A programme
  change is therefore a delisting under the old regime and a designation under the new one;
- last, ``list_imported``: the list, its publication date, the digest of the file(s), counts.

Each event cites the snapshot and the entry in ``sources`` (``un-consolidated@2018-10-29/
QDi.001``), which its events read as the field ``list_entry`` (``ledger.facts``); the
designations that imports of a list created are found by that field, and only those are
amended or delisted: a hand-entered designation with the same key is left alone.
Importing the same snapshot again adds nothing; another file with an imported publication
date, or a snapshot older than the latest imported, is refused.

A snapshot that would delist more of the list's designations in force than a limit allows
(:class:`DelistingLimit`, by default 10%) is refused before anything is written: a cut or
damaged file that still parses must not empty the list. A dry run computes everything, the
limit included, and writes nothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, cast

from eventsourcing.utils import get_topic

from ledger.adapters.snapshot import (
    Entry,
    InvalidSnapshot,
    ProgressFn,
    Snapshot,
    source_tag,
)
from ledger.commands import (
    AmendDesignation,
    AmendSubject,
    Delist,
    Designate,
    RecordListImport,
    RegisterSubject,
)
from ledger.domain import (
    Designation,
    OfficialList,
    Subject,
    check_snapshot_order,
    designation_uuid,
    list_uuid,
    subject_uuid,
)
from ledger.errors import Conflict, InvalidValue, LedgerError
from ledger.errors import SnapshotConflict as SnapshotConflict
from ledger.handlers import handle
from ledger.timeline import in_force
from ledger.unit_of_work import Receipt, UnitOfWork

ONE_DAY = timedelta(days=1)
PREFETCH = 500
"""Entries whose aggregates are loaded with one query."""


class TooManyDelistings(Conflict):
    """The snapshot would delist more of the list's designations than the limit allows."""


_COUNT = re.compile(r"^\d{1,9}$")
_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d{1,6})?)%$")


@dataclass(frozen=True)
class DelistingLimit:
    """How many of a list's designations in force one snapshot may delist: a number or a
    percentage of those in force."""

    count: int | None = None
    percent: Fraction | None = None

    @classmethod
    def parse(cls, text: str) -> DelistingLimit:
        """``1092`` or ``25%`` (up to 100%); anything else raises InvalidValue."""
        text = text.strip()
        if _COUNT.match(text):
            return cls(count=int(text))
        m = _PERCENT.match(text)
        if m and Fraction(m[1]) <= 100:
            return cls(percent=Fraction(m[1]))
        raise InvalidValue(
            f"{text!r} is neither a number of delistings (such as 1092) nor a percentage "
            "from 0% to 100% (such as 25%)"
        )

    def allows(self, delisting: int, in_force: int) -> bool:
        if self.count is not None:
            return delisting <= self.count
        assert self.percent is not None
        return delisting * 100 <= self.percent * in_force

    def __str__(self) -> str:
        if self.count is not None:
            return str(self.count)
        assert self.percent is not None
        return f"{float(self.percent):g}%"


DEFAULT_DELISTING_LIMIT = DelistingLimit(percent=Fraction(10))


@dataclass(frozen=True)
class Change:
    """One change an import makes (or a dry run would make)."""

    subject: str
    regime: str | None
    """None for a change to the subject itself."""
    change: str
    """subject registered, subject amended, designated, amended, delisted."""
    effective: date | None
    """None for a change to the subject itself (subjects have no effective date)."""
    reference: str
    """The entry's reference in the list (QDi.001, 31252)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "regime": self.regime,
            "change": self.change,
            "effective": self.effective,
            "reference": self.reference,
        }


@dataclass
class ImportReport:
    """What one snapshot import recorded."""

    list_name: str
    published: date
    digest: str
    entries: int
    counts: str
    previous: date | None
    already_imported: bool = False
    registered: int = 0
    subjects_amended: int = 0
    designated: int = 0
    amended: int = 0
    delisted: int = 0
    left_alone: int = 0
    """(entry, regime) pairs in force by a hand-entered designation: not touched."""
    in_force: int = 0
    """Designations that imports of this list made, in force on the publication date before
    this import: what the delisting limit is measured against."""
    limit: DelistingLimit = DEFAULT_DELISTING_LIMIT
    refusal: str | None = None
    """Why the limit refuses this import (a dry run reports it instead of raising)."""
    dry_run: bool = False
    planned: int = 0
    """Events the import appends (or, in a dry run, would append)."""
    notes: tuple[str, ...] = ()
    """What the parser noticed and did not refuse (Snapshot.notes)."""
    every_change: list[Change] = field(default_factory=list)
    """Each change, in the order of the events."""
    receipts: list[Receipt] = field(default_factory=list)

    def raise_refusal(self) -> None:
        """Refuse the import when the delisting limit does."""
        if self.refusal is not None:
            raise TooManyDelistings(self.refusal)

    @property
    def events(self) -> int:
        return len(self.receipts)

    def changes(self) -> str:
        return (
            f"{self.registered} subjects registered, {self.subjects_amended} amended; "
            f"{self.designated} designations added, {self.amended} amended, "
            f"{self.delisted} delisted"
        )


def plan_snapshot(
    b: UnitOfWork,
    snapshot: Snapshot,
    *,
    progress: ProgressFn | None = None,
    max_delistings: DelistingLimit | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Turn a snapshot into commands, handled in the unit of work (which the caller commits,
    all or nothing, unless it is a dry run).

    ``refusal`` says when it would delist more than ``max_delistings`` allows (default 10%
    of the list's designations in force): :meth:`ImportReport.raise_refusal` refuses it.
    """
    spec = snapshot.spec
    published = snapshot.published
    agg = b.get(list_uuid(spec.name), OfficialList)
    imported = agg.imported() if agg is not None else {}
    previous = max(imported) if imported else None
    report = ImportReport(
        spec.name,
        published,
        snapshot.digest,
        len(snapshot.entries),
        snapshot.describe_counts(),
        previous,
        limit=max_delistings or DEFAULT_DELISTING_LIMIT,
        dry_run=dry_run,
        notes=snapshot.notes,
    )
    if published in imported and imported[published] == snapshot.digest:
        report.already_imported = True
        return report
    check_snapshot_order(spec.name, published, snapshot.digest, imported)
    held = _held(b, spec.name, spec.authority)
    present: set[tuple[str, str]] = set()
    total = len(snapshot.entries)
    for done, entry in enumerate(snapshot.entries, start=1):
        if done % PREFETCH == 1:  # the aggregates of the next entries, in one query
            _prefetch(b, spec.authority, snapshot.entries[done - 1 : done - 1 + PREFETCH])
        try:
            _entry(b, snapshot, entry, previous, held, present, report)
        except InvalidSnapshot:
            raise
        except LedgerError as e:
            raise InvalidSnapshot(f"{entry.where}: {e}") from None
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)
    gone = sorted(set(held) - present)
    for i in range(0, len(gone), PREFETCH):
        b.prefetch(designation_uuid(sid, spec.authority, r) for sid, r in gone[i : i + PREFETCH])
    for key in gone:
        _delist(b, snapshot, key, held[key], previous, report)
    report.in_force += report.delisted
    if not report.limit.allows(report.delisted, report.in_force):
        report.refusal = _refusal(spec.name, report.delisted, report.in_force)
    summary = f"{snapshot.describe_counts()}; {report.changes()}"
    handle(
        b,
        RecordListImport(
            list_name=spec.name,
            authority=spec.authority,
            published=published,
            digest=snapshot.digest,
            entries=len(snapshot.entries),
            summary=summary,
            sources=[spec.url],
        ),
    )
    report.planned = len(b.pending)
    return report


def _refusal(list_name: str, delisting: int, in_force: int) -> str:
    percent = math.ceil(Fraction(delisting * 100, in_force)) if in_force else 100
    noun = "designation" if in_force == 1 else "designations"
    return (
        f"this snapshot would delist {delisting:,} of the {in_force:,} {noun} of {list_name} "
        f"in force; if that is right, allow it with --max-delistings {delisting} "
        f"(or a percentage such as --max-delistings {percent}%)"
    )


def _prefetch(b: UnitOfWork, authority: str, entries: tuple[Entry, ...]) -> None:
    ids = [subject_uuid(e.subject_id) for e in entries]
    ids += [
        designation_uuid(e.subject_id, authority, p.regime) for e in entries for p in e.programmes
    ]
    b.prefetch(ids)


def _held(b: UnitOfWork, list_name: str, authority: str) -> dict[tuple[str, str], str]:
    """(subject, regime) -> list reference of every designation an import of the list made."""
    topics = [get_topic(Designation.Designated), get_topic(Designation.Redesignated)]
    held: dict[tuple[str, str], str] = {}
    for _, event in b.events(topics):
        designated = cast(Designation.Designated, event)
        entry = designated.list_entry
        if entry is not None and entry.list_name == list_name and designated.authority == authority:
            held[(designated.subject, designated.regime)] = entry.ref
    return held


def _window(previous: date | None, published: date) -> str:
    if previous is None:
        return f"on or before {published}"
    return f"between {previous + ONE_DAY} and {published}"


def _base(snapshot: Snapshot, entry: Entry) -> str:
    text = f"{snapshot.spec.title} {entry.ref}"
    if entry.listed_on is not None:
        text += f", listed on {entry.listed_on}"
    return text


def effective_date(entry: Entry, previous: date | None, published: date) -> date:
    """When a designation new to the ledger takes effect (see the module's docstring)."""
    listed = entry.listed_on
    if listed is not None and (previous is None or listed > previous) and listed <= published:
        return listed
    return published


def _designation_terms(
    snapshot: Snapshot, entry: Entry, previous: date | None, effective: date
) -> tuple[str, date | None, bool]:
    """The reason, ``listed_after`` and ``start_unknown`` of a new designation."""
    published = snapshot.published
    base = _base(snapshot, entry)
    listed = entry.listed_on
    if listed is not None and effective == listed:
        return base, None, False
    if listed is not None and listed > published:
        return f"{base}; that is after the publication date: in force from {published}", None, False
    # No usable listing date (none, or older than the previous snapshot that lacked the
    # entry: restored): certain from this snapshot, possible since the previous one.
    return base, previous, previous is None


def _entry(
    b: UnitOfWork,
    snapshot: Snapshot,
    entry: Entry,
    previous: date | None,
    held: dict[tuple[str, str], str],
    present: set[tuple[str, str]],
    report: ImportReport,
) -> None:
    spec = snapshot.spec
    published = snapshot.published
    tag = [source_tag(spec.name, published, entry.ref)]
    _subject(b, entry, tag, report)
    for programme in entry.programmes:
        key = (entry.subject_id, programme.regime)
        present.add(key)
        key_id = designation_uuid(entry.subject_id, spec.authority, programme.regime)
        agg = b.get(key_id, Designation)
        seg = in_force(agg.segments(), published) if agg is not None else None
        if seg is None:
            effective = effective_date(entry, previous, published)
            reason, listed_after, start_unknown = _designation_terms(
                snapshot, entry, previous, effective
            )
            designate = Designate(
                subject=entry.subject_id,
                authority=spec.authority,
                regime=programme.regime,
                effective=effective,
                measures=programme.measures,
                legal_act=programme.legal_act,
                reason=reason,
                listed_after=listed_after,
                start_unknown=start_unknown,
                sources=tag,
            )
            handle(b, designate)
            report.designated += 1
            report.every_change.append(
                Change(entry.subject_id, programme.regime, "designated", effective, entry.ref)
            )
        elif key not in held:
            report.left_alone += 1
        else:
            report.in_force += 1
            wanted = set(programme.measures)
            adding = sorted(wanted - set(seg.measures))
            removing = sorted(set(seg.measures) - wanted)
            if adding or removing:
                reason = (
                    f"{_base(snapshot, entry)}; measures changed {_window(previous, published)}"
                )
                amend = AmendDesignation(
                    subject=entry.subject_id,
                    authority=spec.authority,
                    regime=programme.regime,
                    effective=published,
                    add_measures=adding,
                    remove_measures=removing,
                    reason=reason,
                    sources=tag,
                )
                handle(b, amend)
                report.amended += 1
                report.every_change.append(
                    Change(entry.subject_id, programme.regime, "amended", published, entry.ref)
                )


def _subject(b: UnitOfWork, entry: Entry, tag: list[str], report: ImportReport) -> None:
    agg = b.get(subject_uuid(entry.subject_id), Subject)
    state = agg.state() if agg is not None else None
    if state is None:
        register = RegisterSubject(
            subject_id=entry.subject_id,
            name=entry.name,
            kind=entry.kind,
            aliases=entry.aliases,
            birth_date=entry.birth_date,
            alt_birth_dates=entry.alt_birth_dates,
            nationality=entry.nationality,
            position=entry.position,
            sources=tag,
        )
        handle(b, register)
        report.registered += 1
        report.every_change.append(
            Change(entry.subject_id, None, "subject registered", None, entry.ref)
        )
        return
    add = [a for a in entry.aliases if a not in state.aliases]
    remove = [a for a in state.aliases if a not in entry.aliases]

    def changed(new: Any, old: Any) -> Any:
        return new if new is not None and new != old else None

    fields = {
        "name": changed(entry.name, state.name),
        "kind": changed(entry.kind, state.kind),
        "birth_date": changed(entry.birth_date, state.birth_date),
        "nationality": changed(entry.nationality, state.nationality),
        "position": changed(entry.position, state.position),
    }
    if entry.alt_birth_dates != state.alt_birth_dates:
        fields["alt_birth_dates"] = list(entry.alt_birth_dates)
    if not add and not remove and all(v is None for v in fields.values()):
        return
    handle(
        b,
        AmendSubject(
            subject_id=entry.subject_id,
            add_aliases=add,
            remove_aliases=remove,
            sources=tag,
            **fields,
        ),
    )
    report.subjects_amended += 1
    report.every_change.append(Change(entry.subject_id, None, "subject amended", None, entry.ref))


def _delist(
    b: UnitOfWork,
    snapshot: Snapshot,
    key: tuple[str, str],
    ref: str,
    previous: date | None,
    report: ImportReport,
) -> None:
    spec = snapshot.spec
    published = snapshot.published
    subject, regime = key
    agg = b.get(designation_uuid(subject, spec.authority, regime), Designation)
    if agg is None or in_force(agg.segments(), published) is None:
        return  # ended already (an earlier import, or by hand)
    was = f"on the list of {previous}, " if previous is not None else ""
    reason = (
        f"{spec.title} {ref}: removed from the list {_window(previous, published)} "
        f"({was}not on that of {published})"
    )
    try:
        delist = Delist(
            subject=subject,
            authority=spec.authority,
            regime=regime,
            effective=published,
            reason=reason,
            sources=[source_tag(spec.name, published, ref)],
        )
        handle(b, delist)
    except LedgerError as e:
        raise InvalidSnapshot(f"{spec.name} {ref} ({subject}, {regime}): {e}") from None
    report.delisted += 1
    report.every_change.append(Change(subject, regime, "delisted", published, ref))
