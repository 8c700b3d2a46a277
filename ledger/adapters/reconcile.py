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
QDi.001``); the designations that imports of a list created are found by that tag, and only
those are amended or delisted: a hand-entered designation with the same key is left alone.
Importing the same snapshot again adds nothing; another file with an imported publication
date, or a snapshot older than the latest imported, is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.utils import get_topic

from ledger.adapters.snapshot import (
    Entry,
    InvalidSnapshot,
    ProgressFn,
    Snapshot,
    parse_tag,
    source_tag,
)
from ledger.domain import (
    Designation,
    OfficialList,
    Subject,
    designation_uuid,
    list_uuid,
    subject_uuid,
)
from ledger.errors import Conflict, InvalidValue, LedgerError
from ledger.records import check_date, check_text
from ledger.timeline import in_force

if TYPE_CHECKING:
    from ledger.application import Ledger, Receipt, _Batch

ONE_DAY = timedelta(days=1)
PREFETCH = 500
"""Entries whose aggregates are loaded with one query."""
LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class SnapshotConflict(Conflict):
    """The snapshot contradicts the imports already recorded (order, or another file)."""


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
    receipts: list[Receipt] = field(default_factory=list)

    @property
    def events(self) -> int:
        return len(self.receipts)

    def changes(self) -> str:
        return (
            f"{self.registered} subjects registered, {self.subjects_amended} amended; "
            f"{self.designated} designations added, {self.amended} amended, "
            f"{self.delisted} delisted"
        )


def import_snapshot(
    ledger: Ledger, snapshot: Snapshot, *, progress: ProgressFn | None = None
) -> ImportReport:
    """Turn a snapshot into events and append them in one transaction (all or nothing)."""
    spec = snapshot.spec
    published = snapshot.published
    b = ledger._new_batch()
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
    )
    if published in imported and imported[published] == snapshot.digest:
        report.already_imported = True
        return report
    _check_order(spec.name, published, snapshot.digest, imported)
    held = _held(ledger, spec.name, spec.authority)
    present: set[tuple[str, str]] = set()
    total = len(snapshot.entries)
    for done, entry in enumerate(snapshot.entries, start=1):
        if done % PREFETCH == 1:  # the aggregates of the next entries, in one query
            _prefetch(b, spec.authority, snapshot.entries[done - 1 : done - 1 + PREFETCH])
        try:
            _entry(ledger, b, snapshot, entry, previous, held, present, report)
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
        _delist(ledger, b, snapshot, key, held[key], previous, report)
    summary = f"{snapshot.describe_counts()}; {report.changes()}"
    record_import(
        ledger,
        b,
        list_name=spec.name,
        authority=spec.authority,
        published=published,
        digest=snapshot.digest,
        entries=len(snapshot.entries),
        summary=summary,
        sources=[spec.url],
    )
    report.receipts = ledger._commit(b)
    return report


def _prefetch(b: _Batch, authority: str, entries: tuple[Entry, ...]) -> None:
    ids = [subject_uuid(e.subject_id) for e in entries]
    ids += [
        designation_uuid(e.subject_id, authority, p.regime) for e in entries for p in e.programmes
    ]
    b.prefetch(ids)


def record_import(
    ledger: Ledger,
    b: _Batch,
    *,
    list_name: str,
    authority: str,
    published: date,
    digest: str,
    entries: int,
    summary: str,
    sources: list[str],
) -> None:
    """The ``list_imported`` event (also the command behind a ``list_imported`` JSON line)."""
    list_name = check_text(list_name, "list")
    if not LIST_NAME.match(list_name):
        raise InvalidValue(f"list name {list_name!r} must be lower-case letters, digits, dashes")
    code = ledger._authority(b, authority)
    check_date(published, "publication date")
    digest = check_text(digest, "digest").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InvalidValue("digest must be 64 hexadecimal characters (SHA-256)")
    if entries < 0:
        raise InvalidValue("entries must not be negative")
    agg = b.get(list_uuid(list_name), OfficialList)
    imported = agg.imported() if agg is not None else {}
    if published in imported and imported[published] == digest:
        raise SnapshotConflict(f"the {list_name} snapshot of {published} is already imported")
    _check_order(list_name, published, digest, imported)
    fields: dict[str, Any] = {
        "list_name": list_name,
        "authority": code,
        "published": published,
        "digest": digest,
        "entries": entries,
        "summary": check_text(summary, "summary"),
        "recorded_by": b.by,
        "sources": ledger._texts(sources, "source"),
    }
    if agg is None:
        agg = OfficialList._create(OfficialList.Imported, id=list_uuid(list_name), **fields)
    else:
        agg.import_again(**fields)
    b.collect(agg, f"imported the {list_name} snapshot of {published} ({entries} entries)")


