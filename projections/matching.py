"""The name matcher behind ``search`` and ``screen`` (and the HTTP API): one score, 0 to 1.

What a score means: how much of two names is the same name once both are written in plain
Latin letters and folded (scripts transliterated, spelling variants met, word order ignored).

- 1.0: the same words (``Калашников Александр`` and ``KALASHNIKOV, Aleksandr``);
- 0.9 and more: the same name with a small difference: a typo, an initial for a given
  name, another transliteration;
- ``MIDDLE`` (0.9): the given name and surname of a name with middle names or a
  patronymic besides (``Igor Krasnov`` for ``KRASNOV, Igor Viktorovich``);
- ``DEFAULT_THRESHOLD`` (0.87) and more: a ``match``: screening treats it as the same name;
- ``DEFAULT_THRESHOLD - POSSIBLE_MARGIN`` and more: ``possible``: a person must look;
- below: ``clear``: not the same name.

Birth date, country and kind, when the query gives them, raise or lower the score of a
candidate whose record has them (``adjust``); a kind that contradicts the query rules the
candidate out. The threshold was chosen from measurement on the real UN and OFAC lists
(``bench/matching.py``, results in ``bench/results/matching.json``); the matcher holds no
names from those lists: only the rules of scripts and spelling below.

How: every name becomes folded ASCII words (``words``, ``projections.transliteration``);
two names' words are scored by ``projections.similarity``; this module ranks candidates.
Each script is transliterated by
``anyascii``; Chinese and Korean syllables become one word each (lists write ``KIM Jong Un``),
Korean from the Revised Romanization towards the McCune-Reischauer forms lists use. A query
word is paired with the most similar unused word of a name (``rapidfuzz`` normalised Indel
similarity, or the similarity of the words' consonants), and the name is also compared
written as one word (``Abd al-Malik`` / ``Abdalmalik``). A query in a script that writes no
short vowels (Arabic, Hebrew) is compared by its consonants, word by word too, and its
letters that Persian names read otherwise (ض as z) get that reading as well. A Cyrillic query
whose every word is one Korean syllable in the Kontsevich system (``Ким Чен Ын``) also gets
the Korean readings of its letters. Candidates come from an inverted index of word keys (the
word, its consonants, its first and last three letters) before being scored exactly: in
memory (``build_index``, for screening many names against the same subjects) or persistent
(``projections.name_index``, kept by the catch-up, for ``search`` and the web).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from anyascii import anyascii

from ledger.errors import InvalidValue
from projections.queries import SubjectRow
from projections.similarity import (
    ABJAD,
    JOINED_ARTICLE,
    MIDDLE,
    ONE_WORD,
    PARTICLES,
    SKELETON,
    VOWELS_ONLY,
    WEIGHT_MAX,
    full_score,
    name_score,
)
from projections.transliteration import (
    _WORD,
    _words,
    abjad_readings,
    consonants,
    first,
    fold,
    korean_readings,
    syllable_groups,
    words,
    words_of,
)

__all__ = [
    "ABJAD",
    "CANDIDATES",
    "DEFAULT_THRESHOLD",
    "JOINED_ARTICLE",
    "MATCHER_VERSION",
    "MIDDLE",
    "ONE_WORD",
    "POSSIBLE_MARGIN",
    "SKELETON",
    "TIES",
    "VOWELS_ONLY",
    "WEIGHT_MAX",
    "Candidate",
    "MatchIndex",
    "Matcher",
    "Named",
    "Query",
    "abjad_readings",
    "adjust",
    "build_index",
    "check_threshold",
    "consonants",
    "fold",
    "full_score",
    "index_keys",
    "key_weight",
    "korean_readings",
    "name_score",
    "preselected",
    "query_keys",
    "query_words",
    "rank",
    "score",
    "status",
    "words",
    "words_of",
]

T = TypeVar("T")

MATCHER_VERSION = "5"
"""Bump when any score may change: a certificate names the version that answered it."""

DEFAULT_THRESHOLD = 0.87
"""A ``match`` at or above this score (measured: bench/results/matching.json)."""

POSSIBLE_MARGIN = 0.07
"""``possible`` from ``threshold - POSSIBLE_MARGIN`` up to the threshold."""

CANDIDATES = 60
"""How many names the index hands to exact scoring for one query (and those tied with the
last of them, up to ``TIES``)."""

TIES = 2 * CANDIDATES


def score(query: str, name: str) -> float:
    """The score of a name as written for a query as written."""
    q, abjad = query_words(Query(query))
    groups = syllable_groups(query, q)
    return round(full_score(q, name, _words(name)[0], abjad, groups, query), 3)


# ------------------------------------------------------------------ queries and candidates


@dataclass(frozen=True)
class Query:
    """What is screened: a name, and what else is known of whom it names."""

    name: str
    birth_date: date | None = None
    country: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Candidate:
    subject: SubjectRow
    score: float
    name_score: float
    matched: str
    """The name or alias that matched best."""
    reasons: tuple[str, ...]
    """What moved the score from the name's own: ``birth date differs`` and the like."""


