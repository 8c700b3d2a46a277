"""Candidate links: pairs of subjects that may be one party, scored, with their evidence.

The names are scored by the matcher of ``search`` and ``screen`` (``projections.matching``):
each name and alias of a subject against every name and alias of the others. Birth dates,
nationality and kind are evidence beside the name (``Evidence``); a pair of different kinds
is never suggested, and pairs already one party or unlinked by someone are left out. The
score: the name's, raised when a birth date is in common, lowered when the birth dates or
the nationalities differ (``pair_score``). No names from any list are built in.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ledger.errors import InvalidValue
from projections import queries
from projections.matching import DEFAULT_THRESHOLD, MatchIndex, Query, build_index, words
from projections.parties import groups, unlinked_pairs
from projections.queries import Row, SubjectRow

if TYPE_CHECKING:
    from projections.time import KnownAt
    from projections.views import Views

DEFAULT_MIN_SCORE = 0.9
"""What ``links suggest`` lists by default (measured: bench/results/links.json)."""

SAME_BIRTH = 0.08
"""Added when the two have a birth date in common."""

BIRTH_DIFFERS = 0.25
"""Taken off when both give birth dates and none is in common."""

COUNTRY_DIFFERS = 0.05
"""Taken off when both give a nationality and they differ."""

NAME_ONLY = 0.05
"""Taken off for organizations, vessels and aircraft: their name is the only evidence, so
it must match more closely (``Korea Pugang Trading`` is not ``Korea Namgang Trading``)."""

MARGIN = 0.03
"""A subject's suggestions: its best pair and those within this of it, on either side (the
same company on both lists outscores its namesakes; those are left out)."""

LEGAL_FORMS = frozenset(["co", "company", "corp", "corporation", "inc", "llc", "ltd", "limited"])
"""Words of a company's legal form: an organization's name is also compared without them."""

PERSON_BIRTH_UNKNOWN = 0.15
"""Taken off for two persons when one gives no birth date: a namesake is common, and a name
alone does not make a person the same (measured: bench/results/links.json)."""


@dataclass(frozen=True)
class Evidence(Row):
    name_score: float
    names: list[str]
    """The two names that matched best (one of each)."""
    birth_date: str
    """``same`` (a date in common), ``differs``, or ``unknown`` (one gives none)."""
    nationality: str
    """``same``, ``differs`` or ``unknown``."""
    kind: str


@dataclass(frozen=True)
class Suggestion(Row):
    subject_a: str
    name_a: str
    subject_b: str
    name_b: str
    score: float
    evidence: Evidence
    authorities_a: list[str]
    authorities_b: list[str]


def births(s: SubjectRow) -> set[date]:
    found = set(s.alt_birth_dates)
    if s.birth_date is not None:
        found.add(s.birth_date)
    return found


def _country(text: str | None) -> str:
    return " ".join(words(text)) if text else ""


def evidence(a: SubjectRow, b: SubjectRow, name_score: float, names: list[str]) -> Evidence:
    ba, bb = births(a), births(b)
    birth = "unknown" if not ba or not bb else ("same" if ba & bb else "differs")
    ca, cb = _country(a.nationality), _country(b.nationality)
    country = "unknown" if not ca or not cb else ("same" if ca == cb else "differs")
    return Evidence(name_score, names, birth, country, a.kind)


def pair_score(e: Evidence) -> float:
    value = e.name_score
    if e.birth_date == "same":
        value += SAME_BIRTH
    elif e.birth_date == "differs":
        value -= BIRTH_DIFFERS
    elif e.kind == "person":
        value -= PERSON_BIRTH_UNKNOWN
    if e.kind != "person":
        value -= NAME_ONLY
    if e.nationality == "differs":
        value -= COUNTRY_DIFFERS
    return round(max(0.0, min(1.0, value)), 3)


def plain(s: SubjectRow) -> SubjectRow:
    """An organization, vessel or aircraft with its names also written without an
    abbreviation in brackets (``... (OMM)``) and without the words of a legal form."""
    if s.kind == "person":
        return s
    extra = []
    for name in [s.name, *s.aliases]:
        bare = _BRACKETS.sub(" ", name)
        kept = [w for w in bare.split() if words(w) and words(w)[0] not in LEGAL_FORMS]
        text = " ".join(kept)
        if kept and text != name and text not in extra:
            extra.append(text)
    return dataclasses.replace(s, aliases=[*s.aliases, *extra]) if extra else s


_BRACKETS = re.compile(r"\([^)]*\)")


def best_names(
    index: MatchIndex, a: SubjectRow, floor: float, limit: int
) -> dict[str, tuple[float, list[str]]]:
    """The subjects of the index whose names match one of ``a``'s: id -> (name score, names)."""
    found: dict[str, tuple[float, list[str]]] = {}
    for name in dict.fromkeys([a.name, *a.aliases]):
        if not words(name):
            continue
        for c in index.match(Query(name, kind=a.kind), floor=floor, limit=limit):
            held = found.get(c.subject.subject_id)
            if held is None or c.name_score > held[0]:
                found[c.subject.subject_id] = (c.name_score, [name, c.matched])
    return found


