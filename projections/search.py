"""Name search: subjects whose names or aliases match, the way people spell them.

Every name is transliterated to ASCII (``anyascii``: Cyrillic, Greek, Arabic, accents), lower-
cased and cut into words; each word is folded so that common spelling variants meet
(``Aleksandr`` / ``Alexander``: x -> ks; ``Viktor`` / ``Victor``: c -> k; ``Yuri`` / ``Iuri``:
y -> i; doubled letters once). A query word is paired with the most similar unused word of a
name (``rapidfuzz`` normalised Indel similarity, which forgives small typos); word order does
not matter (``KALASHNIKOV, Alexander``). The score (0-100) weighs the query's words by length,
with a smaller part for how much of the name the query covers, so "Alexander Kalashnikov"
ranks the person before "Kalashnikov Concern". A subject scores as its best name or alias.

Candidates are first narrowed in C (``rapidfuzz.process.extract`` with a token-set ratio),
then scored as above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from anyascii import anyascii
from rapidfuzz import fuzz, process

from ledger.errors import InvalidValue
from ledger.vocabulary import today
from projections import queries
from projections.queries import Row, SubjectRow

if TYPE_CHECKING:
    from projections.time import KnownAt
    from projections.views import Views

CANDIDATES = 300
"""How many names the fast pre-selection keeps for exact scoring."""

MIN_SCORE = 70.0
"""Hits below this score are not shown."""

_WORD = re.compile(r"[a-z0-9]+")
_FOLDS = [
    (re.compile(r"x"), "ks"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"q"), "k"),
    (re.compile(r"c(?!h)"), "k"),
    (re.compile(r"w"), "v"),
    (re.compile(r"y"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),
]


def fold(word: str) -> str:
    """One word's spelling-variant key: ``alexander`` -> ``aleksander``."""
    for pattern, replacement in _FOLDS:
        word = pattern.sub(replacement, word)
    return word


def words(text: str) -> list[str]:
    """A name as folded ASCII words: ``KALASHNIKOV, Александр`` -> [kalashnikov, aleksandr]."""
    return [fold(w) for w in _WORD.findall(anyascii(text).lower())]


def _similarity(q: str, n: str) -> float:
    if q == n:
        return 1.0
    if len(q) == 1 or len(n) == 1:  # an initial
        return 0.8 if q[0] == n[0] else 0.0
    value = fuzz.ratio(q, n) / 100.0
    return value if value >= 0.5 else 0.0


def score(query: list[str], name: list[str]) -> float:
    """How well a name answers a query, 0..100 (both as ``words``)."""
    if not query or not name:
        return 0.0
    pairs = sorted(
        ((_similarity(q, n), i, j) for i, q in enumerate(query) for j, n in enumerate(name)),
        reverse=True,
    )
    best = [0.0] * len(query)
    used_q: set[int] = set()
    used_n: set[int] = set()
    for sim, i, j in pairs:
        if sim <= 0.0:
            break
        if i in used_q or j in used_n:
            continue
        used_q.add(i)
        used_n.add(j)
        best[i] = sim
    q_weight = sum(len(q) for q in query)
    q_part = sum(b * len(q) for b, q in zip(best, query, strict=True)) / q_weight
    covered = sum(len(name[j]) for j in used_n) / sum(len(n) for n in name)
    return round(100.0 * (0.8 * q_part + 0.2 * covered), 1)


@dataclass(frozen=True)
class SearchHit(Row):
    subject_id: str
    name: str
    kind: str
    score: float
    matched: str
    """The name or alias that matched best."""
    sanctions: list[str]
    """Designations in force on the date asked about: ``AUTHORITY: regime``."""


class NameIndex:
    """Every name and alias of the subjects known at one position, ready to be searched."""

    def __init__(self, subjects: list[SubjectRow]) -> None:
        self.subjects = subjects
        self.owner: list[int] = []
        self.names: list[str] = []
        self.keys: list[list[str]] = []
        self.joined: list[str] = []
        for index, s in enumerate(subjects):
            for name in dict.fromkeys([s.name, *s.aliases]):
                key = words(name)
                if not key:
                    continue
                self.owner.append(index)
                self.names.append(name)
                self.keys.append(key)
                self.joined.append(" ".join(key))

    def search(
        self, query: str, *, limit: int = 10, min_score: float = MIN_SCORE
    ) -> list[tuple[SubjectRow, float, str]]:
        """(subject, score, matched name), best first; ties by name."""
        q = words(query)
        if not q:
            raise InvalidValue(
                f"the query {query!r} has no letters or digits to search for; give a name"
            )
        found = process.extract(
            " ".join(q),
            self.joined,
            scorer=fuzz.token_set_ratio,
            limit=max(CANDIDATES, limit * 20),
            score_cutoff=30,
        )
        best: dict[int, tuple[float, str]] = {}
        for _, _, position in found:
            value = score(q, self.keys[position])
            owner = self.owner[position]
            if value >= min_score and value > best.get(owner, (-1.0, ""))[0]:
                best[owner] = (value, self.names[position])
        ranked = sorted(
            best.items(), key=lambda item: (-item[1][0], self.subjects[item[0]].name.lower())
        )
        return [(self.subjects[i], value, name) for i, (value, name) in ranked[:limit]]


def search(
    views: Views,
    query: str,
    *,
    limit: int = 10,
    at: date | None = None,
    known_at: str | KnownAt | None = None,
    min_score: float = MIN_SCORE,
) -> list[SearchHit]:
    """Ranked subjects whose names or aliases match, with where each is sanctioned on ``at``."""
    if limit < 1:
        raise InvalidValue("--limit must be at least 1")
    index = NameIndex(views.subjects(known_at=known_at))
    return hits(views, index, query, limit=limit, at=at, known_at=known_at, min_score=min_score)


def hits(
    views: Views,
    index: NameIndex,
    query: str,
    *,
    limit: int = 10,
    at: date | None = None,
    known_at: str | KnownAt | None = None,
    min_score: float = MIN_SCORE,
) -> list[SearchHit]:
    """Search a prepared index (several queries against one ledger state)."""
    found = index.search(query, limit=limit, min_score=min_score)
    k = views.resolve_known_at(known_at)
    day = at if at is not None else today()
    sanctions: dict[str, list[str]] = {}
    with views.engine.connect() as conn:
        for s, _, _ in found:
            sanctions[s.subject_id] = [
                f"{x.authority}: {x.regime}" + ("" if x.certain else " (possibly listed)")
                for x in queries.listings(
                    conn, at=day, k=k, subject_id=s.subject_id, include_uncertain=True
                )
            ]
    return [
        SearchHit(s.subject_id, s.name, s.kind, value, matched, sanctions[s.subject_id])
        for s, value, matched in found
    ]
