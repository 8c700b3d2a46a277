"""Name search: subjects whose names or aliases match, the way people spell them.

The matcher is ``projections.matching`` (the one ``screen`` uses): scores from 0 to 1,
tolerant of scripts, word order, initials, missing middle names, diacritics and typos. Its
status says whether it reaches the threshold (``match``), the ``possible`` band below it, or
only part of the name matches (``partial``, from ``PARTIAL_FLOOR``): a search is a lookup, and
a surname alone ("Krasnov", about 0.65-0.75 against a full name) must still find the person.
Screening, which decides, does not list partial hits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from ledger.errors import InvalidValue
from ledger.vocabulary import today
from projections import queries, showing
from projections.matching import (
    DEFAULT_THRESHOLD,
    POSSIBLE_MARGIN,
    Matcher,
    Query,
    build_index,
    check_threshold,
    score,
    status,
    words,
)
from projections.name_index import StoredIndex
from projections.queries import Row

if TYPE_CHECKING:
    from projections.time import KnownAt
    from projections.views import Views

PARTIAL_FLOOR = 0.6
"""The lowest score a search lists (below the ``possible`` band: ``partial``)."""

__all__ = ["SearchHit", "build_index", "hits", "score", "search", "words"]


@dataclass(frozen=True)
class SearchHit(Row):
    subject_id: str
    name: str
    kind: str
    score: float
    status: str
    """``match`` at or above the threshold, ``possible`` in the band below it, else
    ``partial`` (part of the name matches, such as a surname alone)."""
    matched: str
    """The name or alias that matched best."""
    sanctions: list[str]
    """Designations in force on the date asked about: ``AUTHORITY: regime`` (of the whole
    party: a party is found once, by its best-matching subject)."""
    party: list[str] = field(default_factory=list)
    """The other subjects linked with it as one party."""


def search(
    views: Views,
    query: str,
    *,
    limit: int = 10,
    at: date | None = None,
    known_at: str | KnownAt | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    kind: str | None = None,
) -> list[SearchHit]:
    """Ranked subjects whose names or aliases match, with where each is sanctioned on ``at``."""
    if limit < 1:
        raise InvalidValue("--limit must be at least 1")
    k = views.resolve_known_at(known_at)
    index = StoredIndex(views.engine, k)
    return _hits(views, index, query, limit=limit, at=at, k=k, threshold=threshold, kind=kind)


def hits(
    views: Views,
    index: Matcher,
    query: str,
    *,
    limit: int = 10,
    at: date | None = None,
    known_at: str | KnownAt | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    kind: str | None = None,
) -> list[SearchHit]:
    """Search an index: the persistent one as known at a position (``StoredIndex``), or an
    in-memory one (``build_index``)."""
    k = views.resolve_known_at(known_at)
    return _hits(views, index, query, limit=limit, at=at, k=k, threshold=threshold, kind=kind)


def _hits(
    views: Views,
    index: Matcher,
    query: str,
    *,
    limit: int,
    at: date | None,
    k: int,
    threshold: float,
    kind: str | None,
) -> list[SearchHit]:
    check_threshold(threshold)
    floor = min(threshold - POSSIBLE_MARGIN, PARTIAL_FLOOR)
    found = index.match(Query(query, kind=kind), floor=floor, limit=limit)
    day = at if at is not None else today()
    party: dict[str, list[str]] = {}
    with views.engine.connect() as conn:
        # Each hit's party, then the designations of every member, read together.
        run = queries.runner(conn)
        members = showing.parties(run, [c.subject.subject_id for c in found], k)
        for c in found:
            sid = c.subject.subject_id
            if any(i in party for i in members[sid]):
                continue  # its party was found by a better-matching subject
            party[sid] = members[sid]
        listed = showing.designations_of(
            run, sorted({i for p in party.values() for i in p}), day, k
        )
    sanctions = {
        sid: [
            f"{x.authority}: {x.regime}" + ("" if x.certain else " (possibly listed)")
            for i in ids
            for x in listed[i]
        ]
        for sid, ids in party.items()
    }
    return [
        SearchHit(
            c.subject.subject_id,
            c.subject.name,
            c.subject.kind,
            c.score,
            status(c.score, threshold).replace("clear", "partial"),
            c.matched,
            sanctions[c.subject.subject_id],
            party[c.subject.subject_id][1:],
        )
        for c in found
        if c.subject.subject_id in party
    ]