def adjust(query: Query, subject: SubjectRow, value: float) -> tuple[float, list[str]] | None:
    """The name score moved by birth date and country; None when the kind rules it out."""
    reasons: list[str] = []
    if query.kind and subject.kind != query.kind:
        return None
    if query.birth_date and subject.birth_date:
        if query.birth_date == subject.birth_date:
            value += 0.05
            reasons.append("same birth date")
        elif query.birth_date.year == subject.birth_date.year:
            value += 0.02
            reasons.append("same birth year")
        elif abs(query.birth_date.year - subject.birth_date.year) > 1:
            value -= 0.15
            reasons.append("birth date differs")
    if query.country and subject.nationality:
        q, n = _country(query.country), _country(subject.nationality)
        if q and n:
            if q == n or q in n or n in q:
                value += 0.03
                reasons.append("same country")
            else:
                value -= 0.05
                reasons.append("country differs")
    return max(0.0, min(1.0, value)), reasons


def _country(text: str) -> str:
    return " ".join(_WORD.findall(anyascii(text).lower()))


def status(value: float, threshold: float) -> str:
    """``match``, ``possible`` or ``clear`` for a score."""
    if value >= threshold:
        return "match"
    if value >= threshold - POSSIBLE_MARGIN:
        return "possible"
    return "clear"


def check_threshold(threshold: float) -> float:
    if not 0.0 < threshold <= 1.0:
        raise InvalidValue(f"--threshold {threshold} is not a score: give one in (0, 1]")
    return threshold


def _keys(word: str) -> list[str]:
    if "/" in word:
        return [k for a in word.split("/") for k in _keys(a)]
    keys = [word]
    c = consonants(word)
    if len(c) >= 2:
        keys.append("c:" + c)
    if len(word) >= 4:
        keys += ["p:" + word[:3], "s:" + word[-3:]]
    return keys


def _abjad_keys(joined: str) -> list[str]:
    c = consonants(joined)
    return ["t:" + c[i : i + 3] for i in range(len(c) - 2)]


def index_keys(key: Sequence[str]) -> set[str]:
    """The keys under which a name (as ``words``) is indexed."""
    return {k for w in key for k in _keys(w)} | set(_abjad_keys("".join(key)))


def query_keys(key: Sequence[str], abjad: bool) -> set[str]:
    """The keys a query (as ``words``) looks up: its consonant trigrams only from an abjad.

    Not its particles' (``al``, ``bin``): held by hundreds of names, they would choose every
    ``AL-X, Muhammad`` before ``DEIF, Muhammed`` for ``AL-DAYF, Muhammad``; they weigh a letter
    in the score, and the index keeps them (a query of particles alone still looks them up)."""
    named = [w for w in key if w not in PARTICLES] or list(key)
    keys = {k for w in named for k in _keys(w)}
    if abjad:
        keys |= set(_abjad_keys("".join(map(first, key))))
    return keys