def similar(views: Views, subject_id: str) -> list[SubjectRow]:
    """Registered subjects, other than this one and not of its party, whose name matches
    its own and who have a birth date in common with it (the registration warning)."""
    k = views.resolve_known_at(None)
    everyone = views.subjects()
    me = next((s for s in everyone if s.subject_id == subject_id), None)
    if me is None or not births(me):
        return []
    with views.engine.connect() as conn:
        party = groups(conn, k=k)
    # Only subjects of its kind born on one of its days can be named: the matcher's index over
    # those few, not over the whole ledger (a registration on a large ledger stays quick).
    mine_born = births(me)
    index = build_index(
        s
        for s in everyone
        if s.subject_id != subject_id and s.kind == me.kind and births(s) & mine_born
    )
    found = best_names(index, me, DEFAULT_THRESHOLD, 10)
    mine = party.get(subject_id, subject_id)
    return [
        s
        for s in index.subjects
        if s.subject_id in found
        and births(s) & births(me)
        and s.kind == me.kind
        and party.get(s.subject_id, s.subject_id) != mine
    ]


def subjects_of_authority(views: Views, k: int) -> dict[str, list[str]]:
    """Subject id -> the authorities with a designation of it (any date), as known at ``k``."""
    from sqlalchemy import select

    from projections.tables import periods

    found: dict[str, set[str]] = {}
    with views.engine.connect() as conn:
        rows = conn.execute(
            select(periods.c.subject_id, periods.c.authority)
            .where(queries.known(periods, k))
            .distinct()
        )
        for r in rows:
            found.setdefault(r.subject_id, set()).add(r.authority)
    return {s: sorted(a) for s, a in found.items()}


def suggest(
    views: Views,
    *,
    authority: str | None = None,
    with_: str | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
    known_at: str | KnownAt | None = None,
    limit: int = 5,
) -> list[Suggestion]:
    """Pairs not yet one party (nor unlinked) that may be, best first; writes nothing.

    ``authority``: one side is designated by it; ``with_``: the other side by that one.
    """
    if not 0.0 < min_score <= 1.0:
        raise InvalidValue(f"--min-score {min_score} is not a score: give one in (0, 1]")
    k = views.resolve_known_at(known_at)
    everyone = {s.subject_id: s for s in views.subjects(known_at=str(k))}
    by = subjects_of_authority(views, k)

    def side(code: str | None) -> list[SubjectRow]:
        if code is None:
            return list(everyone.values())
        code = code.upper()
        found = [s for sid, s in everyone.items() if code in by.get(sid, ())]
        if not found:  # a mistyped authority would read as "nothing to link"
            with views.engine.connect() as conn:
                queries.check_filters(conn, authority=code)
        return found

    left, right = side(authority), side(with_)
    with views.engine.connect() as conn:
        party = groups(conn, k=k)
        refused = unlinked_pairs(conn, k=k)
    index = build_index(plain(s) for s in right)
    floor = max(0.0, min_score - SAME_BIRTH)
    found: dict[tuple[str, str], Suggestion] = {}
    for a in map(plain, left):
        pa = party.get(a.subject_id, a.subject_id)
        for bid, (name_score, names) in best_names(index, a, floor, limit).items():
            pb = party.get(bid, bid)
            if pa == pb or (min(a.subject_id, bid), max(a.subject_id, bid)) in refused:
                continue
            pair = (min(pa, pb), max(pa, pb))  # one suggestion per two parties: the best
            b = everyone[bid]
            e = evidence(a, b, name_score, names)
            value = pair_score(e)
            held = found.get(pair)
            if value >= min_score and (
                held is None or _rank(value, e) < _rank(held.score, held.evidence)
            ):
                found[pair] = Suggestion(
                    a.subject_id,
                    a.name,
                    bid,
                    b.name,
                    value,
                    e,
                    by.get(a.subject_id, []),
                    by.get(bid, []),
                )
    return sorted(_near_best(found.values()), key=lambda s: _rank(s.score, s.evidence))


def _near_best(found: Iterable[Suggestion]) -> list[Suggestion]:
    """Each subject's best suggestion and those within ``MARGIN`` of it, on both sides."""
    found = list(found)
    best: dict[str, float] = {}
    for s in found:
        for sid in (s.subject_a, s.subject_b):
            best[sid] = max(best.get(sid, 0.0), s.score)
    return [s for s in found if s.score >= max(best[s.subject_a], best[s.subject_b]) - MARGIN]


def _rank(score: float, e: Evidence) -> tuple[float, int, float, list[str]]:
    """Best first: the score, then a birth date in common, then the names' own score."""
    return (-score, ["same", "unknown", "differs"].index(e.birth_date), -e.name_score, e.names)


def as_rows(found: Iterable[Suggestion]) -> list[dict[str, object]]:
    """Flat rows for a table or CSV (JSON keeps the evidence as an object)."""
    return [
        {
            "score": s.score,
            "subject_a": s.subject_a,
            "name_a": s.name_a,
            "authorities_a": s.authorities_a,
            "subject_b": s.subject_b,
            "name_b": s.name_b,
            "authorities_b": s.authorities_b,
            "name_score": s.evidence.name_score,
            "birth_date": s.evidence.birth_date,
            "nationality": s.evidence.nationality,
            "kind": s.evidence.kind,
        }
        for s in found
    ]
