"""``show``: one subject's report for its whole party, over any runner of the prebuilt
statements (``projections.statements``).

Without SQLAlchemy: the library runs the statements through SQLAlchemy, the SQLite fast path
(``projections.fast``) runs their compiled text through ``sqlite3``; both hand this module
rows with the same attributes and types, so the two answer alike by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, NoReturn, Protocol

from projections.rows import (
    Fact,
    Listing,
    PartyLink,
    SubjectReport,
    SubjectRow,
    fact_of,
    listing_of,
    subject_row_of,
)


class Run(Protocol):
    """Runs a statement of ``projections.statements.STATEMENTS`` by name: its rows."""

    def __call__(self, name: str, /, **params: Any) -> list[Any]: ...


Unknown = Callable[[str], NoReturn]
"""What to do about a subject not known at ``k`` (raise, with hints or not)."""


def subject(run: Run, subject_id: str, k: int, unknown: Unknown) -> SubjectRow:
    rows = run("SUBJECT_AT", subject_id=subject_id, k=k)
    if not rows:
        unknown(subject_id)
    return subject_row_of(rows[0])


def designations(run: Run, subject_id: str, at: date, k: int) -> list[Listing]:
    """In force on ``at``, then those only possibly in force then (see ``queries.listings``)."""
    found = [listing_of(r) for r in run("LISTED", subject_id=subject_id, at=at, k=k)]
    last = None
    for r in run("POSSIBLY_LISTED", subject_id=subject_id, at=at, k=k):
        key = (r.subject_id, r.authority, r.regime)
        # Possible by two periods: one row, the earlier (a key's rows come together).
        if key != last:
            last = key
            found.append(listing_of(r, certain=False))
    return found


def designations_of(run: Run, ids: list[str], at: date, k: int) -> dict[str, list[Listing]]:
    """``designations`` of each of ``ids`` (every id a key), two statements for them all."""
    found: dict[str, list[Listing]] = {i: [] for i in ids}
    if not ids:
        return found
    for r in run("LISTED_OF", ids=ids, at=at, k=k):
        found[r.subject_id].append(listing_of(r))
    last = None
    for r in run("POSSIBLY_LISTED_OF", ids=ids, at=at, k=k):
        # Ordered by subject name and id within each authority and regime: a subject's rows
        # of one authority and regime come together, as in ``designations``.
        key = (r.subject_id, r.authority, r.regime)
        if key != last:
            last = key
            found[r.subject_id].append(listing_of(r, certain=False))
    return found


def facts_of(rows: Iterable[Any], type_name: str, at: date | None) -> list[Fact]:
    """Of a subject's log rows, the announcements or rulings dated on or before ``at``."""
    chosen = [
        r
        for r in rows
        if r.type == type_name
        and (at is None or (r.effective_date is not None and r.effective_date <= at))
    ]
    chosen.sort(key=lambda r: (r.effective_date, r.position))
    return [fact_of(r) for r in chosen]


def alone(run: Run, subject_id: str, at: date, k: int, unknown: Unknown) -> SubjectReport:
    """The subject's own report (its party left aside); its log rows are read once for
    both rulings and announcements."""
    row = subject(run, subject_id, k, unknown)
    events = run("EVENTS_OF_SUBJECT", subject_id=subject_id, k=k)
    return SubjectReport(
        subject=row,
        designations=designations(run, subject_id, at, k),
        rulings=facts_of(events, "ruling_recorded", at),
        announcements=facts_of(events, "announced", at),
    )


def members(run: Run, subject_id: str, k: int) -> list[str]:
    """The subject's party as known at ``k``: itself first, then the others by id."""
    seen = {subject_id}
    frontier = [subject_id]
    while frontier:
        found: set[str] = set()
        for r in run("LINKS_OF", ids=frontier, k=k):
            found.update((r.subject_a, r.subject_b))
        frontier = sorted(found - seen)
        seen.update(frontier)
    return [subject_id, *sorted(seen - {subject_id})]


def parties(run: Run, ids: list[str], k: int) -> dict[str, list[str]]:
    """``members`` of each of ``ids``, their links read together (one statement a step of
    the widest party's breadth, not one a subject)."""
    linked: dict[str, set[str]] = {}
    seen = set(ids)
    frontier = sorted(seen)
    while frontier:
        found: set[str] = set()
        for r in run("LINKS_OF", ids=frontier, k=k):
            linked.setdefault(r.subject_a, set()).add(r.subject_b)
            linked.setdefault(r.subject_b, set()).add(r.subject_a)
            found.update((r.subject_a, r.subject_b))
        frontier = sorted(found - seen)
        seen.update(frontier)
    out = {}
    for subject_id in ids:
        party = {subject_id}
        step = [subject_id]
        while step:
            step = sorted({o for x in step for o in linked.get(x, ()) if o not in party})
            party.update(step)
        out[subject_id] = [subject_id, *sorted(party - {subject_id})]
    return out


def party_links(run: Run, ids: list[str], k: int) -> list[PartyLink]:
    """The links standing at ``k`` among these subjects, with their events' reasons."""
    standing = {(r.link_id, r.link_version) for r in run("LINKS_OF", ids=ids, k=k)}
    if not standing:
        return []
    found = []
    for r in run("LINK_EVENTS", ids=ids, k=k):
        if (r.aggregate_id, r.version) in standing:
            found.append(
                PartyLink(
                    position=r.position,
                    subjects=list(r.data["subjects"]),
                    reason=r.data["reason"],
                    despite=r.data.get("despite"),
                    recorded_at=r.recorded_at,
                    recorded_by=r.recorded_by,
                    sources=list(r.data.get("sources", [])),
                )
            )
            standing.discard((r.aggregate_id, r.version))
    return sorted(found, key=lambda link: link.position)


def show(run: Run, subject_id: str, at: date, k: int, unknown: Unknown) -> SubjectReport:
    """The subject's report for its whole party: every member's designations, rulings
    and announcements on ``at`` as known at ``k``, and the links that make the party."""
    report = alone(run, subject_id, at, k, unknown)
    ids = members(run, report.subject.subject_id, k)
    if len(ids) == 1:
        return report
    others = [alone(run, other, at, k, unknown) for other in ids[1:]]
    return SubjectReport(
        subject=report.subject,
        designations=_merged([report.designations, *(o.designations for o in others)]),
        rulings=_facts([report.rulings, *(o.rulings for o in others)]),
        announcements=_facts([report.announcements, *(o.announcements for o in others)]),
        party=[o.subject for o in others],
        links=party_links(run, ids, k),
    )


def _merged(lists: Iterable[list[Listing]]) -> list[Listing]:
    rows = [r for rows in lists for r in rows]
    # As one subject's: certain first, each by authority, regime, then who.
    return sorted(rows, key=lambda r: (not r.certain, r.authority, r.regime, r.subject_id))


def _facts(lists: Iterable[list[Fact]]) -> list[Fact]:
    seen: dict[int, Fact] = {}
    for facts in lists:
        for f in facts:
            seen.setdefault(f.position, f)
    return sorted(seen.values(), key=lambda f: (f.date, f.position))