def key_weight(holders: int, names: int) -> int | None:
    """A key's weight in the pre-selection (idf); None for a key too common to select by.

    Common keys (``muhammad``, ``s:nov``) say little; keys held by more than a fifth of the
    names (and more than 50) are left out of the pre-selection.
    """
    if holders <= 0 or holders > max(50, names // 5):
        return None
    # In thousandths, so that sums are exact and equal in SQL and here (ties matter below).
    return round(1000 * (math.log(max(1, names) / holders) + 0.1))


def preselected(weighed: Sequence[tuple[T, int]]) -> list[T]:
    """The names to score exactly, from (name, weight) best first: the first ``CANDIDATES``
    and every name tied with the last of them (up to ``TIES`` in all), so that which of
    several equally weighed names are scored does not depend on the order of storage."""
    if len(weighed) <= CANDIDATES:
        return [n for n, _ in weighed]
    last = weighed[CANDIDATES - 1][1]
    return [n for n, w in weighed[:TIES] if w >= last]


def query_words(query: Query) -> tuple[tuple[str, ...], bool]:
    """The query's name as ``words`` and whether it was written in an abjad; refused empty."""
    key, abjad = _words(query.name)
    if not key:
        raise InvalidValue(
            f"the name {query.name!r} has no letters or digits to match; give a name"
        )
    if abjad:
        return abjad_readings(query.name, key), abjad
    return korean_readings(query.name, key), abjad


Named = tuple[SubjectRow, str, Sequence[str]]
"""A candidate name: its subject, the name as written, the name as ``words``."""


def _rank_of(subject: SubjectRow, name: str) -> int:
    """Where ``name`` stands among the subject's names: 0 for its main name."""
    names = [subject.name, *subject.aliases]
    return names.index(name) if name in names else len(names)


def rank(query: Query, candidates: Iterable[Named], *, floor: float, limit: int) -> list[Candidate]:
    """Candidates scored exactly: subjects scoring at least ``floor``, best first (ties by
    name), at most ``limit``; a subject counts once, by its best name."""
    key, abjad = query_words(query)
    groups = syllable_groups(query.name, key)
    best: dict[str, Candidate] = {}
    scored: dict[tuple[str, tuple[str, ...]], float] = {}  # namesakes are scored once
    for subject, name, name_key in candidates:
        held_score = scored.get((name, tuple(name_key)))
        if held_score is None:
            held_score = scored[name, tuple(name_key)] = full_score(
                key, name, name_key, abjad, groups, query.name
            )
        raw = held_score
        if raw < floor - 0.2:  # no birth date or country lifts it that far
            continue
        moved = adjust(query, subject, raw)
        if moved is None:
            continue
        value, reasons = moved
        value = round(value, 3)
        if value < floor:
            continue
        held = best.get(subject.subject_id)
        if (
            held is None
            or value > held.score
            # Equal scores: the name that comes first among the subject's own (its main name,
            # then its aliases in order), whatever order the candidates came in (a set's order
            # varies with the process's hash seed).
            or (value == held.score and _rank_of(subject, name) < _rank_of(subject, held.matched))
        ):
            best[subject.subject_id] = Candidate(
                subject, value, round(raw, 3), name, tuple(reasons)
            )
    ranked = sorted(best.values(), key=lambda c: (-c.score, c.subject.name.lower()))
    return ranked[:limit]


class Matcher(Protocol):
    """What ``search`` and the web ask of an index: the in-memory ``MatchIndex`` or the
    persistent one (``projections.name_index.StoredIndex``)."""

    def match(self, query: Query, *, floor: float, limit: int = 5) -> list[Candidate]: ...


class MatchIndex:
    """Every name and alias of some subjects, with an inverted index of their word keys."""

    def __init__(
        self,
        subjects: Iterable[SubjectRow],
        stored: Mapping[str, Sequence[tuple[str, Sequence[str]]]] | None = None,
    ) -> None:
        """``stored``: the names of each subject already as ``words`` (by subject id), as the
        persistent index keeps them; else each name is transliterated and folded here."""
        self.subjects: list[SubjectRow] = []
        self.owner: list[int] = []
        self.names: list[str] = []
        self.keys: list[tuple[str, ...]] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for s in subjects:
            index = len(self.subjects)
            self.subjects.append(s)
            own = dict.fromkeys([s.name, *s.aliases])
            if stored is not None:
                held = dict(stored.get(s.subject_id, ()))
                named = [(n, tuple(held[n])) for n in own if n in held]
            else:
                named = [(n, _words(n)[0]) for n in own]
            for name, key in named:
                if not key:
                    continue
                position = len(self.names)
                self.owner.append(index)
                self.names.append(name)
                self.keys.append(key)
                for k in index_keys(key):
                    postings[k].append(position)
        count = len(self.names)
        self.postings: dict[str, tuple[list[int], int]] = {}
        for k, v in postings.items():
            weight = key_weight(len(v), count)
            if weight is not None:
                self.postings[k] = (v, weight)

    def __len__(self) -> int:
        return len(self.subjects)

    def _preselect(self, key: Sequence[str], abjad: bool) -> list[int]:
        weights: dict[int, int] = defaultdict(int)
        for k in query_keys(key, abjad):
            found = self.postings.get(k)
            if found is None:
                continue
            positions, weight = found
            for p in positions:
                weights[p] += weight
        if len(weights) <= CANDIDATES:
            return list(weights)
        # The best TIES by weight (ties by position), without sorting every name found.
        best = heapq.nsmallest(TIES, weights.items(), key=lambda pw: (-pw[1], pw[0]))
        return preselected(best)

    def match(self, query: Query, *, floor: float, limit: int = 5) -> list[Candidate]:
        """Subjects scoring at least ``floor``, best first (ties by name), at most ``limit``."""
        key, abjad = query_words(query)
        chosen = self._preselect(key, abjad)
        return rank(
            query,
            ((self.subjects[self.owner[p]], self.names[p], self.keys[p]) for p in chosen),
            floor=floor,
            limit=limit,
        )


def build_index(subjects: Iterable[SubjectRow]) -> MatchIndex:
    """The index the matcher searches: built once per ledger state and set of subjects.

    (Kept behind this one function so that a persistent index can take its place.)
    """
    return MatchIndex(subjects)