def _check_order(list_name: str, published: date, digest: str, imported: dict[date, str]) -> None:
    if published in imported:
        raise SnapshotConflict(
            f"a different {list_name} snapshot of {published} is already imported "
            f"(digest {imported[published][:12]}..., this file {digest[:12]}...); "
            "a publication date is imported once"
        )
    latest = max(imported) if imported else None
    if latest is not None and published < latest:
        raise SnapshotConflict(
            f"the {list_name} snapshot of {published} is older than the latest imported "
            f"({latest}); import snapshots in order of publication"
        )


def _held(ledger: Ledger, list_name: str, authority: str) -> dict[tuple[str, str], str]:
    """(subject, regime) -> list reference of every designation an import of the list made."""
    topics = [get_topic(Designation.Designated), get_topic(Designation.Redesignated)]
    held: dict[tuple[str, str], str] = {}
    for n in ledger._scan(topics):
        state = json.loads(n.state)
        if state.get("authority") != authority:
            continue
        for source in state.get("sources", []):
            tag = parse_tag(source)
            if tag is not None and tag[0] == list_name:
                held[(state["subject"], state["regime"])] = tag[2]
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
    ledger: Ledger,
    b: _Batch,
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
    _subject(ledger, b, entry, tag, report)
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
            ledger._designate(
                b,
                entry.subject_id,
                spec.authority,
                programme.regime,
                effective,
                programme.measures,
                None,
                programme.legal_act,
                reason,
                tag,
                listed_after,
                start_unknown,
            )
            report.designated += 1
        elif key not in held:
            report.left_alone += 1
        else:
            wanted = set(programme.measures)
            adding = sorted(wanted - set(seg.measures))
            removing = sorted(set(seg.measures) - wanted)
            if adding or removing:
                reason = (
                    f"{_base(snapshot, entry)}; measures changed {_window(previous, published)}"
                )
                ledger._amend(
                    b,
                    entry.subject_id,
                    spec.authority,
                    programme.regime,
                    published,
                    adding,
                    removing,
                    None,
                    None,
                    reason,
                    tag,
                )
                report.amended += 1


def _subject(ledger: Ledger, b: _Batch, entry: Entry, tag: list[str], report: ImportReport) -> None:
    agg = b.get(subject_uuid(entry.subject_id), Subject)
    state = agg.state() if agg is not None else None
    if state is None:
        ledger._register_subject(
            b,
            entry.name,
            entry.subject_id,
            entry.kind,
            entry.aliases,
            entry.birth_date,
            entry.nationality,
            entry.position,
            tag,
        )
        report.registered += 1
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
    if not add and not remove and all(v is None for v in fields.values()):
        return
    ledger._amend_subject(
        b,
        entry.subject_id,
        fields["name"],
        fields["kind"],
        add,
        remove,
        fields["birth_date"],
        fields["nationality"],
        fields["position"],
        tag,
    )
    report.subjects_amended += 1


def _delist(
    ledger: Ledger,
    b: _Batch,
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
        ledger._delist(
            b,
            subject,
            spec.authority,
            regime,
            published,
            reason,
            None,
            [source_tag(spec.name, published, ref)],
        )
    except LedgerError as e:
        raise InvalidSnapshot(f"{spec.name} {ref} ({subject}, {regime}): {e}") from None
    report.delisted += 1
